/**
 * One buffer out of a batch of outgoing chunks, for `sendv()`: the batch
 * leaves in one write, and its chunks are the caller's again at once.
 *
 * @module
 */

const encoder = new TextEncoder();

/**
 * Copies `chunks` (strings as UTF-8) one after another into a new array,
 * always a copy, even of a single chunk: the caller may reuse its buffers
 * as soon as this returns.
 *
 * @throws {TypeError} When `chunks` is not an array, or holds something other than bytes or strings.
 */
export function gather(chunks: readonly (Uint8Array | string)[]): Uint8Array {
  if (!Array.isArray(chunks)) throw new TypeError("sendv(chunks): chunks must be an array");
  let total = 0;
  let encoded: (Uint8Array | string)[] | undefined;
  for (let i = 0; i < chunks.length; i++) {
    const chunk = chunks[i];
    if (chunk instanceof Uint8Array) total += chunk.length;
    else if (typeof chunk === "string") {
      // Strings are encoded once; the batch is copied from the encoded bytes.
      encoded ??= chunks.slice();
      const bytes = encoder.encode(chunk);
      encoded[i] = bytes;
      total += bytes.length;
    } else {
      throw new TypeError(`sendv(chunks): chunks[${i}] must be a Uint8Array or a string, got ${typeof chunk}`);
    }
  }
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of encoded ?? chunks) {
    out.set(chunk as Uint8Array, offset);
    offset += (chunk as Uint8Array).length;
  }
  return out;
}
