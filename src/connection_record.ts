/**
 * The connection record: what the supervisor keeps per connection and what
 * the protocol receives as its `Connection`. It knows its listener only as
 * an opaque value of type `L`, so the pool's modules import each other in
 * one direction (the public `Connection` type in `connection.ts` names the
 * `Listener` class; this file does not).
 *
 * @module
 */
import { HandshakeError, ProxyHeaderError, TimeoutError } from "./errors.ts";
import { checkIdleTimeout, IdleWatch } from "./idle_watch.ts";
import type { ProxyHeader } from "./proxy/proxy_header.ts";
import { type ProxyHeaderReading, readProxyHeader } from "./proxy/reader.ts";
import { withFramingReads } from "./socket/buffered_socket.ts";
import type { Address, Socket, Transport } from "./transport.ts";
import {
  announceShutdown,
  type ConnectionTrace,
  handshakeTracing,
  isTraced,
  traceHandshake,
} from "./telemetry/connection_trace.ts";

/** `#stopReason` of a connection whose listener has not stopped. */
const NOT_STOPPED: unique symbol = Symbol("not stopped");
/** `#handshake` of a connection whose handshake succeeded. */
const HANDSHAKEN: unique symbol = Symbol("handshaken");
/** `#ended` of a connection that ended before anyone asked for `ended`. */
const ENDED: unique symbol = Symbol("ended");

/**
 * The supervisor's side of a connection: what every connection of one
 * listener shares is kept here once, not copied into each record.
 */
export interface ConnectionOwner<L> {
  /** The listener whose connections these are. */
  readonly listener: L;
  /** The listener's ref. */
  readonly ref: string;
  /** Milliseconds `handshake()` may take. */
  readonly handshakeTimeout: number;
  /** Read a PROXY header first (the checked `proxyHeader` option of `listen()`), or undefined. */
  readonly proxyHeader: ProxyHeaderReading | undefined;
  /** Called by `removeFromCount()`. */
  uncount(conn: ConnectionRecord<L>): void;
  /** Called once when a handshake (or its PROXY header) fails, for the counters and the log. */
  handshakeFailed(conn: ConnectionRecord<L>, error: HandshakeError | ProxyHeaderError): void;
  /** Ms a connection may receive nothing (`Infinity`: no limit), unless it sets its own. */
  readonly idleTimeout: number;
  /** The grace between an idle timeout and the socket's destruction: the listener's `shutdownTimeout`. */
  readonly shutdownTimeout: number | "brutal";
}

/**
 * A connection as the supervisor tracks it. An idle connection is mostly
 * its socket and this record, so the record holds only what differs per
 * connection.
 */
export class ConnectionRecord<L> {
  readonly id: number;
  readonly transport: Transport;
  /** The peer, read once at accept: a reset socket may no longer know it (Node.js, Bun). */
  readonly peer: Address | undefined;
  /** The socket to close when the protocol ends: the accepted one, then the handshaken one. */
  socket: Socket;
  /** Counted against `maxConnections`. */
  counted = true;
  /** The handshake's failure, so it is logged and counted once. */
  handshakeError: HandshakeError | ProxyHeaderError | undefined;
  /** Its `corral:connection` trace, when someone traced connections as it started. */
  trace: ConnectionTrace | undefined;
  #owner: ConnectionOwner<L>;
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
  /** With an idle timeout: its clock; `ENDED` once the connection is over (no clock may start). */
  #idle: IdleWatch | typeof ENDED | undefined;
  /** Bytes the socket received that are not the protocol's: a PROXY header read off the same socket. */
  #uncounted = 0;

  constructor(id: number, socket: Socket, transport: Transport, owner: ConnectionOwner<L>, peer: Address | undefined) {
    this.id = id;
    this.peer = peer;
    this.socket = socket;
    this.transport = transport;
    this.#owner = owner;
    if (owner.idleTimeout !== Infinity) this.#idle = new IdleWatch(this, owner.idleTimeout, owner.shutdownTimeout);
  }

  get ref(): string {
    return this.#owner.ref;
  }

  get listener(): L {
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

  /**
   * Aborts `signal` (now, or when it is first read): the listener stops, or
   * (`"timeout"`) the idle timeout expired. False if it was aborted already.
   */
  abort(reason: unknown, why: "shutdown" | "timeout" = "shutdown"): boolean {
    if (this.#stopReason !== NOT_STOPPED) return false;
    this.#stopReason = reason;
    announceShutdown(this, why, reason);
    const controller = this.#controller;
    // Traced: the signal's listeners run in the connection's async context, as the protocol does.
    const scope = this.trace?.scope;
    if (scope === undefined) controller?.abort(reason);
    else if (controller !== undefined) scope(() => controller.abort(reason));
    return true;
  }

  /** The idle clock expired (`IdleWatch`). */
  idleExpired(reason: TimeoutError): boolean {
    return this.abort(reason, "timeout");
  }

  /** Whether its idle timeout expired (read before `markEnded()`). */
  get idleFired(): boolean {
    const idle = this.#idle;
    return idle !== undefined && idle !== ENDED && idle.fired;
  }

  get idleTimeout(): number {
    const idle = this.#idle;
    return idle === undefined || idle === ENDED ? Infinity : idle.ms;
  }

  setIdleTimeout(ms: number): void {
    const checked = checkIdleTimeout("conn.setIdleTimeout(ms)", ms);
    const idle = this.#idle;
    if (idle === ENDED || idle?.fired) return; // over, or too late: an aborted signal cannot be taken back
    idle?.stop();
    this.#idle = checked === Infinity ? undefined : new IdleWatch(this, checked, this.#owner.shutdownTimeout);
  }

  get bytesReceived(): number {
    const received = this.socket.bytesReceived;
    return typeof received === "number" ? received - this.#uncounted : 0;
  }

  get bytesSent(): number {
    const sent = this.socket.bytesSent;
    return typeof sent === "number" ? sent : 0;
  }

  /** Resolves `ended`; the supervisor calls it once the connection is over (idempotent). */
  markEnded(): void {
    const idle = this.#idle;
    if (idle !== undefined && idle !== ENDED) idle.stop();
    this.#idle = ENDED;
    if (this.#ended === undefined) this.#ended = ENDED;
    this.#resolveEnded?.();
  }

  handshake(): Promise<Socket> {
    const handshake = this.#handshake;
    if (handshake === HANDSHAKEN) return Promise.resolve(this.socket);
    if (handshake !== undefined) return handshake;
    return (this.#handshake = isTraced(handshakeTracing)
      ? traceHandshake(this, () => this.#startHandshake())
      : this.#startHandshake());
  }

  #startHandshake(): Promise<Socket> {
    // The PROXY header comes first on the wire, before any TLS record.
    const reading = this.#owner.proxyHeader;
    return reading === undefined
      ? this.#transportHandshake()
      : this.#readProxyHeader(reading).then(() => this.#transportHandshake());
  }

  get proxyHeader(): ProxyHeader | undefined {
    return this.#proxyHeader;
  }

  removeFromCount(): void {
    this.#owner.uncount(this);
  }

  /**
   * The transport's handshake (TLS; nothing to do for tcp, unix and memory),
   * chained with `then` rather than run in an async function: every
   * connection makes this call, and an async frame costs it a few hundred
   * bytes and a microtask more.
   */
  #transportHandshake(): Promise<Socket> {
    let started: Promise<Socket>;
    try {
      started = Promise.resolve(this.transport.handshake(this.socket, this.#owner.handshakeTimeout));
    } catch (cause) {
      started = Promise.reject(cause);
    }
    return started.then((handshaken) => {
      // A custom transport's socket without the framing reads or sendv() gets them here.
      const socket = withFramingReads(handshaken);
      this.socket = socket;
      // A PROXY header read off this very socket is not the protocol's; nothing else was read yet.
      const unread = (socket as { unclaimedBytes?: number }).unclaimedBytes;
      if (unread !== undefined) this.#uncounted = socket.bytesReceived - unread;
      // Later calls make a resolved promise: no settled one is kept for the connection's life.
      this.#handshake = HANDSHAKEN;
      return socket;
    }, (cause) => {
      throw this.#handshakeFailed(cause);
    });
  }

  /** The `HandshakeError` a failed transport handshake rejects with, logged and counted once. */
  #handshakeFailed(cause: unknown): HandshakeError {
    const reason = cause instanceof Error ? cause.message : String(cause);
    const error = cause instanceof HandshakeError ? cause : new HandshakeError(
      `${cause instanceof TimeoutError ? "handshake timed out" : "handshake failed"}: ${reason}`,
      {
        cause,
      },
    );
    this.handshakeError = error;
    this.#owner.handshakeFailed(this, error);
    return error;
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
