/** Every test file, imported once (a static list, so bundlers see them all). */
import "./socket_conformance_test.ts";
import "./listener_test.ts";
import "./shutdown_test.ts";
import "./options_test.ts";
import "./transport_specific_test.ts";
import "./emfile_test.ts";
import "./examples_test.ts";
