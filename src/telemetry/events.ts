/**
 * What Corral publishes on `node:diagnostics_channel`: the channel names
 * and the shape of every message. docs/telemetry.md tells the story; a
 * message carries counts and addresses, never copies of the bytes.
 *
 * @module
 */
import type { ProxyHeader } from "../proxy/proxy_header.ts";

/**
 * The names of Corral's channels. The two tracing channels are subscribed
 * with `diagnostics_channel.tracingChannel(name)` (their channels are
 * `tracing:NAME:start`, `:end`, `:asyncStart`, `:asyncEnd` and `:error`);
 * the others with `diagnostics_channel.subscribe(name, fn)`.
 *
 * @example Counting connections as they end
 * ```ts
 * import assert from "node:assert/strict";
 * import diagnostics from "node:diagnostics_channel";
 * import { listen, memory, type ConnectionTraceContext, telemetryChannels } from "../../mod.ts";
 * const ended: ConnectionTraceContext[] = [];
 * const handlers = { end: () => {}, asyncStart: () => {}, error: () => {}, start: () => {},
 *   asyncEnd: (context: unknown) => void ended.push(context as ConnectionTraceContext) };
 * const tracing = diagnostics.tracingChannel(telemetryChannels.connection);
 * tracing.subscribe(handlers);
 * await using listener = await listen({
 *   transport: memory({ name: "doc-channels" }),
 *   protocol: async (conn) => void (await (await conn.handshake()).send("hi")),
 * });
 * const client = await memory().connect({ name: "doc-channels" });
 * await client.recv(2);
 * await listener.waitForConnections("==", 0);
 * tracing.unsubscribe(handlers);
 * assert.equal(ended[0]?.bytesSent, 2);
 * assert.equal(ended[0]?.reason, "normal");
 * await client.close();
 * ```
 */
export const telemetryChannels = {
  /** Tracing channel around each protocol call: {@linkcode ConnectionTraceContext}. */
  connection: "corral:connection",
  /** Tracing channel around each `conn.handshake()`: {@linkcode HandshakeTraceContext}. */
  handshake: "corral:handshake",
  /** A listener opened its listen sockets: {@linkcode ListenerEvent}. */
  listenerStart: "corral:listener:start",
  /** A listener stopped, its connections over: {@linkcode ListenerEvent}. */
  listenerStop: "corral:listener:stop",
  /** A listener closed its listen sockets: {@linkcode ListenerEvent}. */
  listenerSuspend: "corral:listener:suspend",
  /** A suspended listener listens again: {@linkcode ListenerEvent}. */
  listenerResume: "corral:listener:resume",
  /** An accept error the acceptors swallowed: {@linkcode AcceptorErrorEvent}. */
  acceptorError: "corral:acceptor:error",
  /** `maxConnections` reached, or freed again: {@linkcode ConnectionLimitEvent}. */
  connectionLimit: "corral:connection:limit",
  /** The core aborted a connection's `signal`: {@linkcode ConnectionShutdownEvent}. */
  connectionShutdown: "corral:connection:shutdown",
  /** A cluster registry began dropping copies for other nodes, or delivers again: {@linkcode ClusterStatusEvent}. */
  clusterStatus: "corral:cluster:status",
} as const;

/**
 * How a connection ended, in {@linkcode ConnectionTraceContext.reason}:
 * `"normal"` the protocol returned; `"error"` it threw or rejected, or its
 * handshake failed; `"reset"` it failed on a socket error from the peer (a
 * `ClosedError` such as `ECONNRESET`); `"timeout"` its `idleTimeout`
 * expired, or its handshake (or a `TimeoutError` it threw) timed out;
 * `"shutdown"` it ended while its listener stopped; `"brutal"` `stop()`
 * destroyed it (after `shutdownTimeout`, or at once with `"brutal"`).
 */
export type ConnectionEndReason = "normal" | "error" | "reset" | "timeout" | "shutdown" | "brutal";

/**
 * The context of the `corral:connection` tracing channel: one object per
 * connection, the same in each of its messages, which come in this order
 * for every shape of protocol (an `async` function, a function that
 * returns nothing, a `handler()`): `start` as the protocol is called,
 * which runs it inside the stores bound to `start` (an `AsyncLocalStorage`
 * bound with `bindStore` is active in the protocol, a `handler()`'s
 * callbacks included); `end` when the protocol function returned; `error`
 * if the protocol threw or rejected (with `error` set); `asyncStart` and
 * `asyncEnd` when the connection is over. The fields from `duration` on
 * are filled in before `asyncStart`.
 */
export interface ConnectionTraceContext {
  /** The listener's ref. */
  ref: string;
  /** The connection's id, unique in its listener. */
  id: number;
  /** The transport's name: `"tcp"`, `"tls"`, `"unix"`, `"memory"`... */
  transport: string;
  /** The peer's address (IP, socket path or memory name), when known. */
  remoteAddress: string | undefined;
  /** The peer's port, for IP transports. */
  remotePort: number | undefined;
  /** The local address the connection came in on, when known. */
  localAddress: string | undefined;
  /** The local port, for IP transports. */
  localPort: number | undefined;
  /** The PROXY header `conn.handshake()` read; set once it is read. */
  proxyHeader: ProxyHeader | undefined;
  /** Ms from accept to the end of the connection. */
  duration?: number;
  /** Bytes the protocol's socket received (TLS: decrypted; a PROXY header not counted). */
  bytesReceived?: number;
  /** Bytes the protocol sent. */
  bytesSent?: number;
  /** Chunks the protocol's socket received. */
  recvCount?: number;
  /** `send()` calls that sent bytes. */
  sendCount?: number;
  /** How the connection ended. */
  reason?: ConnectionEndReason;
  /** What the protocol threw or rejected with (with an `error` message). */
  error?: unknown;
}

/**
 * The context of the `corral:handshake` tracing channel, around each
 * `conn.handshake()` that runs (the PROXY header, then TLS): `start`, `end`
 * when the handshake began, then `error` if it failed, and `asyncStart`,
 * `asyncEnd` once it is done, with the outcome filled in.
 */
export interface HandshakeTraceContext {
  /** The listener's ref. */
  ref: string;
  /** The connection's id. */
  id: number;
  /** The transport's name. */
  transport: string;
  /** The peer's address, when known. */
  remoteAddress: string | undefined;
  /** The peer's port, for IP transports. */
  remotePort: number | undefined;
  /** `"ok"`, `"error"` or `"timeout"` (the handshake or the PROXY header was late); set when done. */
  outcome?: "ok" | "error" | "timeout";
  /** Ms the handshake took. */
  duration?: number;
  /** The PROXY header read, if any. */
  proxyHeader?: ProxyHeader;
  /** The TLS protocol version negotiated, such as `"TLSv1.3"`. */
  tlsProtocol?: string;
  /** The ALPN protocol agreed, if any. */
  alpnProtocol?: string;
  /** The SNI server name the client asked for, if any. */
  serverName?: string;
  /** Why it failed: a `HandshakeError` or a `ProxyHeaderError`. */
  error?: unknown;
}

/** A `corral:listener:start`, `:stop`, `:suspend` or `:resume` message. */
export interface ListenerEvent {
  /** The listener's ref. */
  ref: string;
  /** The listener itself (its `info()` tells the rest). */
  listener: unknown;
  /** The transport's name. */
  transport: string;
  /** Where it listens (or last listened). */
  address: unknown;
}

/** A `corral:acceptor:error` message: an accept that failed and that the acceptors got over. */
export interface AcceptorErrorEvent {
  /** The listener's ref. */
  ref: string;
  /** The error's system code (`"EMFILE"`, `"ECONNABORTED"`...), or `"unknown"`. */
  code: string;
  /** The error. */
  error: unknown;
  /** `"retry"`: the acceptor accepts again at once; `"backoff"`: the acceptors pause first (EMFILE...). */
  action: "retry" | "backoff";
}

/** A `corral:connection:limit` message. */
export interface ConnectionLimitEvent {
  /** The listener's ref. */
  ref: string;
  /** `"reached"`: active connections reached `maxConnections`; `"freed"`: back under it. */
  state: "reached" | "freed";
  /** Active connections now. */
  activeConnections: number;
  /** The limit. */
  maxConnections: number;
}

/** A `corral:connection:shutdown` message: the core aborted a connection's `signal`. */
export interface ConnectionShutdownEvent {
  /** The listener's ref. */
  ref: string;
  /** The connection's id. */
  id: number;
  /** `"shutdown"`: its listener is stopping; `"timeout"`: it received nothing for `idleTimeout` ms. */
  reason: "shutdown" | "timeout";
  /** The abort reason (a `ClosedError` or a `TimeoutError`). */
  error: unknown;
}

/**
 * A `corral:cluster:status` message: a cluster `Registry` began dropping the
 * copies of its broadcasts meant for other nodes (the broker is unreachable
 * or refused a publish), or hands them to the broker again. One message per
 * episode, however many copies it drops.
 */
export interface ClusterStatusEvent {
  /** The registry's node id (`registry.clusterStatus.node`). */
  node: string;
  /** `"dropping"`: the first copy of an episode was dropped; `"delivering"`: a publish went out again. */
  state: "dropping" | "delivering";
  /** Copies dropped so far by this registry. */
  dropped: number;
  /** Why the first copy was dropped (the client's error), when there was one. */
  error: unknown;
}
