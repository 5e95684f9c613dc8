/**
 * The `Socket` contract implemented once over a `ByteChannel`: every runtime
 * adapter and the memory transport hand their channels to this class.
 *
 * The hot path is allocation-light on purpose: a chunk that arrives while a
 * reader waits goes straight to it, `send` returns one shared resolved promise
 * while the channel is under its high-water mark, and a timer exists only
 * while a `recv` with a timeout actually waits.
 *
 * @module
 */
import type { ByteChannel, ChannelSink } from "./byte_channel.ts";
import { ClosedError, systemErrorCode, TimeoutError } from "./errors.ts";
import type { Address, RecvOptions, ShutdownHow, Socket, SocketOptions, TlsInfo } from "./transport.ts";

/** Bytes buffered for the reader before the channel is paused. */
const READ_HIGH_WATER_MARK = 64 * 1024;

const RESOLVED: Promise<void> = Promise.resolve();
const DONE: IteratorResult<Uint8Array> = Object.freeze({ value: undefined, done: true });
const encoder = new TextEncoder();

type Settle = (value: Uint8Array | null) => void;

/** A pending read: who waits, for how many bytes, and in which shape. */
interface Waiter {
  length: number;
  iterate: boolean;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
  timer: ReturnType<typeof setTimeout> | undefined;
}

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
  readonly closed: Promise<void>;

  #channel: ByteChannel;
  #highWaterMark: number;
  #chunks: Uint8Array[] = [];
  #buffered = 0;
  #paused = false;
  #ended = false; // no more bytes will arrive (peer EOF, read shutdown or close)
  #readShut = false;
  #writeShut = false;
  #closing = false;
  #isClosed = false;
  #error: ClosedError | undefined;
  #waiter: Waiter | undefined;
  #drain: { promise: Promise<void>; resolve: () => void; reject: (e: unknown) => void } | undefined;
  #resolveClosed!: () => void;
  #readable: ReadableStream<Uint8Array> | undefined;
  #writable: WritableStream<Uint8Array> | undefined;

  constructor(channel: ByteChannel, init: StreamSocketInit = {}) {
    this.#channel = channel;
    this.#highWaterMark = channel.readHighWaterMark ?? READ_HIGH_WATER_MARK;
    this.secure = init.secure ?? false;
    this.tls = init.tls;
    this.closed = new Promise((resolve) => (this.#resolveClosed = resolve));
    channel.start(this);
  }

  // ---- ChannelSink: called by the adapter ----

  onData(chunk: Uint8Array): void {
    if (this.#readShut || chunk.length === 0) return;
    const waiter = this.#waiter;
    if (waiter !== undefined && this.#buffered === 0 && (waiter.length === 0 || waiter.length === chunk.length)) {
      this.#settle(waiter, chunk);
      return;
    }
    this.#chunks.push(chunk);
    this.#buffered += chunk.length;
    if (waiter !== undefined) {
      // A waiter that wants more than the buffer limit keeps the bytes coming.
      if (this.#buffered >= waiter.length) this.#settle(waiter, this.#take(waiter.length));
    } else if (this.#buffered >= this.#highWaterMark && !this.#paused) {
      this.#paused = true;
      this.#channel.pause();
    }
  }

  onEnd(): void {
    this.#ended = true;
    this.#wakeAtEnd();
  }

  onDrain(): void {
    const drain = this.#drain;
    this.#drain = undefined;
    drain?.resolve();
  }

  onError(error: unknown): void {
    if (this.#error !== undefined) return;
    const code = systemErrorCode(error) ?? "ECLOSED";
    const message = error instanceof Error ? error.message : String(error);
    this.#error = new ClosedError(`socket failed: ${message}`, code, { cause: error });
    const waiter = this.#waiter;
    if (waiter !== undefined) this.#fail(waiter, this.#error);
    const drain = this.#drain;
    this.#drain = undefined;
    drain?.reject(this.#error);
  }

  onClose(): void {
    if (this.#isClosed) return;
    this.#isClosed = true;
    this.#ended = true;
    this.#wakeAtEnd();
    const drain = this.#drain;
    this.#drain = undefined;
    drain?.reject(this.#error ?? new ClosedError("socket closed"));
    this.#resolveClosed();
  }

  // ---- Socket ----

  recv(length = 0, options?: RecvOptions): Promise<Uint8Array | null> {
    return this.#read(length, options?.timeout, false) as Promise<Uint8Array | null>;
  }

  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    return {
      next: () => this.#read(0, undefined, true) as Promise<IteratorResult<Uint8Array>>,
      return: () => Promise.resolve(DONE),
    };
  }

  send(data: Uint8Array | string): Promise<void> {
    const bytes = typeof data === "string" ? encoder.encode(data) : data;
    if (this.#error !== undefined) return Promise.reject(this.#error);
    if (this.#writeShut || this.#closing || this.#isClosed) {
      return Promise.reject(new ClosedError("cannot send: the socket's sending side is closed"));
    }
    if (bytes.length === 0) return RESOLVED;
    if (this.#channel.write(bytes)) return RESOLVED;
    if (this.#drain === undefined) {
      let resolve!: () => void, reject!: (e: unknown) => void;
      const promise = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)));
      this.#drain = { promise, resolve, reject };
    }
    return this.#drain.promise;
  }

  shutdown(how: ShutdownHow): Promise<void> {
    if (how !== "read" && how !== "write" && how !== "read_write") {
      throw new TypeError(`shutdown(how): how must be "read", "write" or "read_write", got ${String(how)}`);
    }
    if ((how === "write" || how === "read_write") && !this.#writeShut && !this.#isClosed) {
      this.#writeShut = true;
      this.#channel.end();
    }
    if ((how === "read" || how === "read_write") && !this.#readShut) {
      this.#readShut = true;
      this.#ended = true;
      this.#chunks = [];
      this.#buffered = 0;
      this.#wakeAtEnd();
      // Keep draining the network so a writing peer is not blocked by bytes nobody will read.
      if (this.#paused) {
        this.#paused = false;
        this.#channel.resume();
      }
    }
    return RESOLVED;
  }

  close(): Promise<void> {
    if (!this.#closing && !this.#isClosed) {
      this.#closing = true;
      this.#channel.close();
    }
    return this.closed;
  }

  /** Closes at once, dropping unsent bytes (the peer may see a reset). */
  destroy(): void {
    if (this.#isClosed) return;
    this.#closing = true;
    this.#channel.destroy();
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
    this.#readable ??= new ReadableStream<Uint8Array>(
      {
        pull: async (controller) => {
          const chunk = await this.recv(0);
          if (chunk === null) controller.close();
          else controller.enqueue(chunk);
        },
        cancel: () => this.shutdown("read"),
      },
      { highWaterMark: 0 },
    );
    return this.#readable;
  }

  get writable(): WritableStream<Uint8Array> {
    this.#writable ??= new WritableStream<Uint8Array>({
      write: (chunk) => this.send(chunk),
      close: () => this.shutdown("write"),
      abort: () => this.destroy(),
    });
    return this.#writable;
  }

  // ---- internals ----

  #read(length: number, timeout: number | undefined, iterate: boolean): Promise<unknown> {
    if (!Number.isSafeInteger(length) || length < 0) {
      return Promise.reject(new RangeError(`recv(length): length must be an integer >= 0, got ${length}`));
    }
    if (this.#waiter !== undefined) {
      return Promise.reject(new TypeError("recv(): another recv() on this socket is still pending"));
    }
    if (this.#buffered > 0 && this.#buffered >= length) {
      const chunk = this.#take(length);
      return Promise.resolve(iterate ? { value: chunk, done: false } : chunk);
    }
    if (this.#error !== undefined) return Promise.reject(this.#error);
    if (this.#ended) {
      if (this.#buffered > 0) return Promise.reject(this.#shortRead(length));
      return Promise.resolve(iterate ? DONE : null);
    }
    return new Promise((resolve, reject) => {
      const waiter: Waiter = { length, iterate, resolve, reject, timer: undefined };
      if (timeout !== undefined && timeout !== Infinity) {
        if (!(timeout >= 0)) throw new RangeError(`recv(): timeout must be a number >= 0, got ${timeout}`);
        waiter.timer = setTimeout(() => {
          if (this.#waiter !== waiter) return;
          this.#waiter = undefined;
          reject(new TimeoutError(`recv() timed out after ${timeout} ms`));
        }, timeout);
      }
      this.#waiter = waiter;
      // A large request may need more than the buffer limit: keep reading.
      if (this.#paused) {
        this.#paused = false;
        this.#channel.resume();
      }
    });
  }

  /** Removes `length` bytes (0: the first chunk) from the buffer. */
  #take(length: number): Uint8Array {
    const chunks = this.#chunks;
    const first = chunks[0]!;
    let out: Uint8Array;
    if (length === 0 || first.length === length) {
      out = first;
      chunks.shift();
    } else if (first.length > length) {
      out = first.subarray(0, length);
      chunks[0] = first.subarray(length);
    } else {
      out = new Uint8Array(length);
      let offset = 0;
      while (offset < length) {
        const chunk = chunks[0]!;
        const need = length - offset;
        if (chunk.length <= need) {
          out.set(chunk, offset);
          offset += chunk.length;
          chunks.shift();
        } else {
          out.set(chunk.subarray(0, need), offset);
          chunks[0] = chunk.subarray(need);
          offset = length;
        }
      }
    }
    this.#buffered -= out.length;
    if (this.#paused && this.#buffered < this.#highWaterMark) {
      this.#paused = false;
      this.#channel.resume();
    }
    return out;
  }

  #settle(waiter: Waiter, chunk: Uint8Array | null): void {
    this.#waiter = undefined;
    if (waiter.timer !== undefined) clearTimeout(waiter.timer);
    const settle = waiter.resolve as Settle;
    if (waiter.iterate) waiter.resolve(chunk === null ? DONE : { value: chunk, done: false });
    else settle(chunk);
  }

  #fail(waiter: Waiter, error: unknown): void {
    this.#waiter = undefined;
    if (waiter.timer !== undefined) clearTimeout(waiter.timer);
    waiter.reject(error);
  }

  #wakeAtEnd(): void {
    const waiter = this.#waiter;
    if (waiter === undefined) return;
    if (this.#error !== undefined) this.#fail(waiter, this.#error);
    else if (this.#buffered === 0) this.#settle(waiter, null);
    else if (this.#buffered >= waiter.length) this.#settle(waiter, this.#take(waiter.length));
    else this.#fail(waiter, this.#shortRead(waiter.length));
  }

  #shortRead(length: number): ClosedError {
    return new ClosedError(`stream ended after ${this.#buffered} of the ${length} bytes recv() asked for`);
  }
}
