/**
 * The Registry on its own (unique and duplicate keys, snapshots, dispatch)
 * and with real connections, whose entries must vanish however they end:
 * the peer closes, the protocol throws, the listener stops (also when the
 * protocol ignores the stop). Also `conn.ended`, the hook it relies on.
 */
import assert from "node:assert/strict";
import type { Connection } from "../mod.ts";
import { Registry } from "../src/registry/registry.ts";
import { suite, test } from "./_harness.ts";
import { isPending, RecordingLogger, signal, start, transports } from "./_fixtures.ts";

/** A stand-in connection: the registry needs only `ended`. */
function fakeConn(): { conn: Connection; end: () => void } {
  const { promise, resolve } = signal();
  return { conn: { ended: promise } as Connection, end: () => resolve() };
}

/** Lets promise reactions queued so far run. */
const settled = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

suite("registry", () => {
  test("duplicate keys: many connections per key, one entry per (key, connection)", () => {
    const rooms = new Registry<string>({ keys: "duplicate" });
    const a = fakeConn().conn, b = fakeConn().conn;
    assert.equal(rooms.register("lobby", a, "a"), true);
    assert.equal(rooms.register("lobby", b, "b"), true);
    assert.equal(rooms.register("lobby", a, "again"), false, "a second entry for the same pair is refused");
    assert.equal(rooms.register("attic", a, "a2"), true);
    assert.deepEqual(rooms.lookup("lobby").map((e) => [e.conn === a ? "a" : "b", e.value]), [["a", "a"], ["b", "b"]]);
    assert.deepEqual(rooms.keys(a), ["lobby", "attic"]);
    assert.equal(rooms.count("lobby"), 2);
    assert.equal(rooms.unregister("lobby", a), true);
    assert.equal(rooms.unregister("lobby", a), false);
    assert.deepEqual(rooms.keys(a), ["attic"]);
    assert.deepEqual(rooms.lookup("lobby").map((e) => e.value), ["b"]);
    assert.equal(rooms.unique, false);
  });

  test("unique keys: a taken key makes register return false and keeps the holder", () => {
    const names = new Registry<number>({ keys: "unique" });
    const a = fakeConn().conn, b = fakeConn().conn;
    assert.equal(names.register("ada", a, 1), true);
    assert.equal(names.register("ada", b, 2), false);
    assert.equal(names.register("ada", a, 3), false);
    assert.deepEqual(names.lookup("ada").map((e) => e.value), [1]);
    assert.ok(names.lookup("ada")[0]!.conn === a);
    names.unregister("ada", a);
    assert.equal(names.register("ada", b, 2), true, "free again once unregistered");
    assert.equal(names.count("ada"), 1);
    assert.equal(names.unique, true);
  });

  test("lookup returns frozen snapshots; dispatch skips empty keys and sees the list as it was", () => {
    const rooms = new Registry({ keys: "duplicate" });
    const a = fakeConn().conn, b = fakeConn().conn;
    assert.equal(rooms.lookup("lobby").length, 0);
    let calls = 0;
    rooms.dispatch("lobby", () => calls++);
    assert.equal(calls, 0, "no entries, no call");
    rooms.register("lobby", a);
    const before = rooms.lookup("lobby");
    assert.ok(Object.isFrozen(before));
    assert.ok(rooms.lookup("lobby") === before, "unchanged key, same snapshot");
    rooms.register("lobby", b);
    assert.equal(before.length, 1, "a later register leaves an earlier snapshot alone");
    const seen: number[] = [];
    rooms.dispatch("lobby", (entries) => {
      calls++;
      rooms.unregister("lobby", b);
      seen.push(entries.length);
    });
    assert.deepEqual([calls, seen], [1, [2]]);
    assert.equal(rooms.count("lobby"), 1);
  });

  test("a connection's entries go when its ended promise resolves, also if registered after", async () => {
    const rooms = new Registry({ keys: "duplicate" });
    const { conn, end } = fakeConn();
    const other = fakeConn().conn;
    rooms.register("lobby", conn);
    rooms.register("attic", conn);
    rooms.register("lobby", other);
    end();
    await settled();
    assert.deepEqual([rooms.count("lobby"), rooms.count("attic"), rooms.keys(conn).length], [1, 0, 0]);
    rooms.register("lobby", conn);
    await settled();
    assert.equal(rooms.count("lobby"), 1, "an ended connection registered again is dropped again");
  });

  test("misuse throws TypeError naming what is wrong", () => {
    assert.throws(() => new Registry({} as never), /keys must be "unique" or "duplicate"/);
    assert.throws(() => new Registry({ keys: "many" } as never), TypeError);
    assert.throws(() => new Registry({ keys: "unique", partitions: 4 } as never), /unknown option "partitions"/);
    assert.throws(() => new Registry({ keys: "unique" }).register("k", {} as Connection), /conn must be a Connection/);
  });

  for (const fx of transports.filter((t) => t.name === "tcp" || t.name === "memory")) {
    test(`over ${fx.name}: entries vanish when the peer closes`, async () => {
      const rooms = new Registry({ keys: "duplicate" });
      await using listener = await start({
        transport: fx.make(),
        protocol: async (conn) => {
          rooms.register("lobby", conn);
          rooms.register(`conn-${conn.id}`, conn);
          await (await conn.handshake()).recv();
        },
      });
      const clients = [await fx.connect(listener), await fx.connect(listener)];
      await listener.waitForConnections("==", 2);
      assert.equal(rooms.count("lobby"), 2);
      await clients[0]!.close();
      await listener.waitForConnections("==", 1);
      assert.equal(rooms.count("lobby"), 1);
      const [left] = rooms.lookup("lobby");
      assert.deepEqual(rooms.keys(left!.conn), ["lobby", `conn-${left!.conn.id}`]);
      await clients[1]!.close();
      await listener.waitForConnections("==", 0);
      assert.equal(rooms.count("lobby"), 0);
    });

    test(`over ${fx.name}: entries vanish when the protocol throws`, async () => {
      const rooms = new Registry({ keys: "unique" });
      const logger = new RecordingLogger();
      const go = signal();
      await using listener = await start({
        transport: fx.make(),
        logger,
        protocol: async (conn) => {
          rooms.register("the-one", conn);
          await go.promise;
          throw new Error("handler crashed");
        },
      });
      const client = await fx.connect(listener);
      await listener.waitForConnections("==", 1);
      assert.equal(rooms.count("the-one"), 1);
      go.resolve();
      await listener.waitForConnections("==", 0);
      assert.equal(rooms.count("the-one"), 0);
      assert.equal(listener.info().failed, 1);
      assert.equal(logger.at("error").length, 1);
      await client.close();
    });
  }

  test("entries vanish on listener stop, also for a protocol that ignores the stop", async () => {
    const rooms = new Registry({ keys: "duplicate" });
    const ended: Promise<void>[] = [];
    const listener = await start({
      transport: transports[3]!.make(),
      shutdownTimeout: 50,
      protocol: async (conn) => {
        rooms.register("lobby", conn);
        ended.push(conn.ended);
        if (conn.id === 1) await (await conn.handshake()).recv(); // ends when its socket closes
        else await new Promise(() => {}); // never returns
      },
    });
    const clients = [await transports[3]!.connect(listener), await transports[3]!.connect(listener)];
    await listener.waitForConnections("==", 2);
    assert.equal(rooms.count("lobby"), 2);
    await listener.stop();
    await Promise.all(ended);
    assert.equal(rooms.count("lobby"), 0);
    assert.equal(listener.connections("all"), 1, "the stuck protocol is still running, but its entries are gone");
    for (const client of clients) await client.close();
  });

  test("conn.ended is pending while the protocol runs and resolves once it returned", async () => {
    const finish = signal();
    const accepted = signal<Connection>();
    await using listener = await start({
      transport: transports[3]!.make(),
      protocol: async (conn) => {
        accepted.resolve(conn);
        await finish.promise;
      },
    });
    const client = await transports[3]!.connect(listener);
    const conn = await accepted.promise;
    assert.ok(await isPending(conn.ended));
    finish.resolve();
    await conn.ended;
    assert.equal(listener.connections("all"), 0);
    assert.equal(await client.recv(0, { timeout: 5000 }), null, "the supervisor closed the socket");
    await client.close();
  });
});
