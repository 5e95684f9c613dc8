/**
 * The listener (Ranch's `ranch_listener_sup`): owns its listen sockets, its acceptors and its connection
 * supervisor; status, suspend/resume, live reconfiguration and stop.
 *
 * @module
 */
import { AcceptorPool } from "./acceptor.ts";
import type { Alarms } from "./alarms.ts";
import { ConnectionSupervisor, type ShutdownTimeout, type SupervisedProtocol } from "./connection_supervisor.ts";
import { type CountComparison, waitForCount } from "./connection_count_wait.ts";
import type { ListenerInfo, ListenerStatus } from "./listener_info.ts";
import type { Logger } from "./logger.ts";
import { describe } from "./options.ts";
import type { ProxyHeaderReading } from "./proxy/reader.ts";
import type { Address, ListenSocket, Transport } from "./transport.ts";
import { announce } from "./telemetry/listener_events.ts";

export type { CountComparison } from "./connection_count_wait.ts";
export type { ListenerInfo, ListenerStatus } from "./listener_info.ts";

/** What `listen()` hands a new listener: its checked options, with the protocol as the supervisor runs it. */
export interface ListenerInit {
  ref: string;
  transport: Transport;
  protocol: SupervisedProtocol<Listener<unknown>>;
  protocolOptions: unknown;
  numAcceptors: number;
  numListenSockets: number;
  maxConnections: number;
  handshakeTimeout: number;
  shutdownTimeout: ShutdownTimeout;
  proxyHeader: ProxyHeaderReading | undefined;
  logger: Logger;
  idleTimeout: number;
  alarms: Alarms<Listener<unknown>> | undefined;
  /** Called before the listen sockets open (it enters the registry); may throw to refuse. */
  register: (listener: Listener<unknown>) => void;
  /** Called once the listener has stopped, or failed to open (it leaves the registry). */
  unregister: (listener: Listener<unknown>) => void;
}

/**
 * Makes a listener and opens its listen sockets; for `listen()` only. The class's static block sets it, so it
 * reaches the private constructor and fields without making either public.
 */
export let openListener: <P>(init: ListenerInit) => Promise<Listener<P>>;

/** A listener's open listen sockets, for `handover()` only (set like `openListener`). */
export let listenSocketsOf: (listener: Listener<unknown>) => readonly ListenSocket[];

/**
 * A running (or suspended, or stopped) listener. Made by `listen()`.
 *
 * @example A listener on a free port, stopped at the end of the scope
 * ```ts
 * import assert from "node:assert/strict";
 * import { listen, tcp } from "../mod.ts";
 * await using listener = await listen({ transport: tcp({ host: "127.0.0.1", port: 0 }), protocol: () => {} });
 * assert(listener.status === "running" && listener.port! > 0);
 * ```
 */
export class Listener<P = unknown> {
  /** The listener's unique name in the registry. */
  readonly ref: string;
  #status: ListenerStatus = "running";
  #transport: Transport; // as the user set it
  #bound: Transport; // the same with a chosen port (or name) pinned, for resume
  #sockets: ListenSocket[] = [];
  #pool: AcceptorPool<Listener<unknown>> | undefined;
  #supervisor: ConnectionSupervisor<Listener<unknown>>;
  #address: Address | undefined;
  #numAcceptors: number;
  #numListenSockets: number;
  #shutdownTimeout: ShutdownTimeout;
  /** A PROXY header is read off each connection before the transport's handshake. */
  #plaintextFirst: boolean;
  #logger: Logger;
  #busy: Promise<unknown> = Promise.resolve(); // suspend/resume/stop run one at a time
  #unregister: (listener: Listener<unknown>) => void;

  static {
    openListener = async <P>(init: ListenerInit): Promise<Listener<P>> => {
      const listener = new Listener<P>(init);
      init.register(listener as Listener<unknown>);
      try {
        await listener.#openSockets();
        announce("start", listener, init.transport.name);
      } catch (error) {
        init.unregister(listener as Listener<unknown>);
        throw error;
      }
      return listener;
    };
    listenSocketsOf = (listener) => listener.#sockets;
  }

  private constructor(init: ListenerInit) {
    this.ref = init.ref;
    this.#logger = init.logger;
    this.#transport = this.#bound = init.transport;
    this.#numAcceptors = init.numAcceptors;
    this.#numListenSockets = init.numListenSockets;
    this.#shutdownTimeout = init.shutdownTimeout;
    this.#plaintextFirst = init.proxyHeader !== undefined;
    this.#unregister = init.unregister;
    this.#supervisor = new ConnectionSupervisor({ ...init, listener: this as Listener<unknown> });
  }

  /** `"running"`, `"suspended"` or `"stopped"`. */
  get status(): ListenerStatus {
    return this.#status;
  }

  /** Where the listener listens (the last address while suspended or stopped). */
  get address(): Address | undefined {
    return this.#address;
  }

  /** The TCP port it listens on (the real one when 0 was asked), or `undefined` for non-IP transports. */
  get port(): number | undefined {
    const address = this.#address;
    return address !== undefined && "port" in address ? address.port : undefined;
  }

  /** The connection limit (an integer from 1, or `Infinity`); raising it wakes waiting acceptors. */
  get maxConnections(): number {
    return this.#supervisor.maxConnections;
  }

  set maxConnections(value: number) {
    this.#supervisor.maxConnections = value;
  }

  /**
   * The alarms (the `alarms` option of `listen()`). Setting replaces them
   * all (`undefined` removes them) or throws a `TypeError` / `RangeError`
   * naming the bad alarm (`listener.alarms.NAME.threshold ...`).
   */
  get alarms(): Alarms<Listener<P>> | undefined {
    return this.#supervisor.metrics.alarms as Alarms<Listener<P>> | undefined;
  }

  set alarms(value: Alarms<Listener<P>> | undefined) {
    this.#supervisor.metrics.setAlarms(value);
  }

  /** The transport's options as set. */
  get transportOptions(): object {
    return this.#transport.options;
  }

  /**
   * Changes transport options (merged over the current ones); only while suspended, they apply at `resume()`.
   *
   * @param options Options of the listener's transport, such as `{ port: 8443 }` for `tcp`.
   * @throws {TypeError} When the listener is not suspended, or an option is unknown or of the wrong type.
   * @throws {RangeError} When an option is out of range.
   *
   * @example Moving a suspended listener to another name
   * ```ts
   * import assert from "node:assert/strict";
   * import { listen, memory } from "../mod.ts";
   * await using listener = await listen({ transport: memory(), protocol: () => {} });
   * await listener.suspend();
   * listener.setTransportOptions({ name: "doc-moved" });
   * await listener.resume();
   * assert.deepEqual(listener.address, { name: "doc-moved" });
   * ```
   */
  setTransportOptions(options: object): void {
    if (this.#status !== "suspended") {
      throw new TypeError(`setTransportOptions() needs a suspended listener; ${this.ref} is ${this.#status}`);
    }
    this.#transport = this.#bound = this.#transport.withOptions(options);
  }

  /** What new connections receive as their protocol options (running ones keep theirs). */
  get protocolOptions(): P {
    return this.#supervisor.protocolOptions as P;
  }

  set protocolOptions(value: P) {
    this.#supervisor.protocolOptions = value;
  }

  /**
   * How many connections are counted against the limit (`"active"`) or run at all (`"all"`).
   *
   * @param kind `"active"` (the default) or `"all"` (those `removeFromCount()` took out of the count too).
   * @returns The number of connections whose protocol is running now.
   * @throws {TypeError} When `kind` is neither `"active"` nor `"all"`.
   *
   * @example Counts of a listener nobody connected to
   * ```ts
   * import assert from "node:assert/strict";
   * import { listen, memory } from "../mod.ts";
   * await using listener = await listen({ transport: memory(), protocol: () => {} });
   * assert(listener.connections() === 0 && listener.connections("all") === 0);
   * assert.throws(() => listener.connections("idle" as "all"), TypeError);
   * ```
   */
  connections(kind: "active" | "all" = "active"): number {
    if (kind !== "active" && kind !== "all") {
      throw new TypeError(`connections(kind): kind must be "active" or "all", got ${describe(kind)}`);
    }
    return this.#supervisor.count(kind);
  }

  /**
   * Waits until the active count compares to `count` as `op` says (Ranch's `ranch:wait_for_connections`).
   *
   * @param op `">"`, `">="`, `"=="`, `"<="` or `"<"`: the active count on the left, `count` on the right.
   * @param count An integer, 0 or more.
   * @param options `timeout`: ms to wait at most; default no limit.
   * @throws {TimeoutError} When `options.timeout` ms pass first (the promise rejects).
   * @throws {TypeError} When `op` is not one of the five comparisons (the promise rejects).
   * @throws {RangeError} When `count` is not an integer, 0 or more (the promise rejects).
   *
   * @example Waiting for a client, and giving up on a second one
   * ```ts
   * import assert from "node:assert/strict";
   * import { listen, memory, type Protocol, TimeoutError } from "../mod.ts";
   * const hold: Protocol = async (conn) => void (await (await conn.handshake()).recv()); // until the client closes
   * await using listener = await listen({ transport: memory({ name: "doc-wait" }), protocol: hold });
   * const client = await memory().connect({ name: "doc-wait" });
   * await listener.waitForConnections(">=", 1);
   * await assert.rejects(listener.waitForConnections("==", 2, { timeout: 20 }), TimeoutError);
   * await client.close();
   * ```
   */
  waitForConnections(op: CountComparison, count: number, options: { timeout?: number } = {}): Promise<void> {
    return waitForCount(this.#supervisor, op, count, options.timeout ?? Infinity);
  }

  /**
   * A snapshot of the listener and its counters (Ranch's `ranch:info/1`).
   *
   * @returns A new object each call: status, address, limits and connection counters as of now.
   *
   * @example Reading the counters
   * ```ts
   * import assert from "node:assert/strict";
   * import { listen, memory } from "../mod.ts";
   * await using listener = await listen({ ref: "doc-listener-info", transport: memory(), protocol: () => {} });
   * const info = listener.info();
   * assert(info.ref === "doc-listener-info" && info.transport === "memory" && info.accepted === 0);
   * ```
   */
  info(): ListenerInfo {
    return {
      ref: this.ref,
      status: this.#status,
      transport: this.#transport.name,
      transportOptions: this.#transport.options,
      address: this.#address,
      port: this.port,
      maxConnections: this.maxConnections,
      numAcceptors: this.#numAcceptors,
      numListenSockets: this.#numListenSockets,
      ...this.#supervisor.counters,
      ...this.#supervisor.metrics.traffic(this.#supervisor.running()),
      acceptErrors: this.#supervisor.metrics.acceptErrors,
      idleTimeout: this.#supervisor.idleTimeout,
    };
  }

  /**
   * Closes the listen sockets; connections carry on, new connects are refused. Does nothing unless running.
   *
   * @example New clients are refused while suspended
   * ```ts
   * import assert from "node:assert/strict";
   * import { listen, memory } from "../mod.ts";
   * await using listener = await listen({ transport: memory({ name: "doc-suspend" }), protocol: () => {} });
   * await listener.suspend();
   * await assert.rejects(memory().connect({ name: "doc-suspend" }), { code: "ECONNREFUSED" });
   * ```
   */
  suspend(): Promise<void> {
    return this.#serially(async () => {
      if (this.#status !== "running") return;
      this.#status = "suspended";
      await this.#closeSockets();
      announce("suspend", this, this.#transport.name);
    });
  }

  /**
   * Listens again with the current transport options (the same port when one was chosen), if suspended.
   *
   * @throws {ListenError} When the listen socket cannot open again, such as `code` `"EADDRINUSE"`.
   *
   * @example The same port after a resume
   * ```ts
   * import assert from "node:assert/strict";
   * import { listen, tcp } from "../mod.ts";
   * await using listener = await listen({ transport: tcp({ host: "127.0.0.1", port: 0 }), protocol: () => {} });
   * const port = listener.port;
   * await listener.suspend();
   * await listener.resume();
   * assert(listener.status === "running" && listener.port === port);
   * ```
   */
  resume(): Promise<void> {
    return this.#serially(async () => {
      if (this.#status !== "suspended") return;
      await this.#openSockets();
      this.#status = "running";
      announce("resume", this, this.#transport.name);
    });
  }

  /**
   * Stops listening, aborts every connection's `signal`, waits up to `shutdownTimeout` for the protocols
   * to end, then closes what is left (see `Connection` for what a protocol sees).
   *
   * @returns `true` once this call has stopped the listener; `false` when it was stopped already.
   *
   * @example Stopping twice
   * ```ts
   * import assert from "node:assert/strict";
   * import { getListener, listen, memory } from "../mod.ts";
   * const listener = await listen({ ref: "doc-stop", transport: memory(), protocol: () => {} });
   * assert((await listener.stop()) === true && listener.status === "stopped");
   * assert((await listener.stop()) === false && getListener("doc-stop") === undefined);
   * ```
   */
  stop(): Promise<boolean> {
    return this.#serially(async () => {
      if (this.#status === "stopped") return false;
      this.#status = "stopped";
      await this.#closeSockets();
      await this.#supervisor.shutdown(this.#shutdownTimeout);
      this.#unregister(this as Listener<unknown>);
      announce("stop", this, this.#transport.name);
      return true;
    });
  }

  /**
   * `await using listener = await listen(...)` stops it at the end of the scope.
   *
   * @example Disposing stops the listener
   * ```ts
   * import assert from "node:assert/strict";
   * import { listen, memory } from "../mod.ts";
   * const listener = await listen({ transport: memory(), protocol: () => {} });
   * await listener[Symbol.asyncDispose]();
   * assert(listener.status === "stopped");
   * ```
   */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }

  #serially<T>(step: () => Promise<T>): Promise<T> {
    const next = this.#busy.then(step);
    this.#busy = next.catch(() => {});
    return next;
  }

  async #openSockets(): Promise<void> {
    const sockets: ListenSocket[] = [];
    let transport = this.#bound;
    try {
      for (let i = 0; i < this.#numListenSockets; i++) {
        const socket = await transport.listen({ plaintextFirst: this.#plaintextFirst });
        sockets.push(socket);
        // Later sockets (and a resume) bind where the first one landed.
        if (i === 0) transport = pin(transport, socket.address);
      }
    } catch (error) {
      await Promise.all(sockets.map((socket) => socket.close()));
      throw error;
    }
    this.#bound = transport;
    this.#sockets = sockets;
    this.#address = sockets[0]!.address;
    this.#pool = new AcceptorPool(sockets, this.#numAcceptors, this.#transport, this.#supervisor, this.#logger);
  }

  async #closeSockets(): Promise<void> {
    const pool = this.#pool;
    this.#pool = undefined;
    const closing = pool?.close();
    this.#supervisor.releaseAcceptors();
    await Promise.all(this.#sockets.splice(0).map((socket) => socket.close()));
    await closing;
  }
}

/** A transport that binds where `address` is, when its options left the choice open. */
function pin(transport: Transport, address: Address): Transport {
  const options = transport.options as { port?: number; name?: string; fd?: number };
  if (options.fd !== undefined) return transport; // an inherited descriptor: bound before this process began
  if ("port" in address && !options.port) return transport.withOptions({ port: address.port });
  if ("name" in address && options.name === undefined) return transport.withOptions({ name: address.name });
  return transport;
}
