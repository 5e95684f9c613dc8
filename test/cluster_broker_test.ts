/**
 * Cluster registries on real brokers: `nats-server` and `redis-server`
 * started on a free loopback port, two registries in this process each on
 * its own client connection (two nodes), through Corral's adapters. What
 * reaches whom, how many subscriptions the broker holds, and what happens
 * when the broker is killed with SIGKILL mid-stream and started again.
 */
import assert from "node:assert/strict";
import type { Connection, PubSub } from "../mod.ts";
import { Registry } from "../mod.ts";
import { type BrokerKind, brokerMissing, startBroker } from "./_brokers.ts";
import { connectBroker } from "./_broker_clients.ts";
import { suite, test } from "./_harness.ts";
import { signal, text } from "./_fixtures.ts";

/** A stand-in connection that ends when told (the registry needs only `ended`). */
function member(): { conn: Connection; end: () => void } {
  const { promise, resolve } = signal();
  return { conn: { ended: promise } as Connection, end: () => resolve() };
}

/** Lines delivered to each member, by member name, with a way to wait for a count. */
class Inboxes {
  lines = new Map<string, string[]>();
  #waiters: { name: string; count: number; resolve: () => void }[] = [];

  push(name: string, line: string): void {
    const list = this.lines.get(name) ?? [];
    this.lines.set(name, list);
    list.push(line);
    this.#waiters = this.#waiters.filter((w) => (w.name === name && list.length >= w.count ? (w.resolve(), false) : true));
  }

  of(name: string): string[] {
    return this.lines.get(name) ?? [];
  }

  /** Resolves once `name` holds `count` lines. */
  until(name: string, count: number): Promise<void> {
    if (this.of(name).length >= count) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ name, count, resolve }));
  }
}

/** Polls `condition` every 10 ms, failing after `ms` with `what`. */
async function eventually(what: string, condition: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function registryOn(pubsub: PubSub, inboxes: Inboxes): Registry<string> {
  return new Registry<string>({
    keys: "duplicate",
    pubsub,
    deliver: (entry, data) => inboxes.push(entry.value, text(data)!),
  });
}

/** The broker's name for a registry topic (NATS escapes a space as %20; Redis takes it as it is). */
const channel = (kind: BrokerKind, key: string) => `corral:${kind === "nats" ? key.replace(/ /g, "%20") : key}`;

for (const kind of ["nats", "redis"] as const) {
  suite(`cluster on ${kind}`, () => {
    const skip = brokerMissing(kind) ?? false;

    test("two nodes, one broker: each line reaches every other member once, never back to its sender", async () => {
      await using broker = await startBroker(kind);
      await using clientA = await connectBroker(broker.url);
      await using clientB = await connectBroker(broker.url);
      const inboxes = new Inboxes();
      const nodeA = registryOn(clientA.pubsub, inboxes);
      const nodeB = registryOn(clientB.pubsub, inboxes);
      const a1 = member(), a2 = member(), b1 = member(), b2 = member();
      nodeA.register("the room", a1.conn, "a1");
      nodeA.register("the room", a2.conn, "a2");
      nodeB.register("the room", b1.conn, "b1");
      nodeB.register("the room", b2.conn, "b2");
      await Promise.all([nodeA.ready("the room"), nodeB.ready("the room")]);
      assert.equal(await broker.subscriptions(channel(kind, "the room")), 2, "one subscription per node");

      nodeA.broadcast("the room", "from a1", { from: a1.conn });
      nodeB.broadcast("the room", "from b2", { from: b2.conn });
      await Promise.all([inboxes.until("a1", 1), inboxes.until("a2", 2), inboxes.until("b1", 2), inboxes.until("b2", 1)]);
      // One more round trip through the broker: anything duplicated would have arrived by now.
      nodeA.broadcast("the room", "last", { from: a1.conn });
      await inboxes.until("b2", 2);
      assert.deepEqual(inboxes.of("a1").sort(), ["from b2"]);
      assert.deepEqual(inboxes.of("a2").sort(), ["from a1", "from b2", "last"]);
      assert.deepEqual(inboxes.of("b1").sort(), ["from a1", "from b2", "last"].sort());
      assert.deepEqual(inboxes.of("b2").sort(), ["from a1", "last"]);
      assert.equal(nodeA.clusterStatus!.published, 2);
      assert.equal(nodeB.clusterStatus!.received, 2);
    }, { skip, timeout: 30_000 });

    test("the broker holds one subscription per key per node, from the first member to the last", async () => {
      await using broker = await startBroker(kind);
      await using client = await connectBroker(broker.url);
      const rooms = registryOn(client.pubsub, new Inboxes());
      const topic = channel(kind, "lobby");
      const x = member(), y = member();
      rooms.register("lobby", x.conn, "x");
      rooms.register("lobby", y.conn, "y");
      await rooms.ready("lobby");
      assert.equal(await broker.subscriptions(topic), 1);
      rooms.unregister("lobby", x.conn);
      assert.equal(await broker.subscriptions(topic), 1, "y is still a member");
      y.end(); // the connection ended: its entry goes, and with the last entry the subscription
      await eventually("the broker to drop the subscription", async () => (await broker.subscriptions(topic)) === 0);
      const z = member();
      rooms.register("lobby", z.conn, "z");
      await rooms.ready("lobby");
      assert.equal(await broker.subscriptions(topic), 1, "a new first member subscribes again");
    }, { skip, timeout: 30_000 });

    test("broker killed with SIGKILL mid-stream, then restarted: local delivery never stops, drops are counted, remote resumes", async () => {
      const unhandled: unknown[] = [];
      const onUnhandled = (reason: unknown) => void unhandled.push(reason);
      globalThis.process.on("unhandledRejection", onUnhandled);
      try {
        await using broker = await startBroker(kind);
        await using clientA = await connectBroker(broker.url);
        await using clientB = await connectBroker(broker.url);
        const inboxes = new Inboxes();
        const nodeA = registryOn(clientA.pubsub, inboxes);
        const nodeB = registryOn(clientB.pubsub, inboxes);
        nodeA.register("room", member().conn, "local");
        nodeB.register("room", member().conn, "remote");
        await Promise.all([nodeA.ready("room"), nodeB.ready("room")]);

        let sent = 0;
        const send = (prefix: string) => nodeA.broadcast("room", `${prefix} ${sent++}`);
        for (let i = 0; i < 50; i++) send("before");
        await inboxes.until("remote", 50);

        await broker.kill();
        await eventually("the clients to notice the broker is gone", () => !clientA.pubsub.connected);
        const droppedBefore = nodeA.clusterStatus!.dropped;
        for (let i = 0; i < 500; i++) send("down");
        assert.equal(inboxes.of("local").length, sent, "every line reached the local member at once");
        assert.equal(nodeA.clusterStatus!.dropped - droppedBefore, 500, "every copy for other nodes was dropped");
        assert.equal(nodeA.clusterStatus!.connected, false);

        await broker.restart();
        await eventually("both clients to reconnect", () => clientA.pubsub.connected && clientB.pubsub.connected);
        // The client sends its subscriptions again on reconnect; a probe tells when the broker has them.
        await eventually("a line to cross the broker again", async () => {
          send("probe");
          await new Promise((resolve) => setTimeout(resolve, 20));
          return inboxes.of("remote").some((line) => line.startsWith("probe"));
        });
        const first = sent;
        for (let i = 0; i < 50; i++) send("after");
        await eventually("the 50 lines sent after the restart", () =>
          inboxes.of("remote").filter((line) => line.startsWith("after")).length >= 50);
        const after = inboxes.of("remote").filter((line) => line.startsWith("after"));
        assert.deepEqual(after, Array.from({ length: 50 }, (_, i) => `after ${first + i}`), "once each, in order");
        assert(!inboxes.of("remote").some((line) => line.startsWith("down")), "nothing dropped came back later");
        assert.equal(inboxes.of("local").length, sent);
        const status = nodeA.clusterStatus!;
        assert.equal(status.published + status.dropped, sent, "every broadcast was either sent or dropped: none waits");
        assert.equal(await broker.subscriptions(channel(kind, "room")), 2, "both nodes' subscriptions were restored");
      } finally {
        globalThis.process.off("unhandledRejection", onUnhandled);
      }
      assert.deepEqual(unhandled, []);
    }, { skip, timeout: 60_000 });
  });
}
