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
import type { ByteChannel, ChannelSink } from "../../byte_channel.ts";
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

/** A {@linkcode ByteChannel} over a Deno stream connection. */
export class ConnChannel implements ByteChannel {
  #conn: DenoConn;
  /** The same connection when it is TCP (it has socket options), else undefined. */
  #tcp: DenoTcpConn | undefined;
  #sink: ChannelSink | undefined;
  #local: Address | undefined;
  #remote: Address | undefined;

  // read side
  #buffer = new ReadBuffer();
  #paused = false;
  #reading = false; // a conn.read() is pending
  #eof = false; // the peer ended its direction
  /** Settles each `conn.read()`: its byte count or null, or (as the rejection handler) its failure. */
  #onRead: (result: unknown) => void = this.#afterRead.bind(this);

  // write side
  #queue: Uint8Array[] | undefined; // chunks waiting behind the one in flight; made by the first that has to wait
  #inFlight: Uint8Array | undefined; // the chunk conn.write() has now
  /** Settles each `conn.write()` (made by the first write): its byte count, or its failure. */
  #onWritten: ((result: unknown) => void) | undefined;
  #queued = 0; // bytes in flight or queued, not yet written
  #writing = false; // a conn.write() is pending
  #needDrain = false; // write() returned false: call onDrain below the mark
  #ending = false; // end() called: shut the write side once the queue is out
  #writeShut = false; // closeWrite() completed
  #closing = false; // close() called: close once the queue is out

  #closed = false; // conn.close() called
  #failed = false; // onError delivered
  #closeFired = false; // onClose delivered

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
    if (this.#closed) this.#fireClose();
    else if (!this.#paused) this.#readNext();
  }

  pause(): void {
    // The read in flight (if any) still delivers its bytes; the loop stops after it.
    this.#paused = true;
  }

  resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    if (!this.#reading && !this.#eof && !this.#closed && this.#sink !== undefined) this.#readNext();
  }

  /**
   * Queues `chunk` without copying it (like Node.js's `socket.write`): the
   * caller must not change it until it is written. A chunk written after
   * `end()`, `close()` or `destroy()` is dropped.
   */
  write(chunk: Uint8Array): boolean {
    if (this.#closed || this.#ending || this.#closing) return true;
    if (chunk.length === 0) return this.#queued < WRITE_HIGH_WATER_MARK;
    this.#queued += chunk.length;
    // Nothing in flight: the chunk goes straight to conn.write, without a trip through the queue.
    if (!this.#writing) this.#writeNext(chunk);
    else (this.#queue ??= []).push(chunk);
    if (this.#queued < WRITE_HIGH_WATER_MARK) return true;
    this.#needDrain = true;
    return false;
  }

  end(): void {
    if (this.#ending || this.#closing || this.#closed) return;
    this.#ending = true;
    if (!this.#writing) void this.#shutWrite();
  }

  close(): void {
    if (this.#closing || this.#closed) return;
    this.#closing = true;
    if (!this.#writing) this.#closeNow();
  }

  destroy(): void {
    this.#closeNow();
  }

  /** Sets TCP_NODELAY; a no-op on Unix sockets, where Nagle's algorithm does not exist. */
  setNoDelay(enable: boolean): void {
    if (this.#tcp === undefined || this.#closed) return;
    this.#tcp.setNoDelay(enable);
  }

  /** Sets SO_KEEPALIVE; a no-op on Unix sockets, which have no keep-alive probes. */
  setKeepAlive(enable: boolean): void {
    if (this.#tcp === undefined || this.#closed) return;
    this.#tcp.setKeepAlive(enable);
  }

  // ---- internals ----

  /** Starts the next read; `#afterRead` continues the chain while the sink wants bytes. */
  #readNext(): void {
    this.#reading = true;
    this.#conn.read(this.#buffer.next()).then(this.#onRead, this.#onRead);
  }

  #afterRead(result: unknown): void {
    // Closed locally while the read waited: its result (or Interrupted /
    // BadResource error) means nothing.
    if (!this.#closed) {
      try {
        if (typeof result === "number") {
          if (result > 0) this.#sink!.onData(this.#buffer.take(result));
          if (!this.#paused && !this.#closed) return this.#readNext();
        } else if (result === null) {
          this.#eof = true;
          this.#sink!.onEnd();
          if (this.#writeShut) this.#closeNow();
        } else {
          this.#fail(result);
        }
      } catch (error) {
        if (!this.#closed) this.#fail(error);
      }
    }
    this.#reading = false;
    if (this.#closed) this.#fireClose();
  }

  /** Writes the next chunk off the queue; `#afterWrite` continues the chain while chunks wait. */
  #writeNext(chunk: Uint8Array): void {
    this.#writing = true;
    this.#inFlight = chunk;
    const onWritten = (this.#onWritten ??= this.#afterWrite.bind(this));
    this.#conn.write(chunk).then(onWritten, onWritten);
  }

  #afterWrite(result: unknown): void {
    const chunk = this.#inFlight!;
    this.#inFlight = undefined;
    if (this.#closed) {
      this.#writing = false;
      return;
    }
    try {
      if (typeof result !== "number") throw result;
      this.#queued -= result;
      if (this.#needDrain && this.#queued < WRITE_HIGH_WATER_MARK) {
        this.#needDrain = false;
        this.#sink!.onDrain(); // may write, end, close or destroy synchronously
        if (this.#closed) {
          this.#writing = false;
          return;
        }
      }
      if (result < chunk.length) return this.#writeNext(chunk.subarray(result));
      const queue = this.#queue;
      if (queue !== undefined && queue.length > 0) return this.#writeNext(this.#nextChunk(queue));
    } catch (error) {
      this.#writing = false;
      if (!this.#closed) this.#fail(error);
      return;
    }
    this.#writing = false;
    if (this.#closing) this.#closeNow();
    else if (this.#ending) void this.#shutWrite();
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
    if (this.#closed) return;
    try {
      await this.#conn.closeWrite();
    } catch (error) {
      if (!this.#closed) this.#fail(error);
      return;
    }
    this.#writeShut = true;
    if (this.#eof && !this.#closed) this.#closeNow();
  }

  #fail(error: unknown): void {
    if (this.#failed) return;
    this.#failed = true;
    this.#sink?.onError(error);
    this.#closeNow();
  }

  #closeNow(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#queue !== undefined) this.#queue.length = 0;
    this.#queued = 0;
    this.#buffer.release();
    try {
      this.#conn.close();
    } catch {
      // Already closed: nothing to release.
    }
    // A pending read ends with Interrupted; #afterRead then reports the close.
    if (!this.#reading) this.#fireClose();
  }

  #fireClose(): void {
    if (this.#closeFired || this.#sink === undefined) return;
    this.#closeFired = true;
    this.#sink.onClose();
  }
}
