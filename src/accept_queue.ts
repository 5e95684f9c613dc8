/**
 * A `ListenSocket` for runtimes that push new connections at us (Node.js's
 * `connection` event, Bun's `open` handler, the memory transport): sockets
 * wait here until an acceptor pulls them, and acceptors wait here until a
 * socket arrives.
 *
 * @module
 */
import { ClosedError } from "./errors.ts";
import type { Address, ListenSocket, Socket } from "./transport.ts";

/** Pairs pushed sockets with pulling acceptors, in arrival order. */
export class AcceptQueue implements ListenSocket {
  readonly address: Address;
  #ready: Socket[] = [];
  #waiting: { resolve: (s: Socket) => void; reject: (e: unknown) => void }[] = [];
  #closed = false;
  #failure: unknown;
  #onClose: () => Promise<void>;

  /** `onClose` releases the runtime's listen socket. */
  constructor(address: Address, onClose: () => Promise<void>) {
    this.address = address;
    this.#onClose = onClose;
  }

  /** Whether `close()` was called. */
  get isClosed(): boolean {
    return this.#closed;
  }

  /** Hands a new connection to the next waiting acceptor, or keeps it until one asks. */
  push(socket: Socket): void {
    if (this.#closed) {
      socket.destroy();
      return;
    }
    const waiter = this.#waiting.shift();
    if (waiter !== undefined) waiter.resolve(socket);
    else this.#ready.push(socket);
  }

  /**
   * Reports an accept failure (such as EMFILE) to the next acceptor, so the
   * acceptor's error policy (back off, carry on) sees it.
   */
  fail(error: unknown): void {
    const waiter = this.#waiting.shift();
    if (waiter !== undefined) waiter.reject(error);
    else this.#failure ??= error;
  }

  accept(): Promise<Socket> {
    const socket = this.#ready.shift();
    if (socket !== undefined) return Promise.resolve(socket);
    if (this.#closed) return Promise.reject(new ClosedError("listen socket closed"));
    if (this.#failure !== undefined) {
      const failure = this.#failure;
      this.#failure = undefined;
      return Promise.reject(failure);
    }
    return new Promise((resolve, reject) => this.#waiting.push({ resolve, reject }));
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const error = new ClosedError("listen socket closed");
    for (const waiter of this.#waiting.splice(0)) waiter.reject(error);
    // Connections the kernel completed but no acceptor took are refused now.
    for (const socket of this.#ready.splice(0)) socket.destroy();
    await this.#onClose();
  }
}
