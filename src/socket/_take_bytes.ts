/**
 * Taking bytes off the front of a socket's read buffer.
 *
 * @module
 */
import { concat } from "./_gather.ts";

/**
 * Removes `length` bytes (0: the whole first chunk) from the front of
 * `chunks` and returns them. The buffer must hold that many. A read that
 * fits in the first chunk is a view of it, never a copy; only a read that
 * spans chunks copies, once.
 */
export function takeBytes(chunks: Uint8Array[], length: number): Uint8Array {
  const first = chunks[0]!;
  if (length === 0 || first.length === length) {
    chunks.shift();
    return first;
  }
  if (first.length > length) {
    chunks[0] = first.subarray(length);
    return first.subarray(0, length);
  }
  const out = new Uint8Array(length);
  let offset = 0;
  while (offset < length) {
    const chunk = chunks[0]!;
    const need = length - offset;
    if (chunk.length <= need) {
      out.set(chunk, offset);
      offset += chunk.length;
      chunks.shift();
    } else {
      out.set(chunk.subarray(0, need), offset);
      chunks[0] = chunk.subarray(need);
      offset = length;
    }
  }
  return out;
}

/**
 * Removes every byte (`total` of them) from `chunks` and returns them as one
 * array: the chunk itself when there is one, else one copy of them all.
 */
export function takeAll(chunks: Uint8Array[], total: number): Uint8Array {
  if (chunks.length === 1) return chunks.pop()!;
  const out = concat(chunks, total);
  chunks.length = 0;
  return out;
}
