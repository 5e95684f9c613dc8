/**
 * The `Socket` contract implemented once over a `ByteChannel`: every runtime
 * adapter and the memory transport hand their channels to this class.
 *
 * The hot path is allocation-light on purpose: a chunk that arrives while a
 * reader waits goes straight to it, `send` returns one shared resolved promise
 * while the channel is under its high-water mark, and a timer exists only
 * while a `recv` with a timeout actually waits.
 *
 * An idle connection is mostly this object, so it holds nothing it does not
 * need yet: the read buffer, the `closed` promise and the drain promise are
 * made when first needed, a pending read is a promise plus fields here (no
 * waiter object, no closures), and the async iterator is one small object.
 *
 * @module
 */
import type { ByteChannel, ChannelSink } from "./byte_channel.ts";
import { ClosedError, systemErrorCode, TimeoutError } from "../errors.ts";
import type { Address, RecvOptions, ShutdownHow, Socket, SocketOptions, TlsInfo } from "../transport.ts";
import { readableView, writableView } from "./stream_views.ts";
import { DONE, NEXT_CHUNK, SocketIterator } from "./_socket_iterator.ts";
import { takeBytes } from "./_take_bytes.ts";
import { capture, type Reject, rejecting, type Resolve, takeReject, takeResolve } from "./_pending_promise.ts";

/** Bytes buffered for the reader before the channel is paused. */
const READ_HIGH_WATER_MARK = 64 * 1024;

const RESOLVED: Promise<void> = Promise.resolve();
const encoder = new TextEncoder();

// Bits of `StreamSocket.#flags`.
/** The channel was paused: the reader is behind by the high-water mark. */
const PAUSED = 1;
/** No more bytes will arrive (peer EOF, read shutdown or close). */
const ENDED = 2;
/** `shutdown("read")`: arriving bytes are dropped. */
const READ_SHUT = 4;
/** `shutdown("write")`: the channel was ended. */
const WRITE_SHUT = 8;
/** `close()` or `destroy()` was called. */
const CLOSING = 16;
/** The channel reported its close. */
const CLOSED = 32;
/** The pending read came from the async iterator: settle it with an iterator result. */
const WAIT_ITERATE = 64;

/** Extra facts a transport knows about a socket it builds. */
export interface StreamSocketInit {
  /** Whether the channel is encrypted. */
  secure?: boolean;
  /** Negotiated TLS facts, for encrypted channels. */
  tls?: TlsInfo;
}

/** A {@linkcode Socket} over a runtime's {@linkcode ByteChannel}. */
export class StreamSocket implements Socket, ChannelSink {
  readonly secure: boolean;
  readonly tls: TlsInfo | undefined;

  #channel: ByteChannel;
  #highWaterMark: number;
  /** Bytes received and not yet read; made by the first chunk that has to wait. */
  #chunks: Uint8Array[] | undefined;
  #buffered = 0;
  /** State bits (PAUSED, ENDED, ...): one field for what would be seven booleans on every connection. */
  #flags = 0;
  #error: ClosedError | undefined;
  // The pending read, if any (#waitResolve set): how many bytes, its timer (and WAIT_ITERATE: its shape).
  #waitResolve: Resolve | undefined;
  #waitLength = 0;
  #waitTimer: ReturnType<typeof setTimeout> | undefined;
  #drain: { promise: Promise<void>; resolve: Resolve; reject: Reject } | undefined;
  #closed: Promise<void> | undefined;
  #resolveClosed: Resolve | undefined;
  #readable: ReadableStream<Uint8Array> | undefined;
  #writable: WritableStream<Uint8Array> | undefined;

  constructor(channel: ByteChannel, init?: StreamSocketInit) {
    this.#channel = channel;
    this.#highWaterMark = channel.readHighWaterMark ?? READ_HIGH_WATER_MARK;
    this.secure = init?.secure ?? false;
    this.tls = init?.tls;
    channel.start(this);
  }

  /** Resolves once the socket is closed, however that happened (made on first use). */
  get closed(): Promise<void> {
    if (this.#closed === undefined) {
      if ((this.#flags & CLOSED) !== 0) this.#closed = RESOLVED;
      else {
        this.#closed = new Promise(capture) as Promise<void>;
        this.#resolveClosed = takeResolve();
        takeReject();
      }
    }
    return this.#closed;
  }

  // ---- ChannelSink: called by the adapter ----

  onData(chunk: Uint8Array): void {
    if ((this.#flags & READ_SHUT) !== 0 || chunk.length === 0) return;
    const length = this.#waitLength;
    const waiting = this.#waitResolve !== undefined;
    if (waiting && this.#buffered === 0 && (length === 0 || length === chunk.length)) {
      this.#settle(chunk);
      return;
    }
    (this.#chunks ??= []).push(chunk);
    this.#buffered += chunk.length;
    if (waiting) {
      // A waiter that wants more than the buffer limit keeps the bytes coming.
      if (this.#buffered >= length) this.#settle(this.#take(length));
    } else if (this.#buffered >= this.#highWaterMark && (this.#flags & PAUSED) === 0) {
      this.#flags |= PAUSED;
      this.#channel.pause();
    }
  }

  onEnd(): void {
    this.#flags |= ENDED;
    this.#wakeAtEnd();
  }

  onDrain(): void {
    const drain = this.#drain;
    this.#drain = undefined;
    drain?.resolve(undefined);
  }

  onError(error: unknown): void {
    if (this.#error !== undefined) return;
    const code = systemErrorCode(error) ?? "ECLOSED";
    const message = error instanceof Error ? error.message : String(error);
    this.#error = new ClosedError(`socket failed: ${message}`, code, { cause: error });
    if (this.#waitResolve !== undefined) this.#fail(this.#error);
    const drain = this.#drain;
    this.#drain = undefined;
    drain?.reject(this.#error);
  }

  onClose(): void {
    if ((this.#flags & CLOSED) !== 0) return;
    this.#flags |= CLOSED | ENDED;
    this.#wakeAtEnd();
    const drain = this.#drain;
    this.#drain = undefined;
    drain?.reject(this.#error ?? new ClosedError("socket closed"));
    const resolveClosed = this.#resolveClosed;
    this.#resolveClosed = undefined;
    resolveClosed?.(undefined);
  }

  /** While a read waits, every buffered byte is short of what it asked for: all of them are claimed. */
  get unclaimedBytes(): number {
    return this.#waitResolve !== undefined ? 0 : this.#buffered;
  }

  // ---- Socket ----

  recv(length = 0, options?: RecvOptions): Promise<Uint8Array | null> {
    return this.#read(length, options?.timeout, false) as Promise<Uint8Array | null>;
  }

  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    return new SocketIterator(this);
  }

  /** What `SocketIterator.next()` calls. */
  [NEXT_CHUNK](): Promise<IteratorResult<Uint8Array>> {
    return this.#read(0, undefined, true) as Promise<IteratorResult<Uint8Array>>;
  }

  send(data: Uint8Array | string): Promise<void> {
    const bytes = typeof data === "string" ? encoder.encode(data) : data;
    if (this.#error !== undefined) return Promise.reject(this.#error);
    if ((this.#flags & (WRITE_SHUT | CLOSING | CLOSED)) !== 0) {
      return Promise.reject(new ClosedError("cannot send: the socket's sending side is closed"));
    }
    if (bytes.length === 0) return RESOLVED;
    if (this.#channel.write(bytes)) return RESOLVED;
    if (this.#drain === undefined) {
      const promise = new Promise(capture) as Promise<void>;
      this.#drain = { promise, resolve: takeResolve(), reject: takeReject() };
    }
    return this.#drain.promise;
  }

  shutdown(how: ShutdownHow): Promise<void> {
    if (how !== "read" && how !== "write" && how !== "read_write") {
      throw new TypeError(`shutdown(how): how must be "read", "write" or "read_write", got ${String(how)}`);
    }
    if ((how === "write" || how === "read_write") && (this.#flags & (WRITE_SHUT | CLOSED)) === 0) {
      this.#flags |= WRITE_SHUT;
      this.#channel.end();
    }
    if ((how === "read" || how === "read_write") && (this.#flags & READ_SHUT) === 0) {
      this.#flags |= READ_SHUT | ENDED;
      this.#chunks = undefined;
      this.#buffered = 0;
      this.#wakeAtEnd();
      // Keep draining the network so a writing peer is not blocked by bytes nobody will read.
      if ((this.#flags & PAUSED) !== 0) {
        this.#flags &= ~PAUSED;
        this.#channel.resume();
      }
    }
    return RESOLVED;
  }

  close(): Promise<void> {
    if ((this.#flags & (CLOSING | CLOSED)) === 0) {
      this.#flags |= CLOSING;
      this.#channel.close();
    }
    return this.closed;
  }

  /** Closes at once, dropping unsent bytes (the peer may see a reset). */
  destroy(): void {
    if ((this.#flags & CLOSED) !== 0) return;
    this.#flags |= CLOSING;
    this.#channel.destroy();
  }

  /**
   * Puts `bytes` back in front of the bytes not yet read, for a reader that
   * looked further than it takes (the optional PROXY header). Only while no
   * `recv()` is pending. Not (yet) part of the `Socket` contract.
   */
  unshift(bytes: Uint8Array): void {
    if (this.#waitResolve !== undefined) throw new TypeError("unshift(): a recv() on this socket is pending");
    if (bytes.length === 0 || (this.#flags & READ_SHUT) !== 0) return;
    (this.#chunks ??= []).unshift(bytes);
    this.#buffered += bytes.length;
  }

  setOptions(options: SocketOptions): Promise<void> {
    try {
      if (options.noDelay !== undefined) this.#channel.setNoDelay(Boolean(options.noDelay));
      if (options.keepAlive !== undefined) this.#channel.setKeepAlive(Boolean(options.keepAlive));
      return RESOLVED;
    } catch (error) {
      return Promise.reject(error);
    }
  }

  peername(): Address {
    return this.#channel.remoteAddress;
  }

  sockname(): Address {
    return this.#channel.localAddress;
  }

  get readable(): ReadableStream<Uint8Array> {
    this.#readable ??= readableView(this);
    return this.#readable;
  }

  get writable(): WritableStream<Uint8Array> {
    this.#writable ??= writableView(this);
    return this.#writable;
  }

  // ---- internals ----

  #read(length: number, timeout: number | undefined, iterate: boolean): Promise<unknown> {
    if (!Number.isSafeInteger(length) || length < 0) {
      return Promise.reject(new RangeError(`recv(length): length must be an integer >= 0, got ${length}`));
    }
    if (this.#waitResolve !== undefined) {
      return Promise.reject(new TypeError("recv(): another recv() on this socket is still pending"));
    }
    if (this.#buffered > 0 && this.#buffered >= length) {
      const chunk = this.#take(length);
      return Promise.resolve(iterate ? { value: chunk, done: false } : chunk);
    }
    if (this.#error !== undefined) return Promise.reject(this.#error);
    if ((this.#flags & ENDED) !== 0) {
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
    if (iterate) this.#flags |= WAIT_ITERATE;
    else this.#flags &= ~WAIT_ITERATE;
    if (timed) {
      this.#waitTimer = setTimeout(() => {
        if (this.#waitResolve !== resolve) return;
        this.#fail(new TimeoutError(`recv() timed out after ${timeout} ms`));
      }, timeout);
    }
    // A large request may need more than the buffer limit: keep reading.
    if ((this.#flags & PAUSED) !== 0) {
      this.#flags &= ~PAUSED;
      this.#channel.resume();
    }
    return promise;
  }

  /** Removes `length` bytes (0: the first chunk) from the buffer. */
  #take(length: number): Uint8Array {
    const out = takeBytes(this.#chunks!, length);
    this.#buffered -= out.length;
    if ((this.#flags & PAUSED) !== 0 && this.#buffered < this.#highWaterMark) {
      this.#flags &= ~PAUSED;
      this.#channel.resume();
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
    const iterate = (this.#flags & WAIT_ITERATE) !== 0;
    this.#clearWait();
    if (!iterate) resolve(chunk);
    else resolve(chunk === null ? DONE : { value: chunk, done: false });
  }

  #fail(error: unknown): void {
    const resolve = this.#waitResolve!;
    this.#clearWait();
    resolve(rejecting(error));
  }

  #wakeAtEnd(): void {
    if (this.#waitResolve === undefined) return;
    if (this.#error !== undefined) this.#fail(this.#error);
    else if (this.#buffered === 0) this.#settle(null);
    else if (this.#buffered >= this.#waitLength) this.#settle(this.#take(this.#waitLength));
    else this.#fail(this.#shortRead(this.#waitLength));
  }

  #shortRead(length: number): ClosedError {
    return new ClosedError(`stream ended after ${this.#buffered} of the ${length} bytes recv() asked for`);
  }
}
