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

/**
 * An acceptor waiting in an `AcceptQueue` without a promise: a pushed socket
 * is handed to it synchronously, from the runtime's connection callback, so
 * accepting costs no promise and no microtask per connection. Either call
 * unparks it; it parks again itself.
 */
export interface ParkedAcceptor {
  /** A connection arrived. */
  take(socket: Socket): void;
  /** Accepting failed (such as EMFILE), or the queue closed (a `ClosedError`). */
  fail(error: unknown): void;
}

/** Pairs pushed sockets with pulling acceptors, in arrival order. */
export class AcceptQueue implements ListenSocket {
  readonly address: Address;
  #ready: Socket[] = [];
  /** Acceptors parked here, the last one parked served first. */
  #parked: ParkedAcceptor[] = [];
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
    const parked = this.#parked.pop();
    if (parked !== undefined) return parked.take(socket);
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
    const parked = this.#parked.pop();
    if (parked !== undefined) return parked.fail(error);
    const reject = this.#waitingReject.shift();
    if (reject !== undefined) {
      this.#waitingResolve.shift();
      reject(error);
    } else this.#failure ??= error;
  }

  /**
   * Parks `acceptor` until the next connection (or failure) arrives. A
   * socket already waiting is returned instead, and the acceptor is not
   * parked; a failure already known, or a closed queue, is told to
   * `acceptor.fail` at once.
   */
  park(acceptor: ParkedAcceptor): Socket | undefined {
    const socket = this.#ready.shift();
    if (socket !== undefined) return socket;
    if (this.#closed) acceptor.fail(new ClosedError("listen socket closed"));
    else if (this.#failure !== undefined) {
      const failure = this.#failure;
      this.#failure = undefined;
      acceptor.fail(failure);
    } else this.#parked.push(acceptor);
    return undefined;
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
    for (const parked of this.#parked.splice(0)) parked.fail(error);
    // Connections the kernel completed but no acceptor took are refused now.
    for (const socket of this.#ready.splice(0)) socket.destroy();
    await this.#onClose();
  }
}
