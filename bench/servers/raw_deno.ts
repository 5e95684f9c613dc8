/**
 * The raw Deno echo server: `Deno.listen` and the idiomatic read/write loop
 * over one 64 KiB buffer per connection.
 *
 *   deno run -A --v8-flags=--expose-gc bench/servers/raw_deno.ts [--port N]
 *
 * @module
 */
import { control, flag } from "./_control.ts";

interface Conn {
  read(buffer: Uint8Array): Promise<number | null>;
  write(bytes: Uint8Array): Promise<number>;
  setNoDelay(enable: boolean): void;
  close(): void;
}
interface Listener extends AsyncIterable<Conn> {
  readonly addr: { port: number };
  close(): void;
}
declare const Deno: { listen(options: { hostname: string; port: number }): Listener };

async function echo(conn: Conn): Promise<void> {
  const buffer = new Uint8Array(64 * 1024);
  try {
    conn.setNoDelay(true);
    for (;;) {
      const n = await conn.read(buffer);
      if (n === null) break;
      for (let offset = 0; offset < n;) offset += await conn.write(buffer.subarray(offset, n));
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
  for await (const conn of listener) void echo(conn);
} catch {
  // the listener was closed
}
