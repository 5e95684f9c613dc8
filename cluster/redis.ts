/**
 * `corral/cluster/redis`: a {@linkcode PubSub} over two Redis connections
 * the application already opened with node-redis (`@redis/client` or
 * `redis`, 5.x and 6.x): one that publishes and one in subscriber mode
 * (`publisher.duplicate()`), as Redis requires. Corral imports no Redis
 * package: the clients are the application's, and its to close.
 *
 * node-redis reconnects by itself and subscribes again; while either
 * connection is not ready this adapter reports `connected: false`, so the
 * registry drops copies for other nodes instead of letting node-redis's
 * offline queue hold them. On Deno, node-redis needs `--allow-env` (it reads
 * an environment variable at connect; without the permission it retries
 * forever).
 *
 * @module
 */
import type { PubSub, Unsubscribe } from "../src/registry/pubsub.ts";

export type { PubSub, Unsubscribe };

/** A node-redis message listener in buffer mode. */
export type RedisListener = (message: Uint8Array, channel: Uint8Array) => void;

/** The part of a node-redis client (`RedisClientType`) that publishes. */
export interface RedisPublisher {
  /** Whether the connection is up and ready for commands. */
  readonly isReady: boolean;
  /** `PUBLISH channel message`; node-redis takes a string or a `Buffer`. */
  publish(channel: string, message: never): Promise<unknown>;
}

/** The part of a node-redis client in subscriber mode the adapter uses. */
export interface RedisSubscriber {
  /** Whether the connection is up and ready. */
  readonly isReady: boolean;
  /** `SUBSCRIBE`; resolves once Redis confirmed it. */
  subscribe(channel: string, listener: RedisListener, bufferMode: true): Promise<unknown>;
  /** `UNSUBSCRIBE` of one listener (the channel is left when it had no other). */
  unsubscribe(channel: string, listener: RedisListener, bufferMode: true): Promise<unknown>;
}

/** Options of {@linkcode redisPubSub}. */
export interface RedisPubSubOptions {
  /** The connection that publishes. */
  publisher: RedisPublisher;
  /** A second connection, for subscribing (`await publisher.duplicate().connect()`). */
  subscriber: RedisSubscriber;
}

interface BufferModule {
  Buffer: { from(buffer: ArrayBufferLike, offset: number, length: number): never };
}

/**
 * node-redis takes binary arguments only as a `Buffer` (a view, no copy);
 * it runs only where `node:buffer` exists, so that is loaded from there.
 */
function bufferClass(): BufferModule["Buffer"] {
  const load = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process?.getBuiltinModule;
  const module = load?.("node:buffer") as BufferModule | undefined;
  if (module === undefined) throw new TypeError("redisPubSub: node:buffer is missing (node-redis needs it)");
  return module.Buffer;
}

/**
 * A {@linkcode PubSub} over node-redis. Topics are Redis channels as they are.
 *
 * @param options `publisher` and `subscriber`, two connected node-redis clients.
 * @returns The adapter; its `close()` ends its subscriptions, not the clients.
 * @throws {TypeError} When either client is missing or not a node-redis client.
 *
 * @example A cluster registry on Redis (stand-in clients here; see README for real ones)
 * ```ts
 * import assert from "node:assert/strict";
 * import { Registry } from "../mod.ts";
 * import { type RedisPublisher, redisPubSub, type RedisSubscriber } from "./redis.ts";
 * const channels: string[] = [];
 * const publisher: RedisPublisher = { isReady: true, publish: async (channel) => void channels.push(channel) };
 * const subscriber: RedisSubscriber = { isReady: true, subscribe: async () => {}, unsubscribe: async () => {} };
 * const rooms = new Registry({ keys: "duplicate", pubsub: redisPubSub({ publisher, subscriber }), deliver: () => {} });
 * rooms.broadcast("lobby", "hi");
 * assert.deepEqual(channels, ["corral:lobby"]);
 * ```
 */
export function redisPubSub(options: RedisPubSubOptions): PubSub {
  const { publisher, subscriber } = options ?? {};
  if (typeof publisher?.publish !== "function") {
    throw new TypeError("redisPubSub({ publisher }): publisher must be a connected node-redis client");
  }
  if (typeof subscriber?.subscribe !== "function" || typeof subscriber.unsubscribe !== "function") {
    throw new TypeError("redisPubSub({ subscriber }): subscriber must be a node-redis client (publisher.duplicate())");
  }
  const Buffer = bufferClass();
  const subscriptions = new Map<RedisListener, string>();
  return {
    get connected() {
      return publisher.isReady && subscriber.isReady;
    },
    async publish(topic, data) {
      await publisher.publish(topic, Buffer.from(data.buffer, data.byteOffset, data.byteLength));
    },
    async subscribe(topic, onMessage) {
      const listener: RedisListener = (message) => onMessage(message);
      subscriptions.set(listener, topic);
      try {
        await subscriber.subscribe(topic, listener, true);
      } catch (error) {
        subscriptions.delete(listener);
        throw error;
      }
      return async () => {
        if (subscriptions.delete(listener)) await subscriber.unsubscribe(topic, listener, true);
      };
    },
    async close() {
      const ending = [...subscriptions].map(([listener, topic]) => subscriber.unsubscribe(topic, listener, true));
      subscriptions.clear();
      await Promise.all(ending);
    },
  };
}
