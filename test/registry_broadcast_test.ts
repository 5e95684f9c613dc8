/**
 * `Registry.broadcast` and the broker seam, over an in-process `PubSub`
 * double whose failures the test controls: local delivery, `from`,
 * reference-counted subscriptions, `ready`, the drop policy and its
 * counters, the telemetry episode messages and option errors. The same
 * behaviour against real NATS and Redis servers is cluster_broker_test.ts.
 */
import assert from "node:assert/strict";
import diagnostics from "node:diagnostics_channel";
import type { ClusterStatusEvent, Connection, PubSub } from "../mod.ts";
import { Registry, telemetryChannels } from "../mod.ts";
import { MAX_PENDING_PUBLISHES } from "../src/registry/_cluster_link.ts";
import { suite, test } from "./_harness.ts";
import { bytes, RecordingLogger, signal, text } from "./_fixtures.ts";

/** A broker in this process: topics to callbacks; `up` and `failNext` play an outage. */
class LocalBroker {
  topics = new Map<string, Set<(data: Uint8Array) => void>>();
  up = true;
  published = 0;
  /** Subscriptions wait for this before they are confirmed, when set. */
  gate: Promise<void> | undefined;

  client(): PubSub & { subscriptions: number } {
    return LocalBroker.#clientOf(this);
  }

  static #clientOf(broker: LocalBroker): PubSub & { subscriptions: number } {
    let subscriptions = 0;
    return {
      get connected() {
        return broker.up;
      },
      get subscriptions() {
        return subscriptions;
      },
      publish(topic, data) {
        if (!broker.up) throw new Error("broker down");
        broker.published++;
        const copy = data.slice(); // a broker sends bytes, not the publisher's array
        for (const fn of broker.topics.get(topic) ?? []) queueMicrotask(() => fn(copy));
      },
      async subscribe(topic, onMessage) {
        if (broker.gate !== undefined) await broker.gate;
        const set = broker.topics.get(topic) ?? new Set();
        broker.topics.set(topic, set.add(onMessage));
        subscriptions++;
        return () => {
          set.delete(onMessage);
          subscriptions--;
        };
      },
      async close() {},
    };
  }
}

/** A stand-in connection that ends when told. */
function member(name: string): { conn: Connection; end: () => void; name: string } {
  const { promise, resolve } = signal();
  return { conn: { ended: promise } as Connection, end: () => resolve(), name };
}

/** A registry whose members' inboxes are lists of strings. */
function node(pubsub: PubSub | undefined, inbox: Map<string, string[]>) {
  return new Registry<string>({
    keys: "duplicate",
    ...(pubsub ? { pubsub } : {}),
    deliver: (entry, data) => inbox.get(entry.value)!.push(text(data)!),
  });
}

const turn = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

suite("registry broadcast", () => {
  test("local: every member but from gets the bytes once; strings go as UTF-8", () => {
    const inbox = new Map([["a", []], ["b", []], ["c", []]] as [string, string[]][]);
    const rooms = node(undefined, inbox);
    const [a, b, c] = ["a", "b", "c"].map(member);
    for (const m of [a!, b!, c!]) rooms.register("lobby", m.conn, m.name);
    rooms.broadcast("lobby", "héllo", { from: a!.conn });
    rooms.broadcast("lobby", bytes("two"));
    rooms.broadcast("attic", "nobody");
    assert.deepEqual(Object.fromEntries(inbox), { a: ["two"], b: ["héllo", "two"], c: ["héllo", "two"] });
    assert.equal(rooms.clusterStatus, undefined);
  });

  test("a throwing deliver is logged and the other members still get theirs", () => {
    const logger = new RecordingLogger();
    const got: string[] = [];
    const rooms = new Registry<string>({
      keys: "duplicate",
      logger,
      deliver: (entry) => {
        if (entry.value === "bad") throw new Error("full");
        got.push(entry.value);
      },
    });
    for (const name of ["x", "bad", "y"]) rooms.register("k", member(name).conn, name);
    rooms.broadcast("k", "m");
    assert.deepEqual(got, ["x", "y"]);
    assert.match(logger.at("error").join("\n"), /deliver threw for key "k"/);
  });

  test("two nodes: a broadcast reaches the other node's members once and never comes back", async () => {
    const broker = new LocalBroker();
    const inboxA = new Map([["a1", []], ["a2", []]] as [string, string[]][]);
    const inboxB = new Map([["b1", []], ["b2", []]] as [string, string[]][]);
    const nodeA = node(broker.client(), inboxA);
    const nodeB = node(broker.client(), inboxB);
    const a1 = member("a1");
    nodeA.register("room", a1.conn, "a1");
    nodeA.register("room", member("a2").conn, "a2");
    nodeB.register("room", member("b1").conn, "b1");
    nodeB.register("room", member("b2").conn, "b2");
    await Promise.all([nodeA.ready("room"), nodeB.ready("room")]);
    nodeA.broadcast("room", "from a1", { from: a1.conn });
    await turn();
    assert.deepEqual(Object.fromEntries(inboxA), { a1: [], a2: ["from a1"] });
    assert.deepEqual(Object.fromEntries(inboxB), { b1: ["from a1"], b2: ["from a1"] });
    assert.equal(broker.published, 1, "one broker message per broadcast, not one per member");
    assert.equal(nodeA.clusterStatus!.published, 1);
    assert.equal(nodeB.clusterStatus!.received, 1);
    assert.equal(nodeA.clusterStatus!.received, 0, "its own broadcast is skipped by its node id");
    assert.notEqual(nodeA.clusterStatus!.node, nodeB.clusterStatus!.node);
  });

  test("one subscription per key per node, from the first member to the last, however it leaves", async () => {
    const broker = new LocalBroker();
    const pubsub = broker.client();
    const rooms = node(pubsub, new Map());
    const [x, y, z] = ["x", "y", "z"].map(member);
    rooms.register("room", x!.conn, "x");
    rooms.register("room", y!.conn, "y");
    rooms.register("room", z!.conn, "z");
    rooms.register("other", x!.conn, "x");
    await rooms.ready("room");
    assert.equal(pubsub.subscriptions, 2);
    assert.equal(rooms.clusterStatus!.subscriptions, 2);
    rooms.unregister("room", x!.conn);
    y!.end();
    await turn();
    assert.equal(pubsub.subscriptions, 2, "z is still in the room");
    z!.end(); // the connection ends: its entries go, and the key's subscription with the last one
    x!.end();
    await turn();
    assert.equal(pubsub.subscriptions, 0);
    assert.equal(rooms.clusterStatus!.subscriptions, 0);
  });

  test("ready waits for the broker; a key left before the broker answered is unsubscribed when it does", async () => {
    const broker = new LocalBroker();
    const gate = signal();
    broker.gate = gate.promise;
    const pubsub = broker.client();
    const rooms = node(pubsub, new Map());
    const m = member("m");
    rooms.register("room", m.conn, "m");
    let ready = false;
    const waiting = rooms.ready("room").then(() => (ready = true));
    await turn();
    assert.equal(ready, false);
    gate.resolve();
    await waiting;
    assert.equal(pubsub.subscriptions, 1);

    const late = signal();
    broker.gate = late.promise;
    const n = member("n");
    rooms.register("late", n.conn, "n");
    rooms.unregister("late", n.conn);
    late.resolve();
    await turn();
    assert.equal(pubsub.subscriptions, 1, "the late subscription was ended as soon as it was made");
    assert.equal(await rooms.ready("nobody"), undefined);
  });

  test("broker down: local delivery goes on, copies are dropped and counted, one telemetry message per episode", async () => {
    const broker = new LocalBroker();
    const inbox = new Map([["a", []], ["b", []]] as [string, string[]][]);
    const remote = new Map([["r", []]] as [string, string[]][]);
    const nodeA = node(broker.client(), inbox);
    const nodeB = node(broker.client(), remote);
    nodeA.register("room", member("a").conn, "a");
    nodeA.register("room", member("b").conn, "b");
    nodeB.register("room", member("r").conn, "r");
    await Promise.all([nodeA.ready("room"), nodeB.ready("room")]);
    const events: ClusterStatusEvent[] = [];
    const onEvent = (message: unknown) => void events.push(message as ClusterStatusEvent);
    diagnostics.subscribe(telemetryChannels.clusterStatus, onEvent);
    try {
      broker.up = false;
      for (let i = 0; i < 100; i++) nodeA.broadcast("room", `down ${i}`);
      broker.up = true;
      nodeA.broadcast("room", "back");
      await turn();
    } finally {
      diagnostics.unsubscribe(telemetryChannels.clusterStatus, onEvent);
    }
    assert.equal(inbox.get("a")!.length, 101, "local members got every line");
    assert.deepEqual(remote.get("r"), ["back"]);
    assert.equal(nodeA.clusterStatus!.dropped, 100);
    assert.deepEqual(events.map((event) => [event.state, event.dropped]), [["dropping", 1], ["delivering", 100]]);
  });

  test("publishes waiting for the broker are capped: the rest are dropped, not queued", async () => {
    const answers: (() => void)[] = [];
    const pubsub: PubSub = {
      connected: true,
      publish: () => new Promise<void>((resolve) => void answers.push(resolve)),
      subscribe: () => Promise.resolve(() => {}),
      close: async () => {},
    };
    const rooms = node(pubsub, new Map([["m", []]]));
    rooms.register("room", member("m").conn, "m");
    for (let i = 0; i < MAX_PENDING_PUBLISHES + 50; i++) rooms.broadcast("room", "x");
    assert.equal(answers.length, MAX_PENDING_PUBLISHES);
    assert.equal(rooms.clusterStatus!.dropped, 50);
    for (const answer of answers) answer();
    await turn();
    assert.equal(rooms.clusterStatus!.published, MAX_PENDING_PUBLISHES);
  });

  test("a rejected publish is a dropped copy and the last error; foreign messages are counted, not delivered", async () => {
    let onMessage: ((data: Uint8Array) => void) | undefined;
    const pubsub: PubSub = {
      connected: true,
      publish: () => Promise.reject(new Error("READONLY")),
      subscribe: (_topic, fn) => {
        onMessage = fn;
        return Promise.resolve(() => {});
      },
      close: async () => {},
    };
    const inbox = new Map([["m", []]] as [string, string[]][]);
    const rooms = node(pubsub, inbox);
    rooms.register("room", member("m").conn, "m");
    await rooms.ready("room");
    rooms.broadcast("room", "x");
    await turn();
    assert.equal(rooms.clusterStatus!.dropped, 1);
    assert.match(String(rooms.clusterStatus!.lastError), /READONLY/);
    onMessage!(bytes("not a frame"));
    onMessage!(new Uint8Array([1, 200, 1]));
    assert.equal(rooms.clusterStatus!.malformed, 2);
    assert.deepEqual(inbox.get("m"), ["x"]);
  });

  test("options: deliver is required with pubsub, keys must be strings with pubsub, unknown options fail", () => {
    const pubsub = new LocalBroker().client();
    assert.throws(() => new Registry({ keys: "duplicate", pubsub }), /deliver is required with pubsub/);
    assert.throws(() => new Registry({ keys: "duplicate", pubsub: {} as PubSub, deliver: () => {} }), /must be a PubSub/);
    assert.throws(() => new Registry({ keys: "duplicate", deliver: 1 as never }), /deliver must be a function/);
    assert.throws(() => new Registry({ keys: "duplicate", name: "" }), /name must be a non-empty string/);
    assert.throws(() => new Registry({ keys: "duplicate", topic: "x" } as never), /unknown option "topic"/);
    const byNumber = new Registry<undefined, number>({ keys: "duplicate", pubsub, deliver: () => {} });
    assert.throws(() => byNumber.register(1, member("m").conn), /keys must be strings/);
    assert.equal(byNumber.count(1), 0, "the failed register left nothing behind");
    assert.throws(() => new Registry({ keys: "duplicate" }).broadcast("k", "x"), /needs the deliver option/);
  });
});
