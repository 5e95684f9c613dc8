/**
 * The raw Bun TLS echo server: `Bun.listen` with `tls: { cert, key }` and
 * the same `data` handler as raw_bun.ts (see _bun_echo.ts).
 *
 *   bun run bench/servers/raw_tls_bun.ts --cert FILE --key FILE [--port N]
 *     (from the repository root, --cert and --key default to bench/build/tls_cert.pem and tls_key.pem,
 *     made by bench/run.mjs)
 *
 * @module
 */
import { flag } from "./_control.ts";
import { serve } from "./_bun_echo.ts";

declare const Bun: { file(path: string): unknown };

serve({
  cert: Bun.file(flag("cert", "bench/build/tls_cert.pem")),
  key: Bun.file(flag("key", "bench/build/tls_key.pem")),
});
