/**
 * The reads a framing parser needs (`readAvailable`, `unshift`,
 * `bytesBuffered`) and batched writes (`sendv`), over any `Socket`: how a
 * custom transport's socket, written before those existed or without them,
 * gets them. `conn.handshake()` wraps such a socket in this class; every
 * built-in transport's socket has them itself and is never wrapped.
 *
 * The buffer here holds only bytes taken off the socket underneath and not
 * read yet (unshifted ones, or the start of a read that waits for more), so
 * `readAvailable()` cannot see what that socket buffers: when it has to
 * wait it returns what one `recv(0)` of it delivers.
 *
 * @module
 */
import { ClosedError, TimeoutError } from "../errors.ts";
import type {
  Address,
  RecvOptions,
  SendfileOptions,
  ShutdownHow,
  Socket,
  SocketOptions,
  TlsInfo,
} from "../transport.ts";
import { readableView } from "./stream_views.ts";
import { takeAll, takeBytes } from "./_take_bytes.ts";
import { gather } from "./_gather.ts";

const DONE: IteratorResult<Uint8Array> = Object.freeze({ value: undefined, done: true });

/**
 * `socket` itself when it has the framing reads and `sendv`, else `socket`
 * behind a {@linkcode BufferedSocket} that adds them.
 */
export function withFramingReads(socket: Socket): Socket {
  const parts = socket as Partial<Socket>;
  const complete = typeof parts.readAvailable === "function" && typeof parts.unshift === "function" &&
    typeof parts.sendv === "function" && typeof parts.bytesBuffered === "number";
  return complete ? socket : new BufferedSocket(socket);
}

/** `inner` with a read buffer of its own in front of its incoming bytes; everything else is `inner`'s. */
export class BufferedSocket implements Socket {
  readonly #inner: Socket;
  #chunks: Uint8Array[] = [];
  #buffered = 0;
  #reading = false;
  #readable: ReadableStream<Uint8Array> | undefined;

  constructor(inner: Socket) {
    this.#inner = inner;
  }

  /** The socket underneath. */
  get inner(): Socket {
    return this.#inner;
  }

  // The counters are the inner socket's: buffered bytes were received (and counted) there.
  get bytesReceived(): number {
    return this.#inner.bytesReceived;
  }

  get bytesSent(): number {
    return this.#inner.bytesSent;
  }

  get recvCount(): number {
    return this.#inner.recvCount;
  }

  get sendCount(): number {
    return this.#inner.sendCount;
  }

  get bytesBuffered(): number {
    return this.#buffered;
  }

  recv(length = 0, options?: RecvOptions): Promise<Uint8Array | null> {
    if (!Number.isSafeInteger(length) || length < 0) {
      return Promise.reject(new RangeError(`recv(length): must be an integer >= 0, got ${length}`));
    }
    if (this.#reading) return Promise.reject(new TypeError("recv(): another read on this socket is still pending"));
    const buffered = this.#buffered;
    if (buffered === 0) return this.#inner.recv(length, options);
    if (length === 0 || buffered >= length) return Promise.resolve(this.#take(length, false));
    return this.#fill(length, options, false);
  }

  readAvailable(minLength = 1, options?: RecvOptions): Promise<Uint8Array | null> {
    if (!Number.isSafeInteger(minLength) || minLength < 0) {
      return Promise.reject(new RangeError(`readAvailable(minLength): must be an integer >= 0, got ${minLength}`));
    }
    if (this.#reading) {
      return Promise.reject(new TypeError("readAvailable(): another read on this socket is still pending"));
    }
    const least = Math.max(1, minLength);
    if (this.#buffered >= least) return Promise.resolve(this.#take(0, true));
    if (this.#buffered === 0 && least === 1) return this.#inner.recv(0, options);
    return this.#fill(least, options, true);
  }

  unshift(bytes: Uint8Array): void {
    if (!(bytes instanceof Uint8Array)) throw new TypeError("unshift(bytes): bytes must be a Uint8Array");
    if (this.#reading) throw new TypeError("unshift(): a read on this socket is pending");
    if (bytes.length === 0) return;
    this.#chunks.unshift(bytes);
    this.#buffered += bytes.length;
  }

  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    return {
      next: async () => {
        const chunk = await this.recv(0);
        return chunk === null ? DONE : { value: chunk, done: false };
      },
      return: () => Promise.resolve(DONE),
    };
  }

  send(data: Uint8Array | string): Promise<void> {
    return this.#inner.send(data);
  }

  sendv(chunks: readonly (Uint8Array | string)[]): Promise<void> {
    const inner = this.#inner as Partial<Socket>;
    if (typeof inner.sendv === "function") return inner.sendv(chunks);
    try {
      return this.#inner.send(gather(chunks));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  sendfile(file: string | URL, options?: SendfileOptions): Promise<number> {
    return this.#inner.sendfile(file, options);
  }

  shutdown(how: ShutdownHow): Promise<void> {
    if (how === "read" || how === "read_write") {
      this.#chunks = [];
      this.#buffered = 0;
    }
    return this.#inner.shutdown(how);
  }

  close(): Promise<void> {
    return this.#inner.close();
  }

  destroy(): void {
    this.#inner.destroy();
  }

  get closed(): Promise<void> {
    return this.#inner.closed;
  }

  setOptions(options: SocketOptions): Promise<void> {
    return this.#inner.setOptions(options);
  }

  peername(): Address {
    return this.#inner.peername();
  }

  sockname(): Address {
    return this.#inner.sockname();
  }

  get secure(): boolean {
    return this.#inner.secure;
  }

  get tls(): TlsInfo | undefined {
    return this.#inner.tls;
  }

  get readable(): ReadableStream<Uint8Array> {
    this.#readable ??= readableView(this);
    return this.#readable;
  }

  get writable(): WritableStream<Uint8Array> {
    return this.#inner.writable;
  }

  /** Reads the inner socket until `length` bytes are buffered; on a timeout or failure they stay buffered. */
  async #fill(length: number, options: RecvOptions | undefined, all: boolean): Promise<Uint8Array | null> {
    const timeout = options?.timeout;
    const deadline = timeout === undefined || timeout === Infinity ? Infinity : performance.now() + timeout;
    this.#reading = true;
    try {
      while (this.#buffered < length) {
        const left = deadline - performance.now();
        if (left <= 0) throw new TimeoutError(`read timed out after ${timeout} ms`);
        const chunk = await this.#inner.recv(0, deadline === Infinity ? undefined : { timeout: Math.ceil(left) });
        if (chunk === null) {
          if (this.#buffered === 0) return null;
          throw new ClosedError(`stream ended after ${this.#buffered} of the ${length} bytes asked for`);
        }
        this.#chunks.push(chunk);
        this.#buffered += chunk.length;
      }
    } finally {
      this.#reading = false;
    }
    return this.#take(length, all);
  }

  #take(length: number, all: boolean): Uint8Array {
    const out = all ? takeAll(this.#chunks, this.#buffered) : takeBytes(this.#chunks, length);
    this.#buffered -= out.length;
    return out;
  }
}
