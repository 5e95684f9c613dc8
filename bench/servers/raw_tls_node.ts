/**
 * The raw Node.js TLS echo server: `node:tls` `createServer` with the same
 * `data` -> `write` echo as raw_node.ts (see _node_echo.ts), on Node.js's
 * defaults otherwise (session tickets included, as a server has them).
 *
 *   node --expose-gc bench/build/raw_tls_node.mjs --cert FILE --key FILE [--port N]
 *     (bundled by bench/run.mjs; from the repository root, --cert and --key default to bench/build/tls_cert.pem
 *     and tls_key.pem, made by bench/run.mjs)
 *
 * @module
 */
import { readFileSync } from "node:fs";
import * as tls from "node:tls";
import { flag } from "./_control.ts";
import { echo, serve } from "./_node_echo.ts";

const cert = readFileSync(flag("cert", "bench/build/tls_cert.pem"));
const key = readFileSync(flag("key", "bench/build/tls_key.pem"));
serve(tls.createServer({ cert, key, noDelay: true }, echo));
