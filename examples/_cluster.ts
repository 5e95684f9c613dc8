/**
 * `--cluster URL` for the examples: connects the broker client the URL names
 * (`nats://` with `@nats-io/transport-node`, `redis://` with node-redis's
 * `@redis/client`) and wraps it in Corral's adapter. The client packages are
 * imported only when a cluster is asked for, so a plain `npm start` needs none.
 * Both clients retry for ever while the broker is down (every second or so)
 * and subscribe again when it is back.
 */
import { natsPubSub } from "../cluster/nats.ts";
import { redisPubSub } from "../cluster/redis.ts";
import type { PubSub } from "../mod.ts";

/** A connected adapter, and how to close the clients behind it. */
export interface ClusterClient {
  readonly pubsub: PubSub;
  /** Ends the adapter's subscriptions, then closes the clients. */
  close(): Promise<void>;
}

/**
 * Connects to the broker at `url` (`nats://host:port` or `redis://host:port`);
 * while it is down the clients retry every `retryMs` (default 1000) for ever.
 */
export async function connectCluster(url: string, retryMs = 1000): Promise<ClusterClient> {
  if (url.startsWith("nats://")) {
    const { connect } = await import("@nats-io/transport-node");
    const nc = await connect({ servers: url, maxReconnectAttempts: -1, reconnectTimeWait: retryMs, reconnectJitter: 0 });
    const pubsub = natsPubSub(nc);
    return {
      pubsub,
      async close() {
        await pubsub.close();
        await nc.close();
      },
    };
  }
  if (url.startsWith("redis://") || url.startsWith("rediss://")) {
    const { createClient } = await import("@redis/client");
    const publisher = createClient({
      url,
      socket: { reconnectStrategy: (retries) => Math.min(100 * (retries + 1), retryMs) },
    });
    // A lost connection is reported here as well as retried; the registry's clusterStatus tells the state.
    publisher.on("error", () => {});
    await publisher.connect();
    const subscriber = publisher.duplicate();
    subscriber.on("error", () => {});
    await subscriber.connect();
    const pubsub = redisPubSub({ publisher, subscriber });
    return {
      pubsub,
      async close() {
        await pubsub.close();
        await Promise.allSettled([publisher.close(), subscriber.close()]);
      },
    };
  }
  throw new TypeError(`--cluster must be nats://HOST:PORT or redis://HOST:PORT, got ${JSON.stringify(url)}`);
}
