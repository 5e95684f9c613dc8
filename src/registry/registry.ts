/**
 * A registry of connections by key (Elixir's `Registry`): connections
 * register under keys such as a room name, others look them up or dispatch
 * to them, and a connection's entries disappear by themselves when it ends,
 * however it ends (the peer closed, the protocol threw, the listener stopped).
 *
 * @module
 */
import type { Connection } from "../connection.ts";
import { Broadcaster } from "./_broadcaster.ts";
import { registrySettings } from "./_registry_settings.ts";
import type { ClusterStatus } from "./pubsub.ts";
import type { BroadcastOptions, RegistryEntry, RegistryOptions } from "./types.ts";

export type { BroadcastOptions, RegistryEntry, RegistryKeys, RegistryOptions } from "./types.ts";
export type { ClusterStatus, PubSub, Unsubscribe } from "./pubsub.ts";

const NO_ENTRIES: readonly never[] = Object.freeze([]);

/**
 * Connections by key. Each (key, connection) pair holds at most one entry.
 * With `keys: "unique"` a key holds at most one connection: `register`
 * returns `false` instead of taking a key another connection holds (as
 * Elixir returns `{:error, {:already_registered, pid}}`), so a taken name
 * is an ordinary answer, not an exception.
 *
 * Entries are removed when the connection's `ended` promise resolves: a
 * microtask after the protocol returned or threw, or when `stop()` gave up
 * on it. Until then a lookup may still list a connection whose socket is
 * closing, so whoever sends to it must expect a `ClosedError`.
 *
 * With a `pubsub` option, `broadcast` reaches the members of a key on every
 * node (one broker message per broadcast, one subscription per key per
 * node). Everything else stays node-local, as in Elixir: `lookup`, `count`,
 * `keys` and `dispatch` see this node's members only, and a `"unique"` key is
 * unique on this node only (a name unique across nodes needs a lease from
 * the broker, which this registry does not take).
 *
 * @example Rooms of a chat server
 * ```ts
 * import assert from "node:assert/strict";
 * import { listen, memory } from "../../mod.ts";
 * import { Registry } from "./registry.ts";
 * const rooms = new Registry({ keys: "duplicate" });
 * const listener = await listen({
 *   transport: memory({ name: "doc-rooms" }),
 *   protocol: async (conn) => {
 *     rooms.register("lobby", conn);
 *     const socket = await conn.handshake();
 *     await socket.recv(); // until the client closes
 *   },
 * });
 * const client = await memory().connect({ name: "doc-rooms" });
 * await listener.waitForConnections("==", 1);
 * assert(rooms.count("lobby") === 1);
 * const [entry] = rooms.lookup("lobby");
 * await client.close();
 * await entry!.conn.ended;
 * assert(rooms.count("lobby") === 0);
 * await listener.stop();
 * ```
 */
export class Registry<V = undefined, K = string> {
  readonly #unique: boolean;
  #byKey = new Map<K, Map<Connection, RegistryEntry<V>>>();
  /** Frozen entry lists handed out by `lookup`, rebuilt only after a change. */
  #snapshots = new Map<K, readonly RegistryEntry<V>[]>();
  #byConn = new Map<Connection, Set<K>>();
  /** Connections whose end is already being waited for. */
  #watched = new WeakSet<Connection>();
  readonly #broadcaster: Broadcaster<V, K>;

  /**
   * Makes an empty registry with unique or duplicate keys.
   *
   * @param options `keys`: `"unique"` or `"duplicate"`; required.
   * @throws {TypeError} When `options` is not an object, has an unknown key, or `keys` is missing or wrong.
   *
   * @example One name per connection
   * ```ts
   * import assert from "node:assert/strict";
   * import { Registry } from "./registry.ts";
   * const names = new Registry<string>({ keys: "unique" });
   * assert(names.unique && names.count("ada") === 0);
   * assert.throws(() => new Registry({ keys: "many" as "unique" }), TypeError);
   * ```
   */
  constructor(options: RegistryOptions<V>) {
    const settings = registrySettings(options);
    this.#unique = settings.unique;
    this.#broadcaster = new Broadcaster(settings, (key) => this.lookup(key));
  }

  /**
   * Whether keys are unique (`keys: "unique"`) rather than duplicate.
   *
   * @example Reading the key mode
   * ```ts
   * import assert from "node:assert/strict";
   * import { Registry } from "./registry.ts";
   * assert(new Registry({ keys: "unique" }).unique && !new Registry({ keys: "duplicate" }).unique);
   * ```
   */
  get unique(): boolean {
    return this.#unique;
  }

  /**
   * Registers `conn` under `key` with `value`. Returns `true` when a new
   * entry was made; `false` when `conn` already has an entry under `key`
   * (it is left as it was) or, with unique keys, another connection holds
   * `key`.
   *
   * @param key The key, such as a room or user name (compared as `Map` keys are).
   * @param conn The connection; its entries go when its `ended` promise resolves.
   * @param value What `lookup` returns with the entry; may be left out when `V` allows `undefined`.
   * @returns Whether a new entry was made.
   * @throws {TypeError} When `conn` is not a `Connection` (an object with an `ended` promise).
   *
   * @example A unique name is taken once
   * ```ts
   * import assert from "node:assert/strict";
   * import type { Connection } from "../connection.ts";
   * import { Registry } from "./registry.ts";
   * const names = new Registry<string>({ keys: "unique" });
   * // Any object with an `ended` promise stands in for a connection here.
   * const alice = { ended: new Promise<void>(() => {}) } as Connection;
   * const bob = { ended: new Promise<void>(() => {}) } as Connection;
   * assert(names.register("ada", alice, "Alice") === true);
   * assert(names.register("ada", bob, "Bob") === false);
   * assert(names.lookup("ada")[0]!.value === "Alice");
   * ```
   */
  register(key: K, conn: Connection, ...value: undefined extends V ? [value?: V] : [value: V]): boolean {
    checkConnection("register", conn);
    let entries = this.#byKey.get(key);
    if (entries !== undefined && (entries.has(conn) || (this.#unique && entries.size > 0))) return false;
    if (entries === undefined) {
      this.#broadcaster.joining(key);
      entries = new Map();
      this.#byKey.set(key, entries);
    }
    entries.set(conn, Object.freeze({ conn, value: value[0] as V }));
    this.#snapshots.delete(key);
    let keys = this.#byConn.get(conn);
    if (keys === undefined) {
      keys = new Set();
      this.#byConn.set(conn, keys);
    }
    keys.add(key);
    if (!this.#watched.has(conn)) {
      this.#watched.add(conn);
      const drop = () => this.#drop(conn);
      conn.ended.then(drop, drop);
    }
    return true;
  }

  /**
   * Removes `conn`'s entry under `key`. Returns whether there was one.
   *
   * @param key The key it registered under.
   * @param conn The registered connection.
   * @returns `true` when an entry was removed; `false` when there was none.
   *
   * @example Leaving a room
   * ```ts
   * import assert from "node:assert/strict";
   * import type { Connection } from "../connection.ts";
   * import { Registry } from "./registry.ts";
   * const rooms = new Registry({ keys: "duplicate" });
   * const conn = { ended: new Promise<void>(() => {}) } as Connection;
   * rooms.register("lobby", conn);
   * assert(rooms.unregister("lobby", conn) === true);
   * assert(rooms.unregister("lobby", conn) === false);
   * assert(rooms.keys(conn).length === 0);
   * ```
   */
  unregister(key: K, conn: Connection): boolean {
    const entries = this.#byKey.get(key);
    if (entries === undefined || !entries.delete(conn)) return false;
    this.#forgetKey(key, entries);
    const keys = this.#byConn.get(conn)!;
    keys.delete(key);
    if (keys.size === 0) this.#byConn.delete(conn);
    return true;
  }

  /**
   * The entries under `key`, in registration order: a frozen snapshot that
   * later changes do not touch (empty when there are none).
   *
   * @param key The key to look up.
   * @returns The entries, frozen; the same array until the key's entries change.
   *
   * @example Looking up who is in a room
   * ```ts
   * import assert from "node:assert/strict";
   * import type { Connection } from "../connection.ts";
   * import { Registry } from "./registry.ts";
   * const rooms = new Registry<string>({ keys: "duplicate" });
   * const a = { ended: new Promise<void>(() => {}) } as Connection;
   * const b = { ended: new Promise<void>(() => {}) } as Connection;
   * rooms.register("lobby", a, "a");
   * rooms.register("lobby", b, "b");
   * assert.deepEqual(rooms.lookup("lobby").map((entry) => entry.value), ["a", "b"]);
   * assert(rooms.lookup("attic").length === 0);
   * ```
   */
  lookup(key: K): readonly RegistryEntry<V>[] {
    let snapshot = this.#snapshots.get(key);
    if (snapshot === undefined) {
      const entries = this.#byKey.get(key);
      if (entries === undefined) return NO_ENTRIES;
      snapshot = Object.freeze([...entries.values()]);
      this.#snapshots.set(key, snapshot);
    }
    return snapshot;
  }

  /**
   * Calls `fn` once with the entries under `key` (the `lookup` snapshot),
   * or not at all when there are none, as Elixir's `Registry.dispatch/3`
   * does. `fn` may register and unregister; it sees the list as it was.
   *
   * @param key The key whose entries `fn` gets.
   * @param fn Called at once with the entries, if any; what it throws, `dispatch` throws.
   *
   * @example Fanning a message out to a room
   * ```ts
   * import assert from "node:assert/strict";
   * import type { Connection } from "../connection.ts";
   * import { Registry } from "./registry.ts";
   * const inboxes = new Registry<string[]>({ keys: "duplicate" });
   * const a = { ended: new Promise<void>(() => {}) } as Connection;
   * const b = { ended: new Promise<void>(() => {}) } as Connection;
   * const inboxA: string[] = [], inboxB: string[] = [];
   * inboxes.register("lobby", a, inboxA);
   * inboxes.register("lobby", b, inboxB);
   * inboxes.dispatch("lobby", (entries) => {
   *   for (const { conn, value } of entries) if (conn !== a) value.push("hi from a");
   * });
   * assert(inboxA.length === 0 && inboxB[0] === "hi from a");
   * ```
   */
  dispatch(key: K, fn: (entries: readonly RegistryEntry<V>[]) => void): void {
    const entries = this.lookup(key);
    if (entries.length > 0) fn(entries);
  }

  /**
   * The keys `conn` is registered under, in registration order.
   *
   * @param conn A connection.
   * @returns A new array of its keys (empty when it has none).
   *
   * @example The rooms a connection is in
   * ```ts
   * import assert from "node:assert/strict";
   * import type { Connection } from "../connection.ts";
   * import { Registry } from "./registry.ts";
   * const rooms = new Registry({ keys: "duplicate" });
   * const conn = { ended: new Promise<void>(() => {}) } as Connection;
   * rooms.register("lobby", conn);
   * rooms.register("attic", conn);
   * assert.deepEqual(rooms.keys(conn), ["lobby", "attic"]);
   * ```
   */
  keys(conn: Connection): K[] {
    const keys = this.#byConn.get(conn);
    return keys === undefined ? [] : [...keys];
  }

  /**
   * How many entries `key` holds (0 or 1 with unique keys).
   *
   * @param key The key to count.
   * @returns The number of connections registered under `key`.
   *
   * @example Counting an empty key
   * ```ts
   * import assert from "node:assert/strict";
   * import { Registry } from "./registry.ts";
   * assert(new Registry({ keys: "unique" }).count("nobody") === 0);
   * ```
   */
  count(key: K): number {
    return this.#byKey.get(key)?.size ?? 0;
  }

  /**
   * Sends `data` to every member of `key` (Phoenix.PubSub's
   * `broadcast_from`): each local member but `from` gets it at once through
   * the `deliver` option; with a `pubsub`, one message goes to the broker
   * and every other node's registry of the same `name` delivers it to its
   * own members of `key` (never back to this node). Never throws for the
   * broker's sake and never waits: while the broker is unreachable the
   * copy for other nodes is dropped and counted in `clusterStatus.dropped`.
   *
   * @param key The key whose members get `data`.
   * @param data The bytes (a string is sent as UTF-8). The registry keeps no reference after it returns.
   * @param options `from`: the sending member, which does not get its own broadcast.
   * @throws {TypeError} When the registry has no `deliver` option, or with `pubsub` when `key` is not a string.
   *
   * @example A room without the sender
   * ```ts
   * import assert from "node:assert/strict";
   * import type { Connection } from "../connection.ts";
   * import { Registry } from "./registry.ts";
   * const inbox = new Map<string, string[]>();
   * const rooms = new Registry<string>({
   *   keys: "duplicate",
   *   deliver: (entry, data) => inbox.get(entry.value)!.push(new TextDecoder().decode(data)),
   * });
   * for (const name of ["ada", "bob"]) {
   *   inbox.set(name, []);
   *   rooms.register("lobby", { ended: new Promise<void>(() => {}), name } as unknown as Connection, name);
   * }
   * rooms.broadcast("lobby", "hi", { from: rooms.lookup("lobby")[0]!.conn });
   * assert.deepEqual(Object.fromEntries(inbox), { ada: [], bob: ["hi"] });
   * ```
   */
  broadcast(key: K, data: Uint8Array | string, options: BroadcastOptions = {}): void {
    this.#broadcaster.broadcast(key, data, options.from);
  }

  /**
   * Settles once broadcasts from other nodes to `key` can arrive: when the
   * broker confirmed this node's subscription for the key (made when its
   * first local member registered). Resolves at once without a `pubsub` or
   * when `key` has no local member; rejects with the client's error when
   * the broker refused the subscription.
   *
   * @param key A key with a local member.
   * @returns A promise for the subscription.
   *
   * @example Waiting before saying "joined"
   * ```ts
   * import assert from "node:assert/strict";
   * import { Registry } from "./registry.ts";
   * const rooms = new Registry({ keys: "duplicate" });
   * assert.equal(await rooms.ready("lobby"), undefined); // local: nothing to wait for
   * ```
   */
  ready(key: K): Promise<void> {
    return this.#byKey.has(key) ? this.#broadcaster.ready(key) : Promise.resolve();
  }

  /**
   * The broker link's counters and state; `undefined` without a `pubsub`.
   *
   * @example A local registry has none
   * ```ts
   * import assert from "node:assert/strict";
   * import { Registry } from "./registry.ts";
   * assert.equal(new Registry({ keys: "duplicate" }).clusterStatus, undefined);
   * ```
   */
  get clusterStatus(): ClusterStatus | undefined {
    return this.#broadcaster.status;
  }

  /** Removes every entry of a connection that ended. */
  #drop(conn: Connection): void {
    // A connection registered again after it ended is dropped again.
    this.#watched.delete(conn);
    const keys = this.#byConn.get(conn);
    if (keys === undefined) return;
    this.#byConn.delete(conn);
    for (const key of keys) {
      const entries = this.#byKey.get(key)!;
      entries.delete(conn);
      this.#forgetKey(key, entries);
    }
  }

  #forgetKey(key: K, entries: Map<Connection, RegistryEntry<V>>): void {
    this.#snapshots.delete(key);
    if (entries.size > 0) return;
    this.#byKey.delete(key);
    this.#broadcaster.left(key);
  }
}

function checkConnection(method: string, conn: Connection): void {
  if (conn === null || typeof conn !== "object" || typeof conn.ended?.then !== "function") {
    throw new TypeError(`Registry.${method}(key, conn): conn must be a Connection (with an ended promise)`);
  }
}
