/**
 * A `ListenSocket` for runtimes that push new connections at us (Node.js's
 * `connection` event, Bun's `open` handler, the memory transport): sockets
 * wait here until an acceptor pulls them, and acceptors wait here until a
 * socket arrives.
 *
 * @module
 */
import { ClosedError } from "../errors.ts";
import type { Address, ListenSocket, Socket } from "../transport.ts";
import { capture, type Reject, type Resolve, takeReject, takeResolve } from "./_pending_promise.ts";

/** Pairs pushed sockets with pulling acceptors, in arrival order. */
export class AcceptQueue implements ListenSocket {
  readonly address: Address;
  #ready: Socket[] = [];
  // Acceptors waiting for a socket: their promises' resolve and reject functions, in order.
  #waitingResolve: Resolve[] = [];
  #waitingReject: Reject[] = [];
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
    const resolve = this.#waitingResolve.shift();
    if (resolve !== undefined) {
      this.#waitingReject.shift();
      resolve(socket);
    } else this.#ready.push(socket);
  }

  /**
   * Reports an accept failure (such as EMFILE) to the next acceptor, so the
   * acceptor's error policy (back off, carry on) sees it.
   */
  fail(error: unknown): void {
    const reject = this.#waitingReject.shift();
    if (reject !== undefined) {
      this.#waitingResolve.shift();
      reject(error);
    } else this.#failure ??= error;
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
    const promise = new Promise(capture) as Promise<Socket>;
    this.#waitingResolve.push(takeResolve());
    this.#waitingReject.push(takeReject());
    return promise;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const error = new ClosedError("listen socket closed");
    this.#waitingResolve.length = 0;
    for (const reject of this.#waitingReject.splice(0)) reject(error);
    // Connections the kernel completed but no acceptor took are refused now.
    for (const socket of this.#ready.splice(0)) socket.destroy();
    await this.#onClose();
  }
}
