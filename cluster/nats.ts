/**
 * `corral/cluster/nats`: a {@linkcode PubSub} over a NATS connection the
 * application already opened (`@nats-io/transport-node`'s `connect()`, or
 * `@nats-io/transport-deno`'s), for a cluster `Registry`. Corral imports no
 * NATS package: the client is the application's dependency and stays the
 * application's to close.
 *
 * The client reconnects by itself and sends its subscriptions again; while
 * it is disconnected this adapter reports `connected: false`, so the
 * registry drops copies for other nodes instead of letting the client queue
 * them.
 *
 * @module
 */
import type { PubSub, Unsubscribe } from "../src/registry/pubsub.ts";

export type { PubSub, Unsubscribe };

/** The part of a NATS connection (`NatsConnection` in `@nats-io/nats-core` 3.x) the adapter uses. */
export interface NatsClient {
  /** Publishes `payload` on `subject`. */
  publish(subject: string, payload?: Uint8Array): void;
  /** Subscribes with a callback; the returned subscription is ended with `unsubscribe()`. */
  subscribe(
    subject: string,
    options: { callback: (error: Error | null, message: { readonly data: Uint8Array }) => void },
  ): { unsubscribe(): void };
  /** Resolves once the server has processed everything sent before. */
  flush(): Promise<void>;
  /** Whether the connection is closed for good. */
  isClosed(): boolean;
  /** The connection's events (`disconnect`, `reconnect`, `close`...). */
  status(): AsyncIterable<{ readonly type: string }>;
}

/**
 * Bytes a NATS subject token cannot hold (space and control characters,
 * `.`, `*`, `>`), non-ASCII ones and `%` itself are written `%XX`.
 */
function subjectOf(topic: string): string {
  if (/^[\x21-\x24\x26-\x29\x2b-\x2d\x2f-\x3d\x3f-\x7e]+$/.test(topic)) return topic;
  let subject = "";
  for (const byte of new TextEncoder().encode(topic)) {
    const plain = byte > 0x20 && byte < 0x7f && byte !== 0x25 && byte !== 0x2e && byte !== 0x2a && byte !== 0x3e;
    subject += plain ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return subject;
}

/**
 * A {@linkcode PubSub} over the NATS connection `nc`. Topics become
 * subjects with the bytes a subject cannot hold escaped as `%XX`.
 *
 * @param nc A connected NATS client.
 * @returns The adapter; its `close()` ends its subscriptions, not `nc`.
 * @throws {TypeError} When `nc` is not a NATS connection.
 *
 * @example A cluster registry on NATS (a stand-in connection here; see README for a real one)
 * ```ts
 * import assert from "node:assert/strict";
 * import { Registry } from "../mod.ts";
 * import { type NatsClient, natsPubSub } from "./nats.ts";
 * const sent: string[] = [];
 * const nc: NatsClient = {
 *   publish: (subject) => void sent.push(subject),
 *   subscribe: () => ({ unsubscribe() {} }),
 *   flush: async () => {},
 *   isClosed: () => false,
 *   status: async function* () {},
 * };
 * const pubsub = natsPubSub(nc);
 * const rooms = new Registry({ keys: "duplicate", pubsub, deliver: () => {} });
 * rooms.broadcast("my room", "hi");
 * assert.deepEqual(sent, ["corral:my%20room"]);
 * await pubsub.close();
 * ```
 */
export function natsPubSub(nc: NatsClient): PubSub {
  const methods = ["publish", "subscribe", "flush", "isClosed", "status"] as const;
  if (nc === null || typeof nc !== "object" || methods.some((name) => typeof nc[name] !== "function")) {
    throw new TypeError("natsPubSub(nc): nc must be a NATS connection (from connect())");
  }
  let connected = !nc.isClosed();
  const subscriptions = new Set<{ unsubscribe(): void }>();
  const events = nc.status()[Symbol.asyncIterator]();
  void (async () => {
    // The client's own events; it ends when the connection closes or close() below returns it.
    for (let next = await events.next(); !next.done; next = await events.next()) {
      const type = next.value.type;
      if (type === "disconnect" || type === "close") connected = false;
      else if (type === "reconnect") connected = true;
    }
    connected = false;
  })().catch(() => (connected = false));

  return {
    get connected() {
      return connected && !nc.isClosed();
    },
    publish(topic, data) {
      nc.publish(subjectOf(topic), data);
    },
    async subscribe(topic, onMessage) {
      const subscription = nc.subscribe(subjectOf(topic), {
        callback: (error, message) => {
          if (error === null) onMessage(message.data);
        },
      });
      subscriptions.add(subscription);
      await nc.flush(); // the server has the subscription once this PING is answered
      return () => {
        if (subscriptions.delete(subscription)) subscription.unsubscribe();
      };
    },
    close() {
      for (const subscription of subscriptions) subscription.unsubscribe();
      subscriptions.clear();
      // An async generator waiting for its next event takes return() only after that event (or the
      // connection's close, which ends it): ask, but do not wait.
      events.return?.()?.catch(() => {});
      return Promise.resolve();
    },
  };
}
