/**
 * Broker clients for the cluster tests, connected the way an application
 * would (`@nats-io/transport-node`, node-redis's `@redis/client`; both are
 * dev dependencies only), wrapped in Corral's adapters.
 */
import { connect } from "@nats-io/transport-node";
import { createClient } from "@redis/client";
import { natsPubSub } from "../cluster/nats.ts";
import { redisPubSub } from "../cluster/redis.ts";
import type { PubSub } from "../mod.ts";
import type { BrokerKind } from "./_brokers.ts";

/** A connected adapter, and how to close its clients. */
export interface BrokerClient extends AsyncDisposable {
  readonly pubsub: PubSub;
}

/** Connects to the broker at `url`, reconnecting every 100 ms forever while it is down. */
export async function connectBroker(kind: BrokerKind, url: string): Promise<BrokerClient> {
  if (kind === "nats") {
    const nc = await connect({ servers: url, maxReconnectAttempts: -1, reconnectTimeWait: 100, reconnectJitter: 0 });
    const pubsub = natsPubSub(nc);
    return {
      pubsub,
      async [Symbol.asyncDispose]() {
        await pubsub.close();
        await nc.close();
      },
    };
  }
  const publisher = createClient({ url, socket: { reconnectStrategy: () => 100 } });
  publisher.on("error", () => {}); // a lost connection is reported here as well as retried
  await publisher.connect();
  const subscriber = publisher.duplicate();
  subscriber.on("error", () => {});
  await subscriber.connect();
  const pubsub = redisPubSub({ publisher, subscriber });
  return {
    pubsub,
    async [Symbol.asyncDispose]() {
      await pubsub.close();
      await Promise.allSettled([publisher.close(), subscriber.close()]);
    },
  };
}
