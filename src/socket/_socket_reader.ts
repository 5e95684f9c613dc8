/**
 * The read side of a `StreamSocket`: the bytes received and not yet read,
 * the one pending `recv()`, and push mode (`handler()`), where bytes go to
 * a sink as they arrive instead. `StreamSocket` adds the write side and the
 * socket's life (shutdown, close) on top.
 *
 * A chunk that arrives while a reader waits goes straight to it, and a
 * timer exists only while a `recv` with a timeout actually waits. A pending
 * read is a promise plus fields here (no waiter object, no closures): an
 * idle connection is mostly this object.
 *
 * @module
 */
import type { ByteChannel } from "./byte_channel.ts";
import { ClosedError, TimeoutError } from "../errors.ts";
import { DONE } from "./_socket_iterator.ts";
import { takeAll, takeBytes } from "./_take_bytes.ts";
import { capture, rejecting, type Resolve, takeReject, takeResolve } from "./_pending_promise.ts";
import { HOLD, PUSH, type PushSink, type PushSource, RELEASE } from "./push_sink.ts";
import {
  CLOSE_PUSHED,
  CLOSED,
  CLOSING,
  DRAIN_HELD,
  END_PUSHED,
  ENDED,
  HELD,
  PAUSED,
  PUSHING,
  READ_SHUT,
  WAIT_ALL,
  WAIT_ITERATE,
} from "./_socket_flags.ts";

/** Bytes buffered for the reader before the channel is paused. */
const READ_HIGH_WATER_MARK = 64 * 1024;

/** Receives bytes for `recv()`, the async iterator, or a push sink. */
export abstract class SocketReader implements PushSource {
  protected readonly channel: ByteChannel;
  /** State bits (PAUSED, ENDED, ...), shared with the write side. */
  protected flags = 0;
  /** Why the socket failed, once it did. */
  protected error: ClosedError | undefined;
  #highWaterMark: number;
  /** Bytes received and not yet read; made by the first chunk that has to wait. */
  #chunks: Uint8Array[] | undefined;
  #buffered = 0;
  // The pending read, if any (#waitResolve set): how many bytes, its timer (and WAIT_ITERATE: its shape).
  #waitResolve: Resolve | undefined;
  #waitLength = 0;
  #waitTimer: ReturnType<typeof setTimeout> | undefined;
  /** Where bytes go in push mode. */
  #push: PushSink | undefined;
  // Counters: plain integer increments, read by telemetry, info() and idleTimeout's check.
  #bytesReceived = 0;
  #recvCount = 0;

  constructor(channel: ByteChannel) {
    this.channel = channel;
    this.#highWaterMark = channel.readHighWaterMark ?? READ_HIGH_WATER_MARK;
  }

  onData(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.#bytesReceived += chunk.length;
    this.#recvCount++;
    if ((this.flags & READ_SHUT) !== 0) return;
    if ((this.flags & PUSHING) !== 0) return this.#pushData(chunk);
    const length = this.#waitLength;
    const waiting = this.#waitResolve !== undefined;
    if (
      waiting && this.#buffered === 0 &&
      (length === 0 || length === chunk.length || ((this.flags & WAIT_ALL) !== 0 && chunk.length >= length))
    ) {
      this.#settle(chunk);
      return;
    }
    (this.#chunks ??= []).push(chunk);
    this.#buffered += chunk.length;
    if (waiting) {
      // A waiter that wants more than the buffer limit keeps the bytes coming.
      if (this.#buffered >= length) this.#settle(this.#take(length, this.flags & WAIT_ALL));
    } else if (this.#buffered >= this.#highWaterMark && (this.flags & PAUSED) === 0) {
      this.flags |= PAUSED;
      this.channel.pause();
    }
  }

  onEnd(): void {
    this.flags |= ENDED;
    this.wakeAtEnd();
  }

  /** Bytes received so far (dropped ones after `shutdown("read")` included). */
  get bytesReceived(): number {
    return this.#bytesReceived;
  }

  /** Chunks received so far. */
  get recvCount(): number {
    return this.#recvCount;
  }

  /** While a read waits, every buffered byte is short of what it asked for: all of them are claimed. */
  get unclaimedBytes(): number {
    return this.#waitResolve !== undefined ? 0 : this.#buffered;
  }

  /** Bytes received and not read yet (put back ones included): what `readAvailable()` would return now. */
  get bytesBuffered(): number {
    return this.#buffered;
  }

  /**
   * Puts `bytes` back in front of the bytes not yet read; the socket owns
   * them from now on. Only while no read is pending, and not in push mode.
   */
  unshift(bytes: Uint8Array): void {
    if (!(bytes instanceof Uint8Array)) throw new TypeError("unshift(bytes): bytes must be a Uint8Array");
    if (this.#waitResolve !== undefined) throw new TypeError("unshift(): a read on this socket is pending");
    if ((this.flags & PUSHING) !== 0) throw new TypeError("unshift(): this socket's bytes go to a handler()");
    if (bytes.length === 0 || (this.flags & READ_SHUT) !== 0) return;
    (this.#chunks ??= []).unshift(bytes);
    this.#buffered += bytes.length;
  }

  // ---- PushSource: handler() ----

  [PUSH](sink: PushSink): void {
    if (this.#waitResolve !== undefined) throw new TypeError("handler(): a recv() on this socket is pending");
    this.#push = sink;
    this.flags |= PUSHING;
    this.flushPush();
  }

  [HOLD](): void {
    this.holdPush(HELD);
  }

  [RELEASE](): void {
    this.flags &= ~HELD;
    this.flushPush();
  }

  // ---- for the write side ----

  /** Drops every byte not yet read (`shutdown("read")`). */
  protected dropBuffered(): void {
    this.#chunks = undefined;
    this.#buffered = 0;
  }

  /** Push mode: stops deliveries and reading, for `reason` (HELD or DRAIN_HELD, 0 for none new). */
  protected holdPush(reason: number): void {
    this.flags |= reason;
    if ((this.flags & PAUSED) === 0) {
      this.flags |= PAUSED;
      this.channel.pause();
    }
  }

  /** Push mode: delivers what waits until something holds again, then the end and the close, then reads on. */
  protected flushPush(): void {
    const sink = this.#push!;
    while ((this.flags & (HELD | DRAIN_HELD)) === 0 && this.#buffered > 0) {
      const chunk = this.#chunks!.shift()!;
      this.#buffered -= chunk.length;
      sink.pushData(chunk);
    }
    if ((this.flags & (HELD | DRAIN_HELD)) !== 0) return;
    if ((this.flags & (ENDED | END_PUSHED)) === ENDED) {
      this.flags |= END_PUSHED;
      if (this.error === undefined && (this.flags & CLOSING) === 0) sink.pushEnd();
    }
    if ((this.flags & (PAUSED | ENDED)) === PAUSED) {
      this.flags &= ~PAUSED;
      this.channel.resume();
    }
    if ((this.flags & (CLOSED | CLOSE_PUSHED)) === CLOSED) {
      this.flags |= CLOSE_PUSHED;
      sink.pushClose(this.error);
    }
  }

  /** Settles the pending read (or, in push mode, delivers) now that no more bytes will come. */
  protected wakeAtEnd(): void {
    if ((this.flags & PUSHING) !== 0) return this.flushPush();
    if (this.#waitResolve === undefined) return;
    if (this.error !== undefined) this.#fail(this.error);
    else if (this.#buffered === 0) this.#settle(null);
    else if (this.#buffered >= this.#waitLength) this.#settle(this.#take(this.#waitLength, this.flags & WAIT_ALL));
    else this.#fail(this.#shortRead(this.#waitLength));
  }

  /** Fails a pending read with the socket's error. */
  protected failPending(): void {
    if (this.#waitResolve !== undefined) this.#fail(this.error);
  }

  // ---- the read ----

  /**
   * The one read behind `recv()` (shape 0), the iterator (`WAIT_ITERATE`)
   * and `readAvailable()` (`WAIT_ALL`, where `length` is the least it waits for).
   */
  protected read(length: number, timeout: number | undefined, shape: number): Promise<unknown> {
    if (!Number.isSafeInteger(length) || length < 0) {
      const what = shape === WAIT_ALL ? "readAvailable(minLength)" : "recv(length)";
      return Promise.reject(new RangeError(`${what}: must be an integer >= 0, got ${length}`));
    }
    const iterate = shape === WAIT_ITERATE;
    if (shape === WAIT_ALL && length === 0) length = 1;
    if ((this.flags & PUSHING) !== 0 || this.#waitResolve !== undefined) {
      const reason = (this.flags & PUSHING) !== 0 ? "its bytes go to a handler()" : "another recv() is still pending";
      return Promise.reject(new TypeError(`recv(): ${reason} on this socket`));
    }
    if (this.#buffered > 0 && this.#buffered >= length) {
      const chunk = this.#take(length, shape & WAIT_ALL);
      return Promise.resolve(iterate ? { value: chunk, done: false } : chunk);
    }
    if (this.error !== undefined) return Promise.reject(this.error);
    if ((this.flags & ENDED) !== 0) {
      if (this.#buffered > 0) return Promise.reject(this.#shortRead(length));
      return Promise.resolve(iterate ? DONE : null);
    }
    const timed = timeout !== undefined && timeout !== Infinity;
    if (timed && !(timeout >= 0)) {
      return Promise.reject(new RangeError(`recv(): timeout must be a number >= 0, got ${timeout}`));
    }
    const promise = new Promise(capture);
    const resolve = takeResolve();
    takeReject(); // failures go through resolve(rejecting(error)): one function kept, not two
    this.#waitResolve = resolve;
    this.#waitLength = length;
    this.flags = (this.flags & ~(WAIT_ITERATE | WAIT_ALL)) | shape;
    if (timed) {
      this.#waitTimer = setTimeout(() => {
        if (this.#waitResolve !== resolve) return;
        this.#fail(new TimeoutError(`recv() timed out after ${timeout} ms`));
      }, timeout);
    }
    // A large request may need more than the buffer limit: keep reading.
    if ((this.flags & PAUSED) !== 0) {
      this.flags &= ~PAUSED;
      this.channel.resume();
    }
    return promise;
  }

  /** Removes `length` bytes (0: the first chunk; `all` set: every byte) from the buffer. */
  #take(length: number, all: number): Uint8Array {
    const out = all !== 0 ? takeAll(this.#chunks!, this.#buffered) : takeBytes(this.#chunks!, length);
    this.#buffered -= out.length;
    if ((this.flags & PAUSED) !== 0 && this.#buffered < this.#highWaterMark) {
      this.flags &= ~PAUSED;
      this.channel.resume();
    }
    return out;
  }

  /** Forgets the pending read (its timer too); the caller settles it. */
  #clearWait(): void {
    this.#waitResolve = undefined;
    const timer = this.#waitTimer;
    if (timer !== undefined) {
      this.#waitTimer = undefined;
      clearTimeout(timer);
    }
  }

  #settle(chunk: Uint8Array | null): void {
    const resolve = this.#waitResolve!;
    const iterate = (this.flags & WAIT_ITERATE) !== 0;
    this.#clearWait();
    if (!iterate) resolve(chunk);
    else resolve(chunk === null ? DONE : { value: chunk, done: false });
  }

  #fail(error: unknown): void {
    const resolve = this.#waitResolve!;
    this.#clearWait();
    resolve(rejecting(error));
  }

  /** Push mode: a chunk that arrives while held (or behind held ones) waits in the buffer. */
  #pushData(chunk: Uint8Array): void {
    if ((this.flags & (HELD | DRAIN_HELD | CLOSING)) === 0 && this.#buffered === 0) {
      return this.#push!.pushData(chunk);
    }
    if ((this.flags & CLOSING) !== 0) return; // closed by the handler: nobody will read it
    (this.#chunks ??= []).push(chunk);
    this.#buffered += chunk.length;
    this.holdPush(0);
  }

  #shortRead(length: number): ClosedError {
    return new ClosedError(`stream ended after ${this.#buffered} of the ${length} bytes recv() asked for`);
  }
}
