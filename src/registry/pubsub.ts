/**
 * The broker seam of a cluster `Registry`: what Corral needs from
 * a publish/subscribe broker (NATS, Redis...) to carry a broadcast to the
 * other nodes. Corral ships adapters over clients the user connected
 * (`corral/cluster/nats`, `corral/cluster/redis`) and imports no broker
 * package itself; any other broker fits by implementing these members.
 *
 * @module
 */
/** Ends one subscription; the promise settles when the broker was told. */
export type Unsubscribe = () => Promise<void> | void;

/**
 * A publish/subscribe broker connection, as a cluster `Registry` uses it.
 * Topics are opaque strings (the adapter maps them to what its broker
 * allows); messages are bytes, delivered to every subscriber of the topic on
 * every node, the publisher's own subscriptions included.
 *
 * @example An in-process broker (what a test double looks like)
 * ```ts
 * import assert from "node:assert/strict";
 * import type { PubSub } from "./pubsub.ts";
 * const topics = new Map<string, Set<(data: Uint8Array) => void>>();
 * const local: PubSub = {
 *   connected: true,
 *   publish(topic, data) {
 *     for (const fn of topics.get(topic) ?? []) fn(data);
 *   },
 *   async subscribe(topic, onMessage) {
 *     const set = topics.get(topic) ?? new Set();
 *     topics.set(topic, set.add(onMessage));
 *     return () => void set.delete(onMessage);
 *   },
 *   async close() {},
 * };
 * const got: number[] = [];
 * const unsubscribe = await local.subscribe("t", (data) => got.push(data[0]!));
 * local.publish("t", new Uint8Array([7]));
 * await unsubscribe();
 * local.publish("t", new Uint8Array([8]));
 * assert.deepEqual(got, [7]);
 * ```
 */
export interface PubSub {
  /**
   * Whether the broker is reachable now. While it is `false` the registry
   * drops (and counts) the copies meant for other nodes instead of letting
   * the client queue them without bound.
   */
  readonly connected: boolean;
  /**
   * Sends `data` to every subscriber of `topic`. May throw or reject when
   * the broker cannot take it: the registry counts the copy as dropped. The
   * adapter must not keep `data` after the call (or the promise) returns.
   */
  publish(topic: string, data: Uint8Array): void | Promise<void>;
  /**
   * Subscribes `onMessage` to `topic`; resolves once the broker has the
   * subscription (so a message published after that reaches it), with the
   * function that ends it. `onMessage` must not throw into the client; the
   * registry's never does.
   */
  subscribe(topic: string, onMessage: (data: Uint8Array) => void): Promise<Unsubscribe>;
  /** Ends every subscription this adapter made. The broker client stays the user's to close. */
  close(): Promise<void>;
}

/** What a cluster registry's `Registry.clusterStatus` tells. */
export interface ClusterStatus {
  /** This node's id in the messages it publishes (random per registry). */
  readonly node: string;
  /** The adapter's `connected`: whether copies for other nodes go out now. */
  readonly connected: boolean;
  /** Keys with a broker subscription on this node (one per key with local members). */
  readonly subscriptions: number;
  /** Broadcasts handed to the broker (a publish that fails later moves to `dropped`). */
  readonly published: number;
  /** Broadcasts from other nodes delivered here (each counted once, whatever the members). */
  readonly received: number;
  /**
   * Copies for other nodes not sent: the broker was unreachable, a publish
   * failed, or too many publishes were waiting for the broker. Local members
   * got those broadcasts all the same.
   */
  readonly dropped: number;
  /** Messages on a subscribed topic that were not a registry's broadcast (ignored). */
  readonly malformed: number;
  /** The last error the broker client gave (a failed publish, subscribe or unsubscribe), if any. */
  readonly lastError: unknown;
}
