/**
 * The types of the {@linkcode Registry}'s options and entries.
 *
 * @module
 */
import type { Connection } from "../connection.ts";
import type { Logger } from "../logger.ts";
import type { PubSub } from "./pubsub.ts";

/**
 * How many connections one key may hold: `"unique"` (at most one, like a
 * user name) or `"duplicate"` (any number, like the members of a room).
 */
export type RegistryKeys = "unique" | "duplicate";

/** Options of the {@linkcode Registry} constructor. */
export interface RegistryOptions<V = undefined> {
  /** `"unique"` or `"duplicate"` keys. Required, as in Elixir. */
  keys: RegistryKeys;
  /**
   * A broker that joins this registry to the registries of the same `name`
   * on other nodes, for `broadcast`. Requires `deliver` and string keys.
   * Without it the registry is local to this process.
   */
  pubsub?: PubSub;
  /**
   * How a member receives a `broadcast`: called once per local member of
   * the key, with the bytes (shared by every member: do not modify them).
   * Required with `pubsub`; a throw is logged and the other members still
   * get theirs.
   */
  deliver?: (entry: RegistryEntry<V>, data: Uint8Array) => void;
  /** The registry's name on the broker (its topics are `name:key`). Default `"corral"`. */
  name?: string;
  /** Where a throwing `deliver` is reported. Default `console`. */
  logger?: Pick<Logger, "error">;
}

/** Options of {@linkcode Registry.broadcast}. */
export interface BroadcastOptions {
  /** The sender, when it is a member: it does not get its own broadcast. */
  from?: Connection;
}

/** One registration: the connection and the value it registered with. */
export interface RegistryEntry<V> {
  /** The registered connection. */
  readonly conn: Connection;
  /** The value given to `register` (`undefined` when none was). */
  readonly value: V;
}
