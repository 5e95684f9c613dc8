/**
 * The floor of the idiomatic Corral protocol shape on Deno: the same
 * `for await (const chunk of socket) await send(chunk)` loop over a
 * `Deno.Conn` wrapped by the smallest async iterator that keeps the
 * socket's semantics: each chunk is the reader's own, read with the same
 * adaptive buffer Corral's Deno adapter uses (4 KiB while idle, growing to
 * 256 KiB while a stream flows; a full one is handed over, a short read
 * copied out), so only the rest of Corral is left to compare. See
 * floor_node.ts.
 *
 *   deno run -A --v8-flags=--expose-gc bench/servers/floor_deno.ts [--port N]
 *
 * @module
 */
import { ReadBuffer } from "../../src/runtime/deno/read_buffer.ts";
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

const DONE: IteratorResult<Uint8Array> = { value: undefined, done: true };

function chunks(conn: Conn): AsyncIterableIterator<Uint8Array> {
  const buffer = new ReadBuffer();
  const take = (n: number | null): IteratorResult<Uint8Array> =>
    n === null ? DONE : { value: buffer.take(n), done: false };
  return {
    [Symbol.asyncIterator]() {
      return this;
    },
    next() {
      return conn.read(buffer.next()).then(take);
    },
  };
}

async function send(conn: Conn, chunk: Uint8Array): Promise<void> {
  for (let offset = 0; offset < chunk.length;) offset += await conn.write(chunk.subarray(offset));
}

async function echo(conn: Conn): Promise<void> {
  try {
    conn.setNoDelay(true);
    for await (const chunk of chunks(conn)) await send(conn, chunk);
  } catch {
    // reset by the peer
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
