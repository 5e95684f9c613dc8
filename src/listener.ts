/**
 * The listener (Ranch's `ranch_listener_sup`): owns its listen sockets, its acceptors and its connection
 * supervisor; status, suspend/resume, live reconfiguration and stop.
 *
 * @module
 */
import type { Alarms } from "./alarms.ts";
import { type CountComparison, waitForCount } from "./connection_count_wait.ts";
import type { ListenerInfo, ListenerStatus } from "./listener_info.ts";
import { type LifecycleInit, ListenerLifecycle } from "./listener_lifecycle.ts";
import { describe } from "./options.ts";
import type { Address, ListenSocket } from "./transport.ts";

export type { CountComparison } from "./connection_count_wait.ts";
export type { ListenerInfo, ListenerStatus } from "./listener_info.ts";

/** What `listen()` hands a new listener: its checked options, with the protocol as the supervisor runs it. */
export type ListenerInit = LifecycleInit<Listener<unknown>>;

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
  readonly #life: ListenerLifecycle<Listener<unknown>>;

  static {
    openListener = async <P>(init: ListenerInit): Promise<Listener<P>> => {
      const listener = new Listener<P>(init);
      init.register(listener as Listener<unknown>);
      try {
        await listener.#life.start();
      } catch (error) {
        init.unregister(listener as Listener<unknown>);
        throw error;
      }
      return listener;
    };
    listenSocketsOf = (listener) => listener.#life.sockets;
  }

  private constructor(init: ListenerInit) {
    this.ref = init.ref;
    this.#life = new ListenerLifecycle(this as Listener<unknown>, init);
  }

  /** `"running"`, `"suspended"` or `"stopped"`. */
  get status(): ListenerStatus {
    return this.#life.status;
  }

  /** Where the listener listens (the last address while suspended or stopped). */
  get address(): Address | undefined {
    return this.#life.address;
  }

  /** The TCP port it listens on (the real one when 0 was asked), or `undefined` for non-IP transports. */
  get port(): number | undefined {
    return this.#life.port;
  }

  /** The connection limit (an integer from 1, or `Infinity`); raising it wakes waiting acceptors. */
  get maxConnections(): number {
    return this.#life.supervisor.maxConnections;
  }

  set maxConnections(value: number) {
    this.#life.supervisor.maxConnections = value;
  }

  /**
   * The alarms (the `alarms` option of `listen()`). Setting replaces them
   * all (`undefined` removes them) or throws a `TypeError` / `RangeError`
   * naming the bad alarm (`listener.alarms.NAME.threshold ...`).
   */
  get alarms(): Alarms<Listener<P>> | undefined {
    return this.#life.supervisor.metrics.alarms as Alarms<Listener<P>> | undefined;
  }

  set alarms(value: Alarms<Listener<P>> | undefined) {
    this.#life.supervisor.metrics.setAlarms(value);
  }

  /** The transport's options as set. */
  get transportOptions(): object {
    return this.#life.transport.options;
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
    this.#life.setTransportOptions(options);
  }

  /** What new connections receive as their protocol options (running ones keep theirs). */
  get protocolOptions(): P {
    return this.#life.supervisor.protocolOptions as P;
  }

  set protocolOptions(value: P) {
    this.#life.supervisor.protocolOptions = value;
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
    return this.#life.supervisor.count(kind);
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
    return waitForCount(this.#life.supervisor, op, count, options.timeout ?? Infinity);
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
    return this.#life.info();
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
    return this.#life.suspend();
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
    return this.#life.resume();
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
    return this.#life.stop();
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
}
