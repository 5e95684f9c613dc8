/**
 * The echo example over TLS: the same protocol as examples/echo.ts, with
 * `tcp({...})` swapped for `tls({...})`.
 *
 *   node scripts/run.mjs examples/tls_echo.ts --port 5556 [--cert server.pem --key server.key]
 *   deno run -A examples/tls_echo.ts --port 5556
 *   bun run examples/tls_echo.ts --port 5556
 *
 * Without --cert and --key it makes a self-signed certificate for
 * localhost / 127.0.0.1 at start, with the `openssl` command line (the one
 * outside program this example needs; it exits with a message saying so
 * when openssl is missing). Try it with:
 *
 *   openssl s_client -connect 127.0.0.1:5556 -CAfile <the certificate it prints>
 */
import { listen, tls } from "../mod.ts";
import { flag, numberFlag, startOrExit, stopOnSignal } from "./_args.ts";
import { selfSignedCertificate } from "./_certificate.ts";
import { echo } from "./echo_protocol.ts";

const host = flag("host", "127.0.0.1");
const port = numberFlag("tls_echo", "port", 5556);
const given = { cert: flag("cert", ""), key: flag("key", "") };
const { cert, key } = given.cert !== "" && given.key !== "" ? given : selfSignedCertificate("tls_echo");

const listener = await startOrExit(
  "tls_echo",
  () => listen({ ref: "tls_echo", transport: tls({ host, port, cert, key }), protocol: echo }),
);
console.log(`tls echo listening on ${host}:${listener.port} (certificate ${cert})`);
stopOnSignal(() => listener.stop());
