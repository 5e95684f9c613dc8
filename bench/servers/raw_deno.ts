/**
 * The raw Deno echo server: `Deno.listen` and the idiomatic read/write loop
 * over one 64 KiB buffer per connection (see _deno_echo.ts).
 *
 *   deno run -A --v8-flags=--expose-gc bench/servers/raw_deno.ts [--port N]
 *
 * @module
 */
import { flag } from "./_control.ts";
import { type Listener, serve } from "./_deno_echo.ts";

declare const Deno: { listen(options: { hostname: string; port: number }): Listener };

await serve(Deno.listen({ hostname: "127.0.0.1", port: Number(flag("port", "0")) }));
