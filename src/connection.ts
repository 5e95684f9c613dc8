/**
 * What a protocol receives for each accepted connection (Ranch's `Ref`
 * plus `ranch:handshake/1` and `ranch:remove_connection/1`).
 *
 * @module
 */
import { HandshakeError, TimeoutError } from "./errors.ts";
import type { Listener } from "./listener.ts";
import type { Socket, Transport } from "./transport.ts";

/**
 * One accepted connection, handed to the protocol function.
 *
 * @example A protocol that reads one greeting and answers
 * ```ts
 * import assert from "node:assert/strict";
 * import type { Connection } from "./connection.ts";
 * async function greet(conn: Connection): Promise<void> {
 *   const socket = await conn.handshake();
 *   const name = await socket.recv(0, { timeout: 5000 });
 *   if (name !== null) await socket.send(`hello ${new TextDecoder().decode(name)}`);
 * }
 * assert(typeof greet === "function");
 * ```
 */
export interface Connection<P = unknown> {
  /** A number unique among this listener's connections. */
  readonly id: number;
  /** The listener's `ref`. */
  readonly ref: string;
  /** The listener that accepted the connection. */
  readonly listener: Listener<P>;
  /** The transport that accepted it. */
  readonly transport: Transport;
  /** Aborted when the listener stops: finish up, the socket closes after `shutdownTimeout`. */
  readonly signal: AbortSignal;
  /**
   * Finishes the connection's setup (TLS handshake, ...) within the
   * listener's `handshakeTimeout` and returns the socket to use. Call it
   * once first; later calls return the same socket.
   */
  handshake(): Promise<Socket>;
  /**
   * Stops counting this connection against `maxConnections` (for
   * long-lived upgraded connections). Idempotent.
   */
  removeFromCount(): void;
}

/** The supervisor's side of a connection. */
export interface ConnectionOwner<P> {
  /** Called by `removeFromCount()`. */
  uncount(conn: ConnectionRecord<P>): void;
  /** Called once when a handshake fails, for the counters and the log. */
  handshakeFailed(conn: ConnectionRecord<P>, error: HandshakeError): void;
}

/** A connection as the supervisor tracks it. */
export class ConnectionRecord<P = unknown> implements Connection<P> {
  readonly id: number;
  readonly ref: string;
  readonly listener: Listener<P>;
  readonly transport: Transport;
  readonly signal: AbortSignal;
  /** The socket to close when the protocol ends: the accepted one, then the handshaken one. */
  socket: Socket;
  /** Counted against `maxConnections`. */
  counted = true;
  /** The handshake's failure, so it is logged and counted once. */
  handshakeError: HandshakeError | undefined;
  #owner: ConnectionOwner<P>;
  #handshakeTimeout: number;
  #handshake: Promise<Socket> | undefined;

  constructor(
    init: { id: number; listener: Listener<P>; transport: Transport; signal: AbortSignal; handshakeTimeout: number },
    socket: Socket,
    owner: ConnectionOwner<P>,
  ) {
    this.id = init.id;
    this.ref = init.listener.ref;
    this.listener = init.listener;
    this.transport = init.transport;
    this.signal = init.signal;
    this.#handshakeTimeout = init.handshakeTimeout;
    this.socket = socket;
    this.#owner = owner;
  }

  handshake(): Promise<Socket> {
    this.#handshake ??= this.#runHandshake();
    return this.#handshake;
  }

  removeFromCount(): void {
    this.#owner.uncount(this);
  }

  async #runHandshake(): Promise<Socket> {
    try {
      this.socket = await this.transport.handshake(this.socket, this.#handshakeTimeout);
      return this.socket;
    } catch (cause) {
      const reason = cause instanceof Error ? cause.message : String(cause);
      const error = cause instanceof HandshakeError ? cause : new HandshakeError(
        `${cause instanceof TimeoutError ? "handshake timed out" : "handshake failed"}: ${reason}`,
        {
          cause,
        },
      );
      this.handshakeError = error;
      this.#owner.handshakeFailed(this, error);
      throw error;
    }
  }
}
