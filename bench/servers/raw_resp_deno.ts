/**
 * The raw Deno RESP twin of examples/resp_server.ts: `Deno.listen` and the
 * idiomatic read/write loop over one 64 KiB buffer per connection, the same
 * parser, one write per batch.
 *
 *   deno run -A --v8-flags=--expose-gc bench/servers/raw_resp_deno.ts [--port N]
 *
 * @module
 */
import { control, flag } from "./_control.ts";
import type { Conn, Listener } from "./_deno_echo.ts";
import { RespConnection } from "./_resp_raw.ts";

declare const Deno: { listen(options: { hostname: string; port: number }): Listener };

async function serveConn(conn: Conn): Promise<void> {
  const buffer = new Uint8Array(64 * 1024);
  const resp = new RespConnection();
  try {
    conn.setNoDelay?.(true);
    for (;;) {
      const n = await conn.read(buffer);
      if (n === null) break;
      const out = resp.feed(buffer.subarray(0, n), true); // the buffer is read into again
      if (out !== undefined) for (let offset = 0; offset < out.length;) offset += await conn.write(out.subarray(offset));
      if (resp.close) break;
    }
  } catch {
    // reset by the peer: nothing to do but close
  } finally {
    try {
      conn.close();
    } catch {
      // already closed
    }
  }
}

const listener = Deno.listen({ hostname: "127.0.0.1", port: Number(flag("port", "0")) });
control(listener.addr.port, () => listener.close());
try {
  for await (const conn of listener) void serveConn(conn);
} catch {
  // the listener was closed
}
