/**
 * Broker clients for the cluster tests, connected as the chat example does
 * (examples/_cluster.ts: `@nats-io/transport-node` or node-redis's
 * `@redis/client`, dev dependencies only, in Corral's adapters), retrying
 * every 100 ms while the broker is down so restarts are noticed quickly.
 */
import { connectCluster } from "../examples/_cluster.ts";
import type { PubSub } from "../mod.ts";

/** A connected adapter; disposing of it closes its clients. */
export interface BrokerClient extends AsyncDisposable {
  readonly pubsub: PubSub;
}

/** Connects to the broker at `url` (`nats://` or `redis://`). */
export async function connectBroker(url: string): Promise<BrokerClient> {
  const client = await connectCluster(url, 100);
  return { pubsub: client.pubsub, [Symbol.asyncDispose]: () => client.close() };
}
