/**
 * The adaptive read buffer of one connection. A pending read holds its
 * buffer for as long as the peer is silent, so an idle connection must not
 * hold a large one: reads start small, double while they fill the buffer
 * (a stream is flowing), and shrink again when little arrives.
 *
 * @module
 */

/** Size of the first read, and of reads on a connection that trickles or idles. */
export const MIN_READ_SIZE = 1024;
/** Largest read buffer, reached after a few full reads of a flowing stream. */
export const MAX_READ_SIZE = 64 * 1024;

/** Hands out the buffer for the next read and turns its result into a chunk. */
export class ReadBuffer {
  #size = MIN_READ_SIZE;
  #buf: Uint8Array | undefined;

  /** The buffer to read into next (allocated lazily, reused when possible). */
  next(): Uint8Array {
    return (this.#buf ??= new Uint8Array(this.#size));
  }

  /**
   * Returns the `n` (> 0) bytes the last read put into `next()`'s buffer as
   * a chunk the caller owns, and sizes the following read.
   *
   * A mostly full buffer is handed over as is (no copy) and the next read
   * gets a fresh one, twice as big if this one was full. A small result is
   * copied out so the buffer can be reused, and an oversized buffer is
   * dropped for one that fits what arrives (an idle connection ends up
   * waiting on a `MIN_READ_SIZE` buffer).
   */
  take(n: number): Uint8Array {
    const buf = this.#buf!;
    let size = buf.length;
    if (n >= size >>> 1) {
      this.#buf = undefined;
      if (n === size) {
        if (size < MAX_READ_SIZE) this.#size = size << 1;
        return buf;
      }
      return buf.subarray(0, n);
    }
    const chunk = buf.slice(0, n);
    if (size > MIN_READ_SIZE) {
      while (size > MIN_READ_SIZE && n < size >>> 1) size >>>= 1;
      this.#size = size;
      this.#buf = undefined;
    }
    return chunk;
  }

  /** Drops the buffer (the connection is closed). */
  release(): void {
    this.#buf = undefined;
  }
}
