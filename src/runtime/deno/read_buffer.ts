/**
 * The read buffer of one Deno connection: the buffer each `conn.read()`
 * fills, and the policy that sizes it.
 *
 * Every chunk handed on is the reader's to keep (`ChannelSink.onData`), so
 * every byte delivered needs memory no later read writes into. What costs
 * is fresh memory, not copying: a new, zeroed ArrayBuffer costs about
 * 3.2 µs per 16 KiB on Deno 2.9 (zeroing, page faults, the collector), a
 * copy out of a buffer in cache about 0.5 µs. So the buffer is kept and
 * refilled, and each read hands on:
 *
 * - a read that filled the whole buffer: the buffer itself (no copy), and
 *   the next read gets a new one, twice the size (the kernel probably holds
 *   more: a stream is flowing);
 * - a shorter read: a copy of exactly its bytes, and the buffer is read
 *   into again. Handing on a view instead would waste the rest of the
 *   buffer (or, reading into that rest, split what the kernel holds into
 *   chunks the size of the rest).
 *
 * Either way a chunk is all of its own ArrayBuffer: transferring it
 * detaches no other chunk, and keeping it keeps no more memory than its
 * bytes.
 *
 * The buffer never drops under `MIN_READ_SIZE`, so a message or pipelined
 * batch up to that size arrives as one chunk, whatever came before it. It
 * shrinks slowly: only after `SHRINK_AFTER` reads in a row that would have
 * fitted a quarter of it, so a stream whose reads vary keeps its size (no
 * buffer is dropped and reallocated at every short read).
 *
 * A pending read holds its buffer for as long as the peer is silent, so an
 * idle connection holds `MIN_READ_SIZE` bytes once small messages have
 * shrunk it (a raw Deno loop holds its 64 KiB), and more while it is still
 * sized for a stream that stopped.
 *
 * @module
 */

/**
 * Size of the first read, and the smallest read: a request or a pipelined
 * batch up to this size is never split. One page; the 256 bytes it used to
 * be split redis-benchmark's 576-byte pipelined batches into 1.83 chunks
 * each (two parses, two replies), and cost 3.2 KiB less per idle connection.
 */
export const MIN_READ_SIZE = 4 * 1024;
/**
 * Largest read buffer, reached after a few full reads of a flowing stream.
 * Larger reads make fewer `conn.read` calls for the same bytes (256 KiB took
 * 5–13 % less CPU per byte than 64 KiB at 16 and 64 KiB writes, Deno 2.9);
 * reads only fill it while the kernel holds that much for us.
 */
export const MAX_READ_SIZE = 256 * 1024;
/** Reads in a row that would have fitted a quarter of the buffer before it halves. */
export const SHRINK_AFTER = 4;

/** Hands out the buffer for the next read and turns its result into a chunk. */
export class ReadBuffer {
  /** The buffer the next read goes into; made on demand, dropped when handed on whole. */
  #buffer: Uint8Array | undefined;
  /** Size of the next buffer to allocate. */
  #size = MIN_READ_SIZE;
  /** Reads in a row that would have fitted a quarter of the buffer. */
  #small = 0;

  /** The buffer to read into next. */
  next(): Uint8Array {
    return (this.#buffer ??= new Uint8Array(this.#size));
  }

  /**
   * Returns the `n` (> 0) bytes the last read put into `next()`'s buffer as
   * a chunk the caller owns (no later read writes into it), and sizes the
   * following read.
   */
  take(n: number): Uint8Array {
    const buffer = this.#buffer!;
    const length = buffer.length;
    if (n >= length) {
      this.#buffer = undefined;
      this.#small = 0;
      if (length < MAX_READ_SIZE) this.#size = length << 1;
      return buffer;
    }
    const chunk = buffer.slice(0, n);
    if (n > length >>> 2 || length <= MIN_READ_SIZE) this.#small = 0;
    else if (++this.#small >= SHRINK_AFTER) {
      this.#small = 0;
      this.#size = length >>> 1;
      this.#buffer = undefined;
    }
    return chunk;
  }

  /** Drops the buffer (the connection is closed). */
  release(): void {
    this.#buffer = undefined;
  }
}
