/**
 * The reverse protocol: each line (LF or CRLF) comes back reversed, LF-ended.
 * A line longer than 4 KiB closes the connection, so a client cannot grow
 * the server's memory.
 */
import type { Protocol } from "../mod.ts";

/** Longest line accepted; a longer one closes the connection. */
const MAX_LINE = 4096;
const NEWLINE = 10;

export const reverse: Protocol = async (conn) => {
  const socket = await conn.handshake();
  let pending = new Uint8Array(0);
  for await (const chunk of socket) {
    const data = concat(pending, chunk);
    let start = 0;
    for (let end = data.indexOf(NEWLINE); end >= 0; end = data.indexOf(NEWLINE, start)) {
      const line = data.subarray(start, end > start && data[end - 1] === 13 ? end - 1 : end);
      await socket.send(concat(line.slice().reverse(), new Uint8Array([NEWLINE])));
      start = end + 1;
    }
    pending = data.slice(start);
    if (pending.length > MAX_LINE) return;
  }
};

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
