/**
 * A `Socket` that first serves bytes already taken off another socket, then
 * reads from that socket: how bytes are "unread" after looking at them.
 * Used when a listener with `proxyHeader: { required: false }` finds no
 * PROXY signature: the bytes it inspected go back in front of the stream.
 *
 * @module
 */
import { ClosedError } from "../errors.ts";
import type {
  Address,
  RecvOptions,
  SendfileOptions,
  ShutdownHow,
  Socket,
  SocketOptions,
  TlsInfo,
} from "../transport.ts";
import { readableView } from "../socket/stream_views.ts";

const DONE: IteratorResult<Uint8Array> = Object.freeze({ value: undefined, done: true });

/** `inner` with `prefix` in front of its incoming bytes; everything else is `inner`'s. */
export class PrefixedSocket implements Socket {
  readonly #inner: Socket;
  #prefix: Uint8Array | undefined;
  #reading = false;
  #readable: ReadableStream<Uint8Array> | undefined;

  constructor(inner: Socket, prefix: Uint8Array) {
    this.#inner = inner;
    this.#prefix = prefix.length > 0 ? prefix : undefined;
  }

  /** The socket underneath. */
  get inner(): Socket {
    return this.#inner;
  }

  // The counters are the inner socket's: the prefix was received (and counted) there.
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

  async recv(length = 0, options?: RecvOptions): Promise<Uint8Array | null> {
    const prefix = this.#prefix;
    if (prefix === undefined) return this.#inner.recv(length, options);
    if (!Number.isSafeInteger(length) || length < 0) {
      throw new RangeError(`recv(length): length must be an integer >= 0, got ${length}`);
    }
    if (this.#reading) throw new TypeError("recv(): another recv() on this socket is still pending");
    if (length === 0 || length === prefix.length) {
      this.#prefix = undefined;
      return prefix;
    }
    if (length < prefix.length) {
      this.#prefix = prefix.subarray(length);
      return prefix.subarray(0, length);
    }
    // The prefix is only given up once the rest arrived, so a timeout loses nothing.
    this.#reading = true;
    let tail: Uint8Array | null;
    try {
      tail = await this.#inner.recv(length - prefix.length, options);
    } finally {
      this.#reading = false;
    }
    this.#prefix = undefined;
    if (tail === null) {
      throw new ClosedError(`stream ended after ${prefix.length} of the ${length} bytes recv() asked for`);
    }
    const out = new Uint8Array(length);
    out.set(prefix);
    out.set(tail, prefix.length);
    return out;
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

  sendfile(file: string | URL, options?: SendfileOptions): Promise<number> {
    return this.#inner.sendfile(file, options);
  }

  shutdown(how: ShutdownHow): Promise<void> {
    if (how === "read" || how === "read_write") this.#prefix = undefined;
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
}
