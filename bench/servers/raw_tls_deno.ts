/**
 * The raw Deno TLS echo server: `Deno.listenTls` and the same read/write
 * loop as raw_deno.ts (see _deno_echo.ts); each connection's handshake runs
 * at its first read.
 *
 *   deno run -A --v8-flags=--expose-gc bench/servers/raw_tls_deno.ts --cert FILE --key FILE [--port N]
 *     (from the repository root, --cert and --key default to bench/build/tls_cert.pem and tls_key.pem,
 *     made by bench/run.mjs)
 *
 * @module
 */
import { flag } from "./_control.ts";
import { type Listener, serve } from "./_deno_echo.ts";

declare const Deno: {
  listenTls(options: { hostname: string; port: number; cert: string; key: string }): Listener;
  readTextFile(path: string): Promise<string>;
};

const [cert, key] = await Promise.all([
  Deno.readTextFile(flag("cert", "bench/build/tls_cert.pem")),
  Deno.readTextFile(flag("key", "bench/build/tls_key.pem")),
]);
await serve(Deno.listenTls({ hostname: "127.0.0.1", port: Number(flag("port", "0")), cert, key }));
