/**
 * The `ByteChannel` over one `Deno.Conn` (TCP or Unix): a read loop that
 * pulls bytes while the sink wants them, and a write loop that drains a
 * queue with `conn.write`.
 *
 * Neither loop allocates a closure or timer per chunk: each is one async
 * method that runs while there is work and stops when there is none.
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
  #reading = false; // the read loop runs (a read may be pending)
  #eof = false; // the peer ended its direction

  // write side
  #queue: Uint8Array[] = [];
  #queued = 0; // bytes in #queue not yet written
  #writing = false; // the write loop runs
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
    else if (!this.#paused) void this.#readLoop();
  }

  pause(): void {
    // The read in flight (if any) still delivers its bytes; the loop stops after it.
    this.#paused = true;
  }

  resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    if (!this.#reading && !this.#eof && !this.#closed && this.#sink !== undefined) void this.#readLoop();
  }

  /**
   * Queues `chunk` without copying it (like Node.js's `socket.write`): the
   * caller must not change it until it is written. A chunk written after
   * `end()`, `close()` or `destroy()` is dropped.
   */
  write(chunk: Uint8Array): boolean {
    if (this.#closed || this.#ending || this.#closing) return true;
    if (chunk.length === 0) return this.#queued < WRITE_HIGH_WATER_MARK;
    this.#queue.push(chunk);
    this.#queued += chunk.length;
    if (!this.#writing) void this.#writeLoop();
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

  async #readLoop(): Promise<void> {
    this.#reading = true;
    const conn = this.#conn;
    const buffer = this.#buffer;
    const sink = this.#sink!;
    try {
      while (!this.#paused && !this.#closed) {
        const n = await conn.read(buffer.next());
        // Closed locally while the read waited: its result (or Interrupted error) means nothing.
        if (this.#closed) break;
        if (n === null) {
          this.#eof = true;
          sink.onEnd();
          if (this.#writeShut) this.#closeNow();
          break;
        }
        if (n > 0) sink.onData(buffer.take(n));
      }
    } catch (error) {
      // After a local close the pending read rejects with Interrupted or BadResource: not a failure.
      if (!this.#closed) this.#fail(error);
    }
    this.#reading = false;
    if (this.#closed) this.#fireClose();
  }

  async #writeLoop(): Promise<void> {
    this.#writing = true;
    const conn = this.#conn;
    const queue = this.#queue;
    try {
      while (queue.length > 0) {
        let chunk = this.#nextChunk(queue);
        for (;;) {
          const n = await conn.write(chunk);
          if (this.#closed) return;
          this.#queued -= n;
          if (this.#needDrain && this.#queued < WRITE_HIGH_WATER_MARK) {
            this.#needDrain = false;
            this.#sink!.onDrain(); // may write, end, close or destroy synchronously
            if (this.#closed) return;
          }
          if (n >= chunk.length) break;
          chunk = chunk.subarray(n);
        }
      }
    } catch (error) {
      if (!this.#closed) this.#fail(error);
      return;
    } finally {
      this.#writing = false;
    }
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
    this.#queue.length = 0;
    this.#queued = 0;
    this.#buffer.release();
    try {
      this.#conn.close();
    } catch {
      // Already closed: nothing to release.
    }
    // A pending read ends with Interrupted; the read loop then reports the close.
    if (!this.#reading) this.#fireClose();
  }

  #fireClose(): void {
    if (this.#closeFired || this.#sink === undefined) return;
    this.#closeFired = true;
    this.#sink.onClose();
  }
}
