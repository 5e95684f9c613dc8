/**
 * The `ByteChannel` over one `Deno.Conn` (TCP or Unix): a read loop that
 * pulls bytes while the sink wants them, and a write loop that drains a
 * queue with `conn.write`.
 *
 * Neither loop allocates a closure or timer per chunk, nor an async
 * function frame: each is a chain of `conn.read(...).then(onRead)` /
 * `conn.write(...).then(onWritten)` with one bound handler per connection
 * (the write one made by the first write). A connection idles in a
 * pending read, and a suspended async method would hold its frame
 * (generator, registers, promise, await closures) for as long as the peer
 * is silent; a write per `send` would start a new async call each time.
 *
 * @module
 */
import type { ByteChannel, ChannelSink } from "../../socket/byte_channel.ts";
import type { Address } from "../../transport.ts";
import type { DenoConn, DenoTcpConn } from "./deno_types.ts";
import { toAddress } from "./net_address.ts";
import { ReadBuffer } from "./read_buffer.ts";

/** Queued outgoing bytes at which `write` returns false. */
const WRITE_HIGH_WATER_MARK = 64 * 1024;
/** Queued chunks smaller than this are copied together into one `conn.write`. */
const GATHER_CHUNK_LIMIT = 16 * 1024;
/** Largest buffer small chunks are gathered into. */
const GATHER_MAX = 64 * 1024;

// Bits of `ConnChannel.#flags`.
/** The sink asked for no more bytes. */
const PAUSED = 1;
/** A `conn.read()` is pending. */
const READING = 2;
/** The peer ended its direction. */
const EOF = 4;
/** A `conn.write()` is pending. */
const WRITING = 8;
/** `write()` returned false: call `onDrain` below the mark. */
const NEED_DRAIN = 16;
/** `end()` was called: shut the write side once the queue is out. */
const ENDING = 32;
/** `closeWrite()` completed. */
const WRITE_SHUT = 64;
/** `close()` was called: close once the queue is out. */
const CLOSING = 128;
/** `conn.close()` was called. */
const CLOSED = 256;
/** The sink got `onError`. */
const FAILED = 512;
/** The sink got `onClose`. */
const CLOSE_FIRED = 1024;

/** A {@linkcode ByteChannel} over a Deno stream connection. */
export class ConnChannel implements ByteChannel {
  #conn: DenoConn;
  /** The same connection when it is TCP (it has socket options), else undefined. */
  #tcp: DenoTcpConn | undefined;
  #sink: ChannelSink | undefined;
  #local: Address | undefined;
  #remote: Address | undefined;
  /** State bits (PAUSED, READING, ...): one field for eleven booleans on every connection. */
  #flags = 0;

  // read side
  #buffer = new ReadBuffer();
  /** Settles each `conn.read()`: its byte count or null, or (as the rejection handler) its failure. */
  #onRead: (result: unknown) => void = this.#afterRead.bind(this);

  // write side
  #queue: Uint8Array[] | undefined; // chunks waiting behind the one in flight; made by the first that has to wait
  #inFlight: Uint8Array | undefined; // the chunk conn.write() has now
  /** Settles each `conn.write()` (made by the first write): its byte count, or its failure. */
  #onWritten: ((result: unknown) => void) | undefined;
  #queued = 0; // bytes in flight or queued, not yet written

  /** `tcp` tells whether `conn` is a TCP connection (else Unix: no socket options). */
  constructor(conn: DenoConn, tcp: boolean) {
    this.#conn = conn;
    this.#tcp = tcp ? (conn as DenoTcpConn) : undefined;
  }

  get localAddress(): Address {
    return (this.#local ??= toAddress(this.#conn.localAddr));
  }

  get remoteAddress(): Address {
    return (this.#remote ??= toAddress(this.#conn.remoteAddr));
  }

  start(sink: ChannelSink): void {
    this.#sink = sink;
    if ((this.#flags & CLOSED) !== 0) this.#fireClose();
    else if ((this.#flags & PAUSED) === 0) this.#readNext();
  }

  pause(): void {
    // The read in flight (if any) still delivers its bytes; the loop stops after it.
    this.#flags |= PAUSED;
  }

  resume(): void {
    if ((this.#flags & PAUSED) === 0) return;
    this.#flags &= ~PAUSED;
    if ((this.#flags & (READING | EOF | CLOSED)) === 0 && this.#sink !== undefined) this.#readNext();
  }

  /**
   * Queues `chunk` without copying it (like Node.js's `socket.write`): the
   * caller must not change it until it is written. A chunk written after
   * `end()`, `close()` or `destroy()` is dropped.
   */
  write(chunk: Uint8Array): boolean {
    if ((this.#flags & (CLOSED | ENDING | CLOSING)) !== 0) return true;
    if (chunk.length === 0) return this.#queued < WRITE_HIGH_WATER_MARK;
    this.#queued += chunk.length;
    // Nothing in flight: the chunk goes straight to conn.write, without a trip through the queue.
    if ((this.#flags & WRITING) === 0) this.#writeNext(chunk);
    else (this.#queue ??= []).push(chunk);
    if (this.#queued < WRITE_HIGH_WATER_MARK) return true;
    this.#flags |= NEED_DRAIN;
    return false;
  }

  end(): void {
    if ((this.#flags & (ENDING | CLOSING | CLOSED)) !== 0) return;
    this.#flags |= ENDING;
    if ((this.#flags & WRITING) === 0) void this.#shutWrite();
  }

  close(): void {
    if ((this.#flags & (CLOSING | CLOSED)) !== 0) return;
    this.#flags |= CLOSING;
    if ((this.#flags & WRITING) === 0) this.#closeNow();
  }

  destroy(): void {
    this.#closeNow();
  }

  /** Sets TCP_NODELAY; a no-op on Unix sockets, where Nagle's algorithm does not exist. */
  setNoDelay(enable: boolean): void {
    if (this.#tcp === undefined || (this.#flags & CLOSED) !== 0) return;
    this.#tcp.setNoDelay(enable);
  }

  /** Sets SO_KEEPALIVE; a no-op on Unix sockets, which have no keep-alive probes. */
  setKeepAlive(enable: boolean): void {
    if (this.#tcp === undefined || (this.#flags & CLOSED) !== 0) return;
    this.#tcp.setKeepAlive(enable);
  }

  // ---- internals ----

  /** Starts the next read; `#afterRead` continues the chain while the sink wants bytes. */
  #readNext(): void {
    this.#flags |= READING;
    this.#conn.read(this.#buffer.next()).then(this.#onRead, this.#onRead);
  }

  #afterRead(result: unknown): void {
    // Closed locally while the read waited: its result (or Interrupted /
    // BadResource error) means nothing.
    if ((this.#flags & CLOSED) === 0) {
      try {
        if (typeof result === "number") {
          if (result > 0) this.#sink!.onData(this.#buffer.take(result));
          if ((this.#flags & (PAUSED | CLOSED)) === 0) return this.#readNext();
        } else if (result === null) {
          this.#flags |= EOF;
          this.#sink!.onEnd();
          if ((this.#flags & WRITE_SHUT) !== 0) this.#closeNow();
        } else {
          this.#fail(result);
        }
      } catch (error) {
        if ((this.#flags & CLOSED) === 0) this.#fail(error);
      }
    }
    this.#flags &= ~READING;
    if ((this.#flags & CLOSED) !== 0) this.#fireClose();
  }

  /** Writes the next chunk off the queue; `#afterWrite` continues the chain while chunks wait. */
  #writeNext(chunk: Uint8Array): void {
    this.#flags |= WRITING;
    this.#inFlight = chunk;
    const onWritten = (this.#onWritten ??= this.#afterWrite.bind(this));
    this.#conn.write(chunk).then(onWritten, onWritten);
  }

  #afterWrite(result: unknown): void {
    const chunk = this.#inFlight!;
    this.#inFlight = undefined;
    if ((this.#flags & CLOSED) !== 0) {
      this.#flags &= ~WRITING;
      return;
    }
    try {
      if (typeof result !== "number") throw result;
      this.#queued -= result;
      if ((this.#flags & NEED_DRAIN) !== 0 && this.#queued < WRITE_HIGH_WATER_MARK) {
        this.#flags &= ~NEED_DRAIN;
        this.#sink!.onDrain(); // may write, end, close or destroy synchronously
        if ((this.#flags & CLOSED) !== 0) {
          this.#flags &= ~WRITING;
          return;
        }
      }
      if (result < chunk.length) return this.#writeNext(chunk.subarray(result));
      const queue = this.#queue;
      if (queue !== undefined && queue.length > 0) return this.#writeNext(this.#nextChunk(queue));
    } catch (error) {
      this.#flags &= ~WRITING;
      if ((this.#flags & CLOSED) === 0) this.#fail(error);
      return;
    }
    this.#flags &= ~WRITING;
    if ((this.#flags & CLOSING) !== 0) this.#closeNow();
    else if ((this.#flags & ENDING) !== 0) void this.#shutWrite();
  }

  /** Takes the next chunk off the queue, gathering runs of small chunks into one write. */
  #nextChunk(queue: Uint8Array[]): Uint8Array {
    const first = queue.shift()!;
    if (queue.length === 0 || first.length >= GATHER_CHUNK_LIMIT) return first;
    let total = first.length;
    let count = 0;
    while (count < queue.length) {
      const length = queue[count]!.length;
      if (length >= GATHER_CHUNK_LIMIT || total + length > GATHER_MAX) break;
      total += length;
      count++;
    }
    if (count === 0) return first;
    const gathered = new Uint8Array(total);
    gathered.set(first);
    let offset = first.length;
    for (const chunk of queue.splice(0, count)) {
      gathered.set(chunk, offset);
      offset += chunk.length;
    }
    return gathered;
  }

  /** Half-closes (shutdown(SHUT_WR)); the connection closes once the peer has ended too. */
  async #shutWrite(): Promise<void> {
    if ((this.#flags & CLOSED) !== 0) return;
    try {
      await this.#conn.closeWrite();
    } catch (error) {
      if ((this.#flags & CLOSED) === 0) this.#fail(error);
      return;
    }
    this.#flags |= WRITE_SHUT;
    if ((this.#flags & EOF) !== 0 && (this.#flags & CLOSED) === 0) this.#closeNow();
  }

  #fail(error: unknown): void {
    if ((this.#flags & FAILED) !== 0) return;
    this.#flags |= FAILED;
    this.#sink?.onError(error);
    this.#closeNow();
  }

  #closeNow(): void {
    if ((this.#flags & CLOSED) !== 0) return;
    this.#flags |= CLOSED;
    if (this.#queue !== undefined) this.#queue.length = 0;
    this.#queued = 0;
    this.#buffer.release();
    try {
      this.#conn.close();
    } catch {
      // Already closed: nothing to release.
    }
    // A pending read ends with Interrupted; #afterRead then reports the close.
    if ((this.#flags & READING) === 0) this.#fireClose();
  }

  #fireClose(): void {
    if ((this.#flags & CLOSE_FIRED) !== 0 || this.#sink === undefined) return;
    this.#flags |= CLOSE_FIRED;
    this.#sink.onClose();
  }
}
