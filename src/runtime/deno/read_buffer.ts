/**
 * The adaptive read buffer of one connection. A pending read holds its
 * buffer for as long as the peer is silent, so an idle connection must not
 * hold a large one: reads start small, double while they fill the buffer
 * (a stream is flowing), and shrink again when little arrives.
 *
 * Chunks are views of the buffer, never copies: a short read is handed
 * over as the part of the buffer it filled, and the next read goes into
 * the rest. Allocating an ArrayBuffer costs far more than a view (a backing
 * store, its bookkeeping, its sweeping: about 0.4 µs against 0.05 µs on
 * Deno 2.9), so a connection exchanging small messages makes a new buffer
 * only every few messages. Only this connection's own bytes ever share a
 * buffer, and no read ever writes into bytes already handed over.
 *
 * @module
 */

/** Size of the first read, and of reads on a connection that trickles or idles. */
export const MIN_READ_SIZE = 256;
/**
 * Largest read buffer, reached after a few full reads of a flowing stream.
 * Each chunk needs fresh memory whatever its size, so larger reads cost no
 * more memory traffic and make fewer `conn.read` calls: 256 KiB took about
 * 9 % less CPU per byte than 64 KiB on the throughput benchmark (Deno 2.9).
 * Reads only get this large while the kernel already holds that much for
 * us, and shrink again when the stream slows.
 */
export const MAX_READ_SIZE = 256 * 1024;
/** A rest of the buffer smaller than this is not worth a read: the next read gets a new buffer. */
const MIN_REST = 64;

/** Hands out the buffer for the next read and turns its result into a chunk. */
export class ReadBuffer {
  /** Size of the next buffer to allocate. */
  #size = MIN_READ_SIZE;
  /** Where the next read goes: a new buffer, or the unused rest of the last one. */
  #view: Uint8Array | undefined;
  /** Length of the buffer `#view` is part of; `#view` is that whole buffer when both lengths are equal. */
  #bufferLength = 0;

  /** The buffer to read into next. */
  next(): Uint8Array {
    if (this.#view === undefined) {
      this.#view = new Uint8Array(this.#size);
      this.#bufferLength = this.#size;
    }
    return this.#view;
  }

  /**
   * Returns the `n` (> 0) bytes the last read put into `next()`'s buffer as
   * a chunk the caller owns (no later read writes into it), and sizes the
   * following read.
   *
   * A read that filled a whole new buffer doubles the next one (a stream is
   * flowing). A short read leaves the rest of the buffer for the next read,
   * unless that rest is tiny or the buffer is oversized for what arrives:
   * then the next read gets a new buffer, sized down to fit (an idle
   * connection ends up waiting on a `MIN_READ_SIZE` one).
   */
  take(n: number): Uint8Array {
    const view = this.#view!;
    if (n >= view.length) {
      if (view.length === this.#bufferLength && view.length < MAX_READ_SIZE) this.#size = view.length << 1;
      this.#view = undefined;
      return view;
    }
    let size = this.#size;
    while (size > MIN_READ_SIZE && n < size >>> 1) size >>>= 1;
    this.#size = size;
    const rest = view.length - n;
    this.#view = rest < MIN_REST || this.#bufferLength > size ? undefined : view.subarray(n);
    return view.subarray(0, n);
  }

  /** Drops the buffer (the connection is closed). */
  release(): void {
    this.#view = undefined;
  }
}
