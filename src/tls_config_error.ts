/**
 * The one error for TLS settings that cannot be used, whoever reads them:
 * `listen()` with a `tls()` transport, `tls().connect()` and
 * `tls().upgrade()` fail the same way, with the same codes, on every runtime.
 *
 * @module
 */
import { ListenError } from "./errors.ts";

/**
 * A certificate, key or CA given to `tls()` (or to `connect()` /
 * `upgrade()`) cannot be used. `code` says why:
 *
 * - the file's system code, such as `"ENOENT"`, `"EACCES"` or `"EISDIR"`,
 *   when a path cannot be read;
 * - `"ETLSCONFIG"` when the text is not usable: not PEM, bad base64, not a
 *   certificate or a key, or a key that does not belong to its certificate.
 *
 * The runtime's own error is the `cause`; a private key's text is never in
 * the message. It is a `ListenError`, so code that catches `listen()`'s
 * failures catches it too.
 *
 * @example Telling a bad certificate from a busy port
 * ```ts
 * import assert from "node:assert/strict";
 * import { ListenError, TlsConfigError } from "../mod.ts";
 * const err: unknown = new TlsConfigError("ETLSCONFIG", "tls() option cert is not a PEM certificate");
 * assert(err instanceof TlsConfigError && err instanceof ListenError && err.code === "ETLSCONFIG");
 * ```
 */
export class TlsConfigError extends ListenError {}

/** The code of a `TlsConfigError` whose text (not its file) is unusable. */
export const TLS_CONFIG = "ETLSCONFIG";
