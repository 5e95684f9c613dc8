/**
 * What a protocol receives for each accepted connection (Ranch's `Ref`
 * plus `ranch:handshake/1` and `ranch:remove_connection/1`).
 *
 * @module
 */
import { HandshakeError, ProxyHeaderError, TimeoutError } from "./errors.ts";
import type { Listener } from "./listener.ts";
import type { ProxyHeader } from "./proxy/proxy_header.ts";
import { type ProxyHeaderReading, readProxyHeader } from "./proxy/reader.ts";
import type { Socket, Transport } from "./transport.ts";

/** `#stopReason` of a connection whose listener has not stopped. */
const NOT_STOPPED: unique symbol = Symbol("not stopped");
/** `#handshake` of a connection whose handshake succeeded. */
const HANDSHAKEN: unique symbol = Symbol("handshaken");
/** `#ended` of a connection that ended before anyone asked for `ended`. */
const ENDED: unique symbol = Symbol("ended");

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
   * Resolves once the connection is over, however it ended: the protocol
   * returned, threw or rejected, or `stop()` destroyed the socket of a
   * protocol that outlived `shutdownTimeout`. By then the socket's release
   * has begun (it may still be flushing). Never rejects. For bookkeeping that
   * must not outlive the connection, such as `Registry` entries.
   *
   * @example Waiting for a connection to end
   * ```ts
   * import assert from "node:assert/strict";
   * import { type Connection, listen, memory } from "../mod.ts";
   * let accepted!: (conn: Connection) => void;
   * const first = new Promise<Connection>((resolve) => (accepted = resolve));
   * const listener = await listen({
   *   transport: memory({ name: "doc-ended" }),
   *   protocol: async (conn) => {
   *     accepted(conn);
   *     await (await conn.handshake()).recv();
   *   },
   * });
   * const client = await memory().connect({ name: "doc-ended" });
   * const conn = await first;
   * await client.close(); // the protocol's recv() sees end of stream and returns
   * await conn.ended;
   * assert(listener.connections("all") === 0);
   * await listener.stop();
   * ```
   */
  readonly ended: Promise<void>;
  /**
   * Finishes the connection's setup (TLS handshake, ...) within the
   * listener's `handshakeTimeout` and returns the socket to use. Call it
   * once first; later calls return the same socket.
   */
  handshake(): Promise<Socket>;
  /**
   * The PROXY protocol header `handshake()` read, on a listener started with
   * `proxyHeader`: who the client really is behind the load balancer
   * (`sourceAddress`, `sourcePort`, ...). `undefined` before the handshake,
   * without the option, and for a connection that sent none when the header
   * is not `required`. A `command: "local"` header (the proxy's own health
   * check) carries no addresses: use `socket.peername()`.
   *
   * @example Reading the client's address behind a proxy
   * ```ts
   * import assert from "node:assert/strict";
   * import { listen, tcp } from "../mod.ts";
   * import { buildProxyHeader } from "./proxy/proxy_header.ts";
   * const listener = await listen({
   *   transport: tcp({ host: "127.0.0.1" }),
   *   proxyHeader: true,
   *   protocol: async (conn) => {
   *     const socket = await conn.handshake();
   *     await socket.send(`${conn.proxyHeader?.sourceAddress}:${conn.proxyHeader?.sourcePort}`);
   *   },
   * });
   * const client = await tcp().connect({ port: listener.port! });
   * await client.send(buildProxyHeader({
   *   family: "inet",
   *   protocol: "stream",
   *   sourceAddress: "203.0.113.7",
   *   sourcePort: 40000,
   *   destinationAddress: "192.0.2.1",
   *   destinationPort: 443,
   * }));
   * assert(new TextDecoder().decode((await client.recv(17, { timeout: 5000 }))!) === "203.0.113.7:40000");
   * await client.close();
   * await listener.stop();
   * ```
   */
  readonly proxyHeader: ProxyHeader | undefined;
  /**
   * Stops counting this connection against `maxConnections` (for
   * long-lived upgraded connections). Idempotent.
   */
  removeFromCount(): void;
}

/**
 * The supervisor's side of a connection: what every connection of one
 * listener shares is kept here once, not copied into each record.
 */
export interface ConnectionOwner<P> {
  /** The listener whose connections these are. */
  readonly listener: Listener<P>;
  /** Milliseconds `handshake()` may take. */
  readonly handshakeTimeout: number;
  /** Read a PROXY header first (the checked `proxyHeader` option of `listen()`), or undefined. */
  readonly proxyHeader: ProxyHeaderReading | undefined;
  /** Called by `removeFromCount()`. */
  uncount(conn: ConnectionRecord<P>): void;
  /** Called once when a handshake (or its PROXY header) fails, for the counters and the log. */
  handshakeFailed(conn: ConnectionRecord<P>, error: HandshakeError | ProxyHeaderError): void;
}

/**
 * A connection as the supervisor tracks it. An idle connection is mostly
 * its socket and this record, so the record holds only what differs per
 * connection.
 */
export class ConnectionRecord<P = unknown> implements Connection<P> {
  readonly id: number;
  readonly transport: Transport;
  /** The socket to close when the protocol ends: the accepted one, then the handshaken one. */
  socket: Socket;
  /** Counted against `maxConnections`. */
  counted = true;
  /** The handshake's failure, so it is logged and counted once. */
  handshakeError: HandshakeError | ProxyHeaderError | undefined;
  #owner: ConnectionOwner<P>;
  /** The handshake under way (or failed), or `HANDSHAKEN` once it succeeded and nobody waits on it. */
  #handshake: Promise<Socket> | typeof HANDSHAKEN | undefined;
  #proxyHeader: ProxyHeader | undefined;
  // `signal` and `ended` are made on first use: most protocols never ask,
  // and each costs a few hundred bytes per connection.
  #controller: AbortController | undefined;
  /** Why the listener stopped, once it did (`NOT_STOPPED` before). */
  #stopReason: unknown = NOT_STOPPED;
  /** `ENDED` when the connection ended before anyone asked for `ended`. */
  #ended: Promise<void> | typeof ENDED | undefined;
  #resolveEnded: (() => void) | undefined;

  constructor(id: number, socket: Socket, transport: Transport, owner: ConnectionOwner<P>) {
    this.id = id;
    this.socket = socket;
    this.transport = transport;
    this.#owner = owner;
  }

  get ref(): string {
    return this.#owner.listener.ref;
  }

  get listener(): Listener<P> {
    return this.#owner.listener;
  }

  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (this.#stopReason !== NOT_STOPPED) this.#controller.abort(this.#stopReason);
    }
    return this.#controller.signal;
  }

  get ended(): Promise<void> {
    const ended = this.#ended;
    if (ended === ENDED) return (this.#ended = Promise.resolve());
    return (this.#ended = ended ?? new Promise((resolve) => (this.#resolveEnded = resolve)));
  }

  /** Aborts `signal` (now, or when it is first read); the supervisor calls it when the listener stops. */
  abort(reason: unknown): void {
    if (this.#stopReason !== NOT_STOPPED) return;
    this.#stopReason = reason;
    this.#controller?.abort(reason);
  }

  /** Resolves `ended`; the supervisor calls it once the connection is over (idempotent). */
  markEnded(): void {
    if (this.#ended === undefined) this.#ended = ENDED;
    this.#resolveEnded?.();
  }

  handshake(): Promise<Socket> {
    const handshake = this.#handshake;
    if (handshake === HANDSHAKEN) return Promise.resolve(this.socket);
    return (this.#handshake = handshake ?? this.#runHandshake());
  }

  get proxyHeader(): ProxyHeader | undefined {
    return this.#proxyHeader;
  }

  removeFromCount(): void {
    this.#owner.uncount(this);
  }

  async #runHandshake(): Promise<Socket> {
    // The PROXY header comes first on the wire, before any TLS record.
    const reading = this.#owner.proxyHeader;
    if (reading !== undefined) await this.#readProxyHeader(reading);
    try {
      this.socket = await this.transport.handshake(this.socket, this.#owner.handshakeTimeout);
      // Later calls make a resolved promise: no settled one is kept for the connection's life.
      this.#handshake = HANDSHAKEN;
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

  async #readProxyHeader(reading: ProxyHeaderReading): Promise<void> {
    try {
      const read = await readProxyHeader(this.socket, reading);
      this.#proxyHeader = read.header;
      this.socket = read.socket;
    } catch (cause) {
      const error = cause instanceof ProxyHeaderError
        ? cause
        : new ProxyHeaderError("EPROXY_TRUNCATED", `reading the PROXY header failed: ${String(cause)}`, { cause });
      this.handshakeError = error;
      this.#owner.handshakeFailed(this, error);
      // Closed here, not only when the protocol ends: a protocol that catches this must not keep the peer.
      void this.socket.close();
      throw error;
    }
  }
}
