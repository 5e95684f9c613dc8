/**
 * The options of `listen()` and their checks: every one is validated before
 * anything opens, and a wrong one names itself and what it accepts.
 *
 * @module
 */
import { type Alarms, checkAlarms } from "./alarms.ts";
import type { Connection } from "./connection.ts";
import { checkMaxConnections, type ShutdownTimeout } from "./supervisor_options.ts";
import { checkIdleTimeout } from "./idle_watch.ts";
import type { Listener, ListenerInit } from "./listener.ts";
import type { Logger } from "./logger.ts";
import { booleanOption, describe, integerOption, rejectUnknownOptions, stringOption } from "./options.ts";
import type { Transport } from "./transport.ts";
import type { ProxyHeaderReading } from "./proxy/reader.ts";

/**
 * User code run once per connection, with the connection and the listener's
 * `protocolOptions`. It calls `conn.handshake()` first; when it returns,
 * throws or rejects, the connection ends and its socket is closed. A throw
 * is logged and counted, and affects no other connection. The whole life of
 * a connection, from accept to `listener.stop()`, is told at
 * {@linkcode Connection}.
 *
 * @example A protocol with options
 * ```ts
 * import assert from "node:assert/strict";
 * import { listen, memory, type Protocol } from "../mod.ts";
 * const greet: Protocol<{ greeting: string }> = async (conn, options) => {
 *   const socket = await conn.handshake();
 *   await socket.send(options.greeting);
 * };
 * await using _listener = await listen({
 *   transport: memory({ name: "doc-protocol" }),
 *   protocol: greet,
 *   protocolOptions: { greeting: "hi" },
 * });
 * const client = await memory().connect({ name: "doc-protocol" });
 * assert(new TextDecoder().decode((await client.recv(2))!) === "hi");
 * await client.close();
 * ```
 */
export type Protocol<P = unknown> = (conn: Connection<P>, options: P) => void | Promise<void>;

/**
 * The object form of the `proxyHeader` option of `listen()`; `true` is the
 * same as `{}`.
 */
export interface ProxyHeaderOptions {
  /** Ms the whole header may take to arrive. Default: the listener's `handshakeTimeout`; `Infinity` allowed. */
  timeout?: number;
  /**
   * Default `true`: a connection without a valid header is closed. `false`
   * lets one that does not start with a PROXY signature through without a
   * header (its bytes intact). The spec advises against mixing: only use it
   * where every client that can reach the port is trusted.
   */
  required?: boolean;
}

/** The options of `listen()`. */
export interface ListenOptions<P = unknown> {
  /** Unique name in the listener registry; one is made up when omitted. */
  ref?: string;
  /** How to listen: `tcp({ port })`, `unix({ path })`, `memory({ name })`, ... */
  transport: Transport;
  /** Run once per connection. */
  protocol: Protocol<P>;
  /** Handed to every protocol call as given (not copied). */
  protocolOptions?: P;
  /** Concurrent accept loops. Default 10, from 1 to 1024. */
  numAcceptors?: number;
  /** Listen sockets sharing the address (needs transport option `reusePort`). Default 1, at most `numAcceptors`. */
  numListenSockets?: number;
  /** Connections counted at once before acceptors wait. Default 1024; `Infinity` allowed. */
  maxConnections?: number;
  /** Ms `conn.handshake()` may take. Default 5000; `Infinity` allowed. */
  handshakeTimeout?: number;
  /** Ms `stop()` lets connections finish, `Infinity`, or `"brutal"`. Default 5000. */
  shutdownTimeout?: ShutdownTimeout;
  /**
   * Expect a PROXY protocol header (v1 or v2) on every connection, before
   * anything else (TLS included): `conn.handshake()` reads it and sets
   * `conn.proxyHeader`. `true`, `false` (the default) or
   * {@linkcode ProxyHeaderOptions}.
   */
  proxyHeader?: boolean | ProxyHeaderOptions;
  /** Where to log. Default `console`. */
  logger?: Logger;
  /**
   * Ms a connection's socket may receive nothing before its `conn.signal`
   * is aborted with a `TimeoutError`; its socket is then destroyed after
   * `shutdownTimeout` (at once with `"brutal"`) unless the protocol ended
   * first. Only received bytes reset the clock, not sends. Each connection
   * may change its own with `conn.setIdleTimeout(ms)`. Default `Infinity`
   * (none); an integer from 1 to 2^31 - 1 otherwise.
   */
  idleTimeout?: number;
  /**
   * Alarms by name (Ranch's `alarms`): `{ type: "connections", threshold,
   * cooldown, callback }` calls `callback(listener, name, connections)` when
   * a connection starts with the active connections at or over `threshold`,
   * then not again for `cooldown` ms (default 5000). Replace them later with
   * `listener.alarms = { ... }`.
   */
  alarms?: Alarms<Listener<P>>;
}

/** `ListenOptions` with every default filled in: what a listener is made of, but its ref and protocol as given. */
export interface CheckedListenOptions<P>
  extends Omit<ListenerInit, "ref" | "protocol" | "protocolOptions" | "register" | "unregister"> {
  ref: string | undefined;
  protocol: Protocol<P>;
  protocolOptions: P;
}

const KEYS = [
  "ref",
  "transport",
  "protocol",
  "protocolOptions",
  "numAcceptors",
  "numListenSockets",
  "maxConnections",
  "handshakeTimeout",
  "shutdownTimeout",
  "proxyHeader",
  "logger",
  "idleTimeout",
  "alarms",
] as const;

const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;

/** Validates `listen()` options and fills in Ranch's defaults. */
export function checkListenOptions<P>(options: ListenOptions<P>): CheckedListenOptions<P> {
  if (options === null || typeof options !== "object") {
    throw new TypeError(`listen(options): options must be an object, got ${describe(options)}`);
  }
  rejectUnknownOptions("listen()", options, KEYS);
  const transport = options.transport;
  if (transport === null || typeof transport !== "object" || typeof transport.listen !== "function") {
    throw new TypeError(
      `listen() option transport must be a transport such as tcp({ port }), got ${describe(transport)}`,
    );
  }
  if (typeof options.protocol !== "function") {
    throw new TypeError(
      `listen() option protocol must be a function (conn, options) => ..., got ${describe(options.protocol)}`,
    );
  }
  const numAcceptors = integerOption("listen() option numAcceptors", options.numAcceptors, 1, 1024, 10);
  const numListenSockets = integerOption(
    "listen() option numListenSockets",
    options.numListenSockets,
    1,
    numAcceptors,
    1,
  );
  if (numListenSockets > 1 && (transport.options as { reusePort?: boolean }).reusePort !== true) {
    throw new RangeError(
      `listen() option numListenSockets must be 1 unless the transport listens with reusePort: true (tcp on Linux), got ${numListenSockets}`,
    );
  }
  const logger = options.logger ?? console;
  for (const level of LOG_LEVELS) {
    if (typeof logger?.[level] !== "function") {
      throw new TypeError(`listen() option logger must have ${LOG_LEVELS.join(", ")} methods; ${level} is missing`);
    }
  }
  const handshakeTimeout = timeoutOption("listen() option handshakeTimeout", options.handshakeTimeout, 5000);
  return {
    ref: stringOption("listen() option ref", options.ref),
    transport,
    protocol: options.protocol,
    protocolOptions: options.protocolOptions as P,
    numAcceptors,
    numListenSockets,
    maxConnections: checkMaxConnections(options.maxConnections ?? 1024),
    handshakeTimeout,
    shutdownTimeout: options.shutdownTimeout === "brutal"
      ? "brutal"
      : timeoutOption('listen() option shutdownTimeout (or "brutal")', options.shutdownTimeout, 5000),
    proxyHeader: checkProxyHeader(options.proxyHeader, handshakeTimeout),
    logger,
    idleTimeout: checkIdleTimeout("listen() option idleTimeout", options.idleTimeout),
    alarms: checkAlarms<Listener<unknown>>("listen() option alarms", options.alarms),
  };
}

function checkProxyHeader(value: unknown, handshakeTimeout: number): ProxyHeaderReading | undefined {
  if (value === undefined || value === false) return undefined;
  if (value === true) return { timeout: handshakeTimeout, required: true };
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new TypeError(
      `listen() option proxyHeader must be true, false or { timeout, required }, got ${describe(value)}`,
    );
  }
  rejectUnknownOptions("listen() option proxyHeader", value, ["timeout", "required"]);
  const { timeout, required } = value as ProxyHeaderOptions;
  return {
    timeout: timeoutOption("listen() option proxyHeader.timeout", timeout, handshakeTimeout),
    required: booleanOption("listen() option proxyHeader.required", required, true),
  };
}

function timeoutOption(name: string, value: unknown, fallback: number): number {
  return integerOption(name, value, 0, Infinity, fallback);
}
