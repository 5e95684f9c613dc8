/**
 * The connection supervisor (Ranch's `ranch_conns_sup`): starts the protocol
 * for each accepted socket, counts connections against `maxConnections`,
 * isolates failures, and on shutdown signals, waits, then closes.
 *
 * @module
 */
import { type ConnectionOwner, ConnectionRecord } from "./connection.ts";
import { ClosedError, type HandshakeError } from "./errors.ts";
import type { Listener } from "./listener.ts";
import type { Logger, Protocol } from "./listen_options.ts";
import type { Address, Socket, Transport } from "./transport.ts";
import type { ProxyHeaderReading } from "./proxy/reader.ts";

/** How long a finished connection's socket may take to flush what the protocol sent before it is dropped. */
export const CLOSE_LINGER_MS = 5000;

/** How long `stop()` lets connections finish: ms, `Infinity`, or `"brutal"` (not at all). */
export type ShutdownTimeout = number | "brutal";

/** What the supervisor is told about its listener. */
export interface SupervisorInit {
  listener: Listener<unknown>;
  protocol: Protocol<unknown>;
  protocolOptions: unknown;
  maxConnections: number;
  handshakeTimeout: number;
  /** Read a PROXY header in each `conn.handshake()` (the `proxyHeader` option). */
  proxyHeader?: ProxyHeaderReading;
  logger: Logger;
}

/** Counts of connections and what happened to them. */
export interface ConnectionCounters {
  /** Connections counted against `maxConnections`. */
  activeConnections: number;
  /** Every running connection, removed ones included. */
  allConnections: number;
  /** Connections handed to the protocol so far. */
  accepted: number;
  /** Connections that ended, however they ended. */
  terminated: number;
  /** Connections whose protocol threw or rejected, or whose handshake failed. */
  failed: number;
}

/**
 * Starts, counts, limits and shuts down a listener's connections. It holds
 * protocol options as `unknown`: only the listener's public face is typed by
 * them, which keeps `Listener<P>` assignable to `Listener<unknown>`.
 */
export class ConnectionSupervisor implements ConnectionOwner<unknown> {
  protocolOptions: unknown;
  readonly listener: Listener<unknown>;
  readonly handshakeTimeout: number;
  readonly proxyHeader: ProxyHeaderReading | undefined;
  #protocol: Protocol<unknown>;
  #logger: Logger;
  #maxConnections: number;
  #connections = new Set<ConnectionRecord<unknown>>();
  /** Sockets of finished connections still flushing, with when they must be gone. */
  #closing = new Map<Socket, number>();
  #sweeper: ReturnType<typeof setInterval> | undefined;
  #active = 0;
  #reserved = 0; // acceptors let through the gate and now waiting in accept()
  #gate: ((pass: boolean) => void)[] = [];
  #watchers = new Set<() => void>();
  #nextId = 1;
  #accepted = 0;
  #terminated = 0;
  #failed = 0;
  #stopping = false;

  constructor(init: SupervisorInit) {
    this.listener = init.listener;
    this.#protocol = init.protocol;
    this.protocolOptions = init.protocolOptions;
    this.#maxConnections = init.maxConnections;
    this.handshakeTimeout = init.handshakeTimeout;
    this.proxyHeader = init.proxyHeader;
    this.#logger = init.logger;
  }

  get maxConnections(): number {
    return this.#maxConnections;
  }

  /** Raising the limit lets waiting acceptors through; lowering it closes nothing. */
  set maxConnections(value: number) {
    this.#maxConnections = value;
    this.#openGate();
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

  /** Connections counted against the limit (`"active"`) or all of them. */
  count(kind: "active" | "all"): number {
    return kind === "active" ? this.#active : this.#connections.size;
  }

  // ---- the gate acceptors pass before each accept() ----

  /** Takes a slot if one is free, without waiting. */
  tryReserve(): boolean {
    if (this.#stopping || this.#active + this.#reserved >= this.#maxConnections) return false;
    this.#reserved++;
    return true;
  }

  /** Waits for a free slot; resolves false when the acceptors are called off instead. */
  reserve(): Promise<boolean> {
    if (this.tryReserve()) return Promise.resolve(true);
    if (this.#stopping) return Promise.resolve(false);
    return new Promise((resolve) => this.#gate.push(resolve));
  }

  /** Gives back a slot whose accept() failed. */
  unreserve(): void {
    this.#reserved--;
    this.#openGate();
  }

  /** Sends every acceptor waiting at the gate away (suspend, stop). */
  releaseAcceptors(): void {
    for (const resolve of this.#gate.splice(0)) resolve(false);
  }

  #openGate(): void {
    while (this.#gate.length > 0 && !this.#stopping && this.#active + this.#reserved < this.#maxConnections) {
      this.#reserved++;
      this.#gate.shift()!(true);
    }
  }

  // ---- connections ----

  /** Runs the protocol for a socket an acceptor took through the gate. */
  start(socket: Socket, transport: Transport): void {
    this.#reserved--;
    this.#accepted++;
    this.#active++;
    const conn = new ConnectionRecord<unknown>(this.#nextId++, socket, transport, this);
    this.#connections.add(conn);
    this.#notify();
    let result: void | Promise<void>;
    try {
      result = this.#protocol(conn, this.protocolOptions);
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

  uncount(conn: ConnectionRecord<unknown>): void {
    if (!conn.counted) return;
    conn.counted = false;
    this.#active--;
    this.#openGate();
    this.#notify();
  }

  handshakeFailed(conn: ConnectionRecord<unknown>, error: HandshakeError): void {
    this.#logger.warn(`corral: [${conn.ref}] connection ${conn.id} from ${peer(conn.socket)}: ${error.message}`);
  }

  #end(conn: ConnectionRecord<unknown>, threw: boolean, error?: unknown): void {
    this.#connections.delete(conn);
    this.#terminated++;
    if (conn.counted) {
      conn.counted = false;
      this.#active--;
      this.#openGate();
    }
    if (threw || conn.handshakeError !== undefined) this.#failed++;
    if (threw && error !== conn.handshakeError) this.#logFailure(conn, error);
    this.#release(conn.socket);
    conn.markEnded();
    this.#notify();
  }

  #logFailure(conn: ConnectionRecord<unknown>, error: unknown): void {
    const message = `corral: [${conn.ref}] connection ${conn.id} from ${peer(conn.socket)} failed`;
    // Sockets torn down by a stop make protocols fail on purpose: not news.
    if (this.#stopping && error instanceof ClosedError) this.#logger.debug(message, error);
    else this.#logger.error(message, error);
  }

  /** Closes a finished connection's socket, flushing what the protocol sent. */
  #release(socket: Socket): void {
    this.#closing.set(socket, Date.now() + CLOSE_LINGER_MS);
    const closed = () => this.#closing.delete(socket);
    socket.close().then(closed, closed);
    // A peer that never reads would keep the socket flushing forever: one
    // timer for all closing sockets drops the ones past their linger. It
    // stops itself at a tick that finds nothing closing, not when the last
    // socket closes: with short connections that would be a timer made and
    // cancelled per connection.
    this.#sweeper ??= setInterval(() => this.#sweep(), CLOSE_LINGER_MS);
  }

  #sweep(): void {
    if (this.#closing.size === 0) return this.#stopSweeper();
    const now = Date.now();
    for (const [closing, deadline] of this.#closing) if (deadline <= now) closing.destroy();
  }

  #stopSweeper(): void {
    clearInterval(this.#sweeper);
    this.#sweeper = undefined;
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
      conn.socket.destroy();
      // A protocol stuck past the timeout may never return: its connection is over all the same.
      conn.markEnded();
    }
    for (const socket of this.#closing.keys()) socket.destroy();
    this.#stopSweeper();
  }
}

function peer(socket: Socket): string {
  try {
    return formatAddress(socket.peername());
  } catch {
    return "unknown peer";
  }
}

/** Renders an address for logs: `127.0.0.1:5555`, `[::1]:5555`, a path or a memory name. */
export function formatAddress(address: Address): string {
  if ("port" in address) {
    return address.family === "IPv6" ? `[${address.address}]:${address.port}` : `${address.address}:${address.port}`;
  }
  if ("path" in address) return address.path === "" ? "unix socket" : address.path;
  return address.name === "" ? "memory client" : `memory ${address.name}`;
}
