/**
 * The connection supervisor (Ranch's `ranch_conns_sup`): starts the protocol
 * for each accepted socket, counts connections against `maxConnections`,
 * isolates failures, and on shutdown signals, waits, then closes.
 *
 * @module
 */
import { ClosingSockets } from "./closing_sockets.ts";
import { type DirectStart, type ProtocolEndListener, START_DIRECT } from "./direct_start.ts";
import { type ConnectionOwner, ConnectionRecord } from "./connection_record.ts";
import { ConnectionMetrics } from "./connection_metrics.ts";
import { ClosedError, type HandshakeError } from "./errors.ts";
import type { Logger } from "./logger.ts";
import { formatAddress, peerOf } from "./peer_address.ts";
import type { ProxyHeaderReading } from "./proxy/reader.ts";
import {
  checkMaxConnections,
  type ConnectionCounters,
  type ShutdownTimeout,
  type SupervisedProtocol,
  type SupervisorInit,
} from "./supervisor_options.ts";
import type { Socket, Transport } from "./transport.ts";
import { ConnectionTrace, connectionTracing, endReason, isTraced } from "./telemetry/connection_trace.ts";

/**
 * Starts, counts, limits and shuts down a listener's connections. It holds
 * protocol options as `unknown`: only the listener's public face is typed by
 * them, which keeps `Listener<P>` assignable to `Listener<unknown>`.
 */
export class ConnectionSupervisor<L> implements ConnectionOwner<L>, ProtocolEndListener<ConnectionRecord<L>> {
  protocolOptions: unknown;
  readonly listener: L;
  readonly ref: string;
  readonly handshakeTimeout: number;
  readonly proxyHeader: ProxyHeaderReading | undefined;
  readonly idleTimeout: number;
  readonly shutdownTimeout: ShutdownTimeout;
  /** Byte totals, accept errors, the limit channel and alarms. */
  readonly metrics: ConnectionMetrics<L>;
  #protocol: SupervisedProtocol<L>;
  #logger: Logger;
  #maxConnections: number;
  #connections = new Set<ConnectionRecord<L>>();
  /** Sockets of finished connections still flushing. */
  #closing = new ClosingSockets();
  #active = 0;
  #admitted = 0; // acceptors holding a slot while they wait in accept()
  #waiting: ((admitted: boolean) => void)[] = []; // acceptors waiting for a slot
  #watchers = new Set<() => void>();
  #nextId = 1;
  #accepted = 0;
  #terminated = 0;
  #failed = 0;
  #stopping = false;

  constructor(init: SupervisorInit<L>) {
    this.listener = init.listener;
    this.ref = init.ref;
    this.#protocol = init.protocol;
    this.protocolOptions = init.protocolOptions;
    this.#maxConnections = init.maxConnections;
    this.handshakeTimeout = init.handshakeTimeout;
    this.proxyHeader = init.proxyHeader;
    this.#logger = init.logger;
    this.idleTimeout = init.idleTimeout;
    this.shutdownTimeout = init.shutdownTimeout;
    this.metrics = new ConnectionMetrics(init.listener, init.ref, init.logger, init.alarms);
  }

  get maxConnections(): number {
    return this.#maxConnections;
  }

  /** Raising the limit lets waiting acceptors through; lowering it closes nothing. */
  set maxConnections(value: number) {
    this.#maxConnections = checkMaxConnections(value, "listener.maxConnections");
    this.metrics.limitChanged(this.#active, this.#maxConnections);
    this.#admitWaiting();
  }

  get counters(): ConnectionCounters {
    return {
      activeConnections: this.#active,
      allConnections: this.#connections.size,
      accepted: this.#accepted,
      terminated: this.#terminated,
      failed: this.#failed,
    };
  }

  /** The connections whose protocol runs (for the byte totals). */
  running(): Iterable<ConnectionRecord<L>> {
    return this.#connections;
  }

  /** Connections counted against the limit (`"active"`) or all of them. */
  count(kind: "active" | "all"): number {
    return kind === "active" ? this.#active : this.#connections.size;
  }

  // ---- admission: an acceptor asks for a slot before each accept() ----

  /**
   * Admits one more connection under `maxConnections`, Ranch's "blocks until
   * we are below the maximum": `true` at once when a slot is free, otherwise
   * a promise of `true` when one frees, or of `false` when the acceptors are
   * called off (suspend, stop). The slot is taken before `accept()`, so
   * exactly `maxConnections` sockets reach protocols and the rest wait in the
   * kernel's queue. The acceptor hands it on with `start()` or gives it back
   * with `withdraw()`.
   */
  admit(): true | Promise<boolean> {
    if (this.#hasRoom()) {
      this.#admitted++;
      return true;
    }
    if (this.#stopping) return Promise.resolve(false);
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  /** Gives back a slot `admit()` gave, whose accept failed or was called off. */
  withdraw(): void {
    this.#admitted--;
    this.#admitWaiting();
  }

  /** Sends every acceptor waiting for a slot away (suspend, stop). */
  releaseAcceptors(): void {
    for (const resolve of this.#waiting.splice(0)) resolve(false);
  }

  #hasRoom(): boolean {
    return !this.#stopping && this.#active + this.#admitted < this.#maxConnections;
  }

  #admitWaiting(): void {
    while (this.#waiting.length > 0 && this.#hasRoom()) {
      this.#admitted++;
      this.#waiting.shift()!(true);
    }
  }

  // ---- connections ----

  /** Runs the protocol for a socket accepted on a slot `admit()` gave. */
  start(socket: Socket, transport: Transport): void {
    this.#admitted--;
    this.#accepted++;
    this.#active++;
    const conn = new ConnectionRecord<L>(this.#nextId++, socket, transport, this, peerOf(socket));
    this.#connections.add(conn);
    this.#notify();
    this.metrics.started(this.#active, this.#maxConnections);
    const trace = isTraced(connectionTracing) ? (conn.trace = new ConnectionTrace(conn)) : undefined;
    const direct = (this.#protocol as { [START_DIRECT]?: DirectStart<ConnectionRecord<L>> })[START_DIRECT];
    if (direct !== undefined) {
      if (trace === undefined) return direct(conn, this.protocolOptions, this);
      return trace.run(() => direct(conn, this.protocolOptions, this));
    }
    let result: void | Promise<void>;
    try {
      result = trace === undefined
        ? this.#protocol(conn, this.protocolOptions)
        : trace.run(() => this.#protocol(conn, this.protocolOptions));
    } catch (error) {
      this.#end(conn, true, error);
      return;
    }
    if (result !== undefined && typeof (result as Promise<void>).then === "function") {
      (result as Promise<void>).then(() => this.#end(conn, false), (error) => this.#end(conn, true, error));
    } else {
      this.#end(conn, false);
    }
  }

  /** A protocol started directly (`handler()`) is done with `conn`. */
  protocolEnded(conn: ConnectionRecord<L>, threw: boolean, error?: unknown): void {
    this.#end(conn, threw, error);
  }

  uncount(conn: ConnectionRecord<L>): void {
    if (!conn.counted) return;
    conn.counted = false;
    this.#active--;
    this.metrics.limitChanged(this.#active, this.#maxConnections);
    this.#admitWaiting();
    this.#notify();
  }

  handshakeFailed(conn: ConnectionRecord<L>, error: HandshakeError): void {
    this.#logger.warn(`corral: [${conn.ref}] connection ${conn.id} from ${formatAddress(conn.peer)}: ${error.message}`);
  }

  #end(conn: ConnectionRecord<L>, threw: boolean, error?: unknown): void {
    this.#connections.delete(conn);
    this.#terminated++;
    if (conn.counted) {
      conn.counted = false;
      this.#active--;
      this.#admitWaiting();
    }
    if (threw || conn.handshakeError !== undefined) this.#failed++;
    if (threw && error !== conn.handshakeError) this.#logFailure(conn, error);
    const trace = conn.trace;
    if (trace !== undefined) {
      const reason = endReason(conn.idleFired, this.#stopping, threw ? error : conn.handshakeError);
      trace.finish(conn, reason, threw, error);
    }
    this.metrics.ended(conn, this.#active, this.#maxConnections);
    this.#closing.add(conn.socket);
    conn.markEnded();
    this.#notify();
  }

  #logFailure(conn: ConnectionRecord<L>, error: unknown): void {
    const message = `corral: [${conn.ref}] connection ${conn.id} from ${formatAddress(conn.peer)} failed`;
    // Sockets torn down by a stop make protocols fail on purpose: not news.
    if (this.#stopping && error instanceof ClosedError) this.#logger.debug(message, error);
    else this.#logger.error(message, error);
  }

  // ---- waiting on counts ----

  /** Resolves when `check()` holds, re-checked at every count change, or rejects via `cancel`. */
  watch(check: () => boolean): { done: Promise<void>; cancel: () => void } {
    let resolve!: () => void;
    const done = new Promise<void>((res) => (resolve = res));
    const watcher = () => {
      if (!check()) return;
      this.#watchers.delete(watcher);
      resolve();
    };
    this.#watchers.add(watcher);
    watcher();
    return { done, cancel: () => this.#watchers.delete(watcher) };
  }

  #notify(): void {
    if (this.#watchers.size === 0) return;
    for (const watcher of [...this.#watchers]) watcher();
  }

  // ---- shutdown ----

  /**
   * Aborts every connection's signal, waits up to `timeout` for the
   * protocols to end, then closes every socket that is left.
   */
  async shutdown(timeout: ShutdownTimeout): Promise<void> {
    this.#stopping = true;
    this.releaseAcceptors();
    const reason = new ClosedError("listener stopped");
    for (const conn of [...this.#connections]) conn.abort(reason);
    if (timeout !== "brutal" && this.#connections.size > 0) {
      const { done, cancel } = this.watch(() => this.#connections.size === 0);
      let timer: ReturnType<typeof setTimeout> | undefined;
      const expired = timeout === Infinity
        ? new Promise<void>(() => {})
        : new Promise<void>((resolve) => (timer = setTimeout(resolve, timeout)));
      await Promise.race([done, expired]);
      cancel();
      clearTimeout(timer);
    }
    for (const conn of this.#connections) {
      conn.trace?.finish(conn, "brutal", false, undefined);
      conn.socket.destroy();
      // A protocol stuck past the timeout may never return: its connection is over all the same.
      conn.markEnded();
    }
    this.#closing.destroyAll();
  }
}
