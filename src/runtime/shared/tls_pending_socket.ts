/**
 * The socket a TLS listen socket's `accept()` hands out before its
 * handshake: the same small class on every runtime, around two hooks that
 * the runtime's adapter supplies (run the handshake, drop the connection).
 *
 * Ranch's acceptor only accepts; the handshake runs later, in the
 * connection, when the protocol calls `conn.handshake()`. Until then this
 * object is what the supervisor holds: it can name its peer for the log and
 * be closed, and nothing reads the connection's bytes.
 *
 * @module
 */
import { ClosedError } from "../../errors.ts";
import type {
  Address,
  RecvOptions,
  SendfileOptions,
  ShutdownHow,
  Socket,
  SocketOptions,
  TlsInfo,
} from "../../transport.ts";
import type { PendingTlsSocket } from "../adapter.ts";

/** What the runtime adapter does for a pending TLS connection. */
export interface PendingTlsHooks {
  /** Runs (or waits for) the server handshake; resolves with the secure socket. */
  handshake(): Promise<Socket>;
  /** Drops the connection at once (also called after a failed handshake). */
  destroy(): void;
}

const NOT_YET = "call conn.handshake() first: this TLS connection has not finished its handshake";

/** A TLS server connection between `accept()` and its handshake. */
export class PendingTls implements PendingTlsSocket {
  /** TLS records travel on it, even before the handshake. */
  readonly secure = true;
  readonly closed: Promise<void>;
  #peer: Address;
  #local: Address;
  #hooks: PendingTlsHooks;
  #handshake: Promise<Socket> | undefined;
  #socket: Socket | undefined;
  #isClosed = false;
  #resolveClosed!: () => void;

  /** Addresses are taken at accept time: runtimes forget them once the connection is gone. */
  constructor(peer: Address, local: Address, hooks: PendingTlsHooks) {
    this.#peer = peer;
    this.#local = local;
    this.#hooks = hooks;
    this.closed = new Promise((resolve) => (this.#resolveClosed = resolve));
  }

  /** `undefined` until the handshake is done; the secure socket has the details. */
  get tls(): TlsInfo | undefined {
    return this.#socket?.tls;
  }

  // Nothing is counted before the handshake: the secure socket counts the decrypted bytes.
  get bytesReceived(): number {
    return this.#socket?.bytesReceived ?? 0;
  }

  get bytesSent(): number {
    return this.#socket?.bytesSent ?? 0;
  }

  get recvCount(): number {
    return this.#socket?.recvCount ?? 0;
  }

  get sendCount(): number {
    return this.#socket?.sendCount ?? 0;
  }

  handshakeTls(): Promise<Socket> {
    this.#handshake ??= this.#run();
    return this.#handshake;
  }

  async #run(): Promise<Socket> {
    if (this.#isClosed) throw new ClosedError("the connection was closed before its TLS handshake");
    let socket: Socket;
    try {
      socket = await this.#hooks.handshake();
    } catch (error) {
      this.#drop();
      throw error;
    }
    if (this.#isClosed) {
      // Closed (a handshake timeout, a stop) while the handshake finished.
      socket.destroy();
      throw new ClosedError("the connection was closed during its TLS handshake");
    }
    this.#socket = socket;
    void socket.closed.then(() => this.#markClosed());
    return socket;
  }

  recv(_length?: number, _options?: RecvOptions): Promise<Uint8Array | null> {
    return Promise.reject(new TypeError(`recv(): ${NOT_YET}`));
  }

  send(_data: Uint8Array | string): Promise<void> {
    return Promise.reject(new TypeError(`send(): ${NOT_YET}`));
  }

  readAvailable(_minLength?: number, _options?: RecvOptions): Promise<Uint8Array | null> {
    return Promise.reject(new TypeError(`readAvailable(): ${NOT_YET}`));
  }

  unshift(_bytes: Uint8Array): void {
    throw new TypeError(`unshift(): ${NOT_YET}`);
  }

  /** Nothing is read before the handshake. */
  get bytesBuffered(): number {
    return this.#socket?.bytesBuffered ?? 0;
  }

  sendv(_chunks: readonly (Uint8Array | string)[]): Promise<void> {
    return Promise.reject(new TypeError(`sendv(): ${NOT_YET}`));
  }

  sendfile(_file: string | URL, _options?: SendfileOptions): Promise<number> {
    return Promise.reject(new TypeError(`sendfile(): ${NOT_YET}`));
  }

  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    return { next: () => Promise.reject(new TypeError(`iteration: ${NOT_YET}`)) };
  }

  shutdown(how: ShutdownHow): Promise<void> {
    if (this.#socket !== undefined) return this.#socket.shutdown(how);
    if (how === "write" || how === "read_write") this.#drop();
    return Promise.resolve();
  }

  close(): Promise<void> {
    if (this.#socket !== undefined) return this.#socket.close();
    this.#drop();
    return this.closed;
  }

  destroy(): void {
    if (this.#socket !== undefined) this.#socket.destroy();
    else this.#drop();
  }

  setOptions(options: SocketOptions): Promise<void> {
    return this.#socket?.setOptions(options) ?? Promise.resolve();
  }

  peername(): Address {
    return this.#peer;
  }

  sockname(): Address {
    return this.#local;
  }

  get readable(): ReadableStream<Uint8Array> {
    if (this.#socket !== undefined) return this.#socket.readable;
    throw new TypeError(`readable: ${NOT_YET}`);
  }

  get writable(): WritableStream<Uint8Array> {
    if (this.#socket !== undefined) return this.#socket.writable;
    throw new TypeError(`writable: ${NOT_YET}`);
  }

  #drop(): void {
    if (this.#isClosed) return;
    this.#hooks.destroy();
    this.#markClosed();
  }

  #markClosed(): void {
    this.#isClosed = true;
    this.#resolveClosed();
  }
}
