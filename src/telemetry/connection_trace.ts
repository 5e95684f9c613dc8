/**
 * The `corral:connection` and `corral:handshake` tracing channels, as the
 * supervisor and the connection record drive them. Nothing here runs for a
 * connection that began while nobody subscribed: the supervisor asks
 * {@linkcode isTraced} once per connection and makes no trace otherwise.
 *
 * Corral publishes the five messages itself rather than through
 * `TracingChannel.tracePromise`: a connection is over when the supervisor
 * says so (a `stop()` may destroy it while its protocol still runs, and a
 * `handler()` reports its end by a call, not a promise), so every
 * connection gets the same sequence: `start`, `end` when the protocol
 * function returned, `error` if it failed, `asyncStart` and `asyncEnd`
 * when the connection is over.
 *
 * @module
 */
import { ClosedError, HandshakeError, ProxyHeaderError, TimeoutError } from "../errors.ts";
import type { ProxyHeader } from "../proxy/proxy_header.ts";
import type { Address, Socket } from "../transport.ts";
import {
  captureScope,
  connectionShutdownChannel,
  connectionTracing,
  handshakeTracing,
  isTraced,
  type Scope,
} from "./channels.ts";
import type {
  ConnectionEndReason,
  ConnectionShutdownEvent,
  ConnectionTraceContext,
  HandshakeTraceContext,
} from "./events.ts";

export { connectionTracing, handshakeTracing, isTraced };

/** What a trace reads off a connection record. */
export interface TracedConnection {
  readonly ref: string;
  readonly id: number;
  readonly transport: { readonly name: string };
  readonly peer: Address | undefined;
  readonly socket: Socket;
  readonly proxyHeader: ProxyHeader | undefined;
  readonly bytesReceived: number;
  readonly bytesSent: number;
}

/** One connection's trace: its context, and whether its last messages went out. */
export class ConnectionTrace {
  readonly context: ConnectionTraceContext;
  /** The async context the protocol runs in, to re-enter from outside it (the core aborting `signal`). */
  scope: Scope | undefined;
  readonly #startedAt = performance.now();
  #done = false;

  constructor(conn: TracedConnection) {
    const [remoteAddress, remotePort] = endpoint(conn.peer);
    const [localAddress, localPort] = endpoint(localOf(conn.socket));
    this.context = {
      ref: conn.ref,
      id: conn.id,
      transport: conn.transport.name,
      remoteAddress,
      remotePort,
      localAddress,
      localPort,
      proxyHeader: undefined,
    };
  }

  /**
   * Runs the protocol inside the stores bound to `start` (publishing it),
   * then publishes `end`: the protocol function returned (or threw, which
   * propagates). The same for every shape of protocol; the connection's own
   * end is `asyncStart` and `asyncEnd`, from `finish`.
   */
  run<R>(protocol: () => R): R {
    try {
      return connectionTracing.start.runStores(this.context, () => {
        this.scope = captureScope();
        return protocol();
      });
    } finally {
      connectionTracing.end.publish(this.context);
    }
  }

  /** Fills in how the connection ended and publishes its last messages; only the first call counts. */
  finish(conn: TracedConnection, reason: ConnectionEndReason, threw: boolean, error: unknown): void {
    if (this.#done) return;
    this.#done = true;
    const context = this.context;
    context.proxyHeader = conn.proxyHeader;
    context.duration = performance.now() - this.#startedAt;
    context.bytesReceived = conn.bytesReceived;
    context.bytesSent = conn.bytesSent;
    context.recvCount = counter(conn.socket.recvCount);
    context.sendCount = counter(conn.socket.sendCount);
    context.reason = reason;
    if (threw) {
      context.error = error;
      connectionTracing.error.publish(context);
    }
    connectionTracing.asyncStart.publish(context);
    connectionTracing.asyncEnd.publish(context);
  }
}

/**
 * Why a connection ended, for its trace. `idle`: its idle timeout fired;
 * `stopping`: its listener is stopping; `failure`: what the protocol threw,
 * or else the handshake's failure.
 */
export function endReason(idle: boolean, stopping: boolean, failure: unknown): ConnectionEndReason {
  if (idle) return "timeout";
  if (stopping) return "shutdown";
  if (failure === undefined) return "normal";
  if (isTimeout(failure)) return "timeout";
  if (failure instanceof ClosedError && failure.code !== "ECLOSED") return "reset";
  return "error";
}

/**
 * Traces one handshake on `corral:handshake` and returns `handshake` itself
 * (a failure still reaches the caller). Called only while it is traced.
 */
export function traceHandshake(conn: TracedConnection, run: () => Promise<Socket>): Promise<Socket> {
  const [remoteAddress, remotePort] = endpoint(conn.peer);
  const context: HandshakeTraceContext = {
    ref: conn.ref,
    id: conn.id,
    transport: conn.transport.name,
    remoteAddress,
    remotePort,
  };
  const startedAt = performance.now();
  const handshake = handshakeTracing.start.runStores(context, run);
  handshakeTracing.end.publish(context);
  const done = (outcome: "ok" | "error" | "timeout") => {
    context.outcome = outcome;
    context.duration = performance.now() - startedAt;
    if (conn.proxyHeader !== undefined) context.proxyHeader = conn.proxyHeader;
    if (outcome !== "ok") handshakeTracing.error.publish(context);
    handshakeTracing.asyncStart.publish(context);
    handshakeTracing.asyncEnd.publish(context);
  };
  handshake.then(
    (socket) => {
      const tls = socket.tls;
      if (tls?.protocol !== undefined) context.tlsProtocol = tls.protocol;
      if (tls?.alpnProtocol !== undefined) context.alpnProtocol = tls.alpnProtocol;
      if (tls?.serverName !== undefined) context.serverName = tls.serverName;
      done("ok");
    },
    (error) => {
      context.error = error;
      done(isTimeout(error) ? "timeout" : "error");
    },
  );
  return handshake;
}

/** Publishes `corral:connection:shutdown`: the core aborted `conn`'s signal with `error`, for `reason`. */
export function announceShutdown(
  conn: { readonly ref: string; readonly id: number },
  reason: ConnectionShutdownEvent["reason"],
  error: unknown,
): void {
  if (!connectionShutdownChannel.hasSubscribers) return;
  const event: ConnectionShutdownEvent = { ref: conn.ref, id: conn.id, reason, error };
  connectionShutdownChannel.publish(event);
}

/** A timeout of any kind: a `TimeoutError`, a handshake that timed out, a late PROXY header. */
function isTimeout(error: unknown): boolean {
  if (error instanceof TimeoutError) return true;
  if (error instanceof HandshakeError) return error.cause instanceof TimeoutError;
  return error instanceof ProxyHeaderError && error.code === "EPROXY_TIMEOUT";
}

/** An address as the two fields of a message: IP and port, a socket path, or a memory name. */
function endpoint(address: Address | undefined): [string | undefined, number | undefined] {
  if (address === undefined) return [undefined, undefined];
  if ("port" in address) return [address.address, address.port];
  if ("path" in address) return [address.path, undefined];
  return [address.name, undefined];
}

function localOf(socket: Socket): Address | undefined {
  try {
    return socket.sockname();
  } catch {
    return undefined; // already reset: Node.js and Bun forget the address
  }
}

/** A socket counter; 0 for a custom transport's socket that keeps none. */
function counter(value: number | undefined): number {
  return typeof value === "number" ? value : 0;
}

