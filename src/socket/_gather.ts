/**
 * One buffer out of several: a batch of outgoing chunks for `sendv()` (the
 * batch leaves in one write, its chunks the caller's again at once), and
 * the buffered chunks `readAvailable()` hands over as one.
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
  return concat((encoded ?? chunks) as readonly Uint8Array[], total);
}

/** `parts` (`total` bytes in all) copied one after another into a new array. */
export function concat(parts: readonly Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
