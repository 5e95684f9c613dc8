/**
 * The raw Deno echo, shared by raw_deno.ts (`Deno.listen`) and
 * raw_tls_deno.ts (`Deno.listenTls`): the idiomatic read/write loop over
 * one 64 KiB buffer per connection.
 *
 * @module
 */
import { control } from "./_control.ts";

/** A `Deno.Conn` or `Deno.TlsConn`, as far as the echo uses it. */
export interface Conn {
  read(buffer: Uint8Array): Promise<number | null>;
  write(bytes: Uint8Array): Promise<number>;
  /** A `TlsConn` has no socket options (Deno leaves Nagle's algorithm on for it). */
  setNoDelay?(enable: boolean): void;
  close(): void;
}
export interface Listener extends AsyncIterable<Conn> {
  readonly addr: { port: number };
  close(): void;
}

async function echo(conn: Conn): Promise<void> {
  const buffer = new Uint8Array(64 * 1024);
  try {
    conn.setNoDelay?.(true);
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

/** Serves the control protocol of `_control.ts` and echoes every connection until the listener closes. */
export async function serve(listener: Listener): Promise<void> {
  control(listener.addr.port, () => listener.close());
  try {
    for await (const conn of listener) void echo(conn);
  } catch {
    // the listener was closed
  }
}
