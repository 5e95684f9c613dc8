/**
 * Connection-count alarms (Ranch's `alarms`) on tcp, tls, unix and memory:
 * an alarm fires when a connection starts with the active connections at
 * its threshold, stays quiet for its cooldown, can be replaced through
 * `listener.alarms`; bad alarms fail naming themselves; a throwing
 * callback is logged and harms nothing.
 */
import assert from "node:assert/strict";
import { type Alarms, type Listener, memory, type Socket, tls, type Transport } from "../mod.ts";
import { suite, test } from "./_harness.ts";
import { idle, RecordingLogger, start, type TransportFixture, transports } from "./_fixtures.ts";
import { connectTls, opensslMissing, serverOptions } from "./_certs.ts";

const fixtures: TransportFixture[] = [
  ...transports.filter((fx) => fx.name !== "tcp6"),
  { name: "tls", secure: true, make: () => tls(serverOptions()), connect: (l) => connectTls(l) },
];

type Fired = [listener: Listener<unknown>, name: string, connections: number];

suite("alarms", () => {
  for (const fx of fixtures) {
    test(
      `${fx.name}: fires at the threshold, not again within the cooldown; replaced through listener.alarms`,
      async () => {
        const fired: Fired[] = [];
        const callback = (listener: Listener<unknown>, name: string, connections: number) =>
          void fired.push([listener, name, connections]);
        await using listener = await start({
          transport: fx.make(),
          protocol: idle,
          alarms: { busy: { type: "connections", threshold: 2, cooldown: 60_000, callback } },
        });
        const clients: Socket[] = [];
        const open = async (count: number) => {
          clients.push(await fx.connect(listener));
          await listener.waitForConnections("==", count);
        };
        await open(1);
        assert.deepEqual(fired, []);
        await open(2);
        assert.deepEqual(fired, [[listener, "busy", 2]]);
        await open(3);
        assert.equal(fired.length, 1, "within the cooldown");
        const again: Alarms<Listener<unknown>> = {
          crowded: { type: "connections", threshold: 4, cooldown: 0, callback },
        };
        listener.alarms = again;
        assert.equal(listener.alarms, again);
        await open(4);
        await open(5);
        assert.deepEqual(fired.slice(1), [[listener, "crowded", 4], [listener, "crowded", 5]]);
        listener.alarms = undefined;
        await open(6);
        assert.equal(fired.length, 3);
        await Promise.all(clients.map((client) => client.close()));
      },
      { skip: fx.secure ? opensslMissing : false },
    );
  }

  test("connections taken out of the count by removeFromCount() do not set an alarm off", async () => {
    const fired: number[] = [];
    await using listener = await start({
      transport: memory(),
      protocol: async (conn) => {
        conn.removeFromCount();
        await idle(conn);
      },
      alarms: { busy: { type: "connections", threshold: 1, callback: (_l, _n, count) => void fired.push(count) } },
    });
    const client = await memory().connect({ name: (listener.address as { name: string }).name });
    await listener.waitForConnections("==", 0);
    assert.equal(listener.connections("all"), 1);
    assert.deepEqual(fired, [1]); // it counted when it started, before the protocol removed it
    await client.close();
  });

  test("a throwing callback is logged; the connection goes on", async () => {
    const logger = new RecordingLogger();
    await using listener = await start({
      ref: "alarm-throws",
      transport: memory(),
      logger,
      protocol: idle,
      alarms: {
        broken: {
          type: "connections",
          threshold: 1,
          callback: () => {
            throw new Error("alarm bug");
          },
        },
      },
    });
    const client = await memory().connect({ name: (listener.address as { name: string }).name });
    await listener.waitForConnections("==", 1);
    assert.deepEqual(logger.at("error"), ['corral: [alarm-throws] alarm "broken" threw']);
    await client.close();
    await listener.waitForConnections("==", 0);
    assert.equal(listener.info().failed, 0);
  });

  test("bad alarms fail at listen() and at listener.alarms, naming the alarm and the field", async () => {
    const callback = () => {};
    const listenWith = (alarms: unknown) =>
      start({ transport: memory(), protocol: idle, alarms: alarms as Alarms<Listener<unknown>> });
    const cases: [unknown, ErrorConstructor, RegExp][] = [
      ["busy", TypeError, /alarms must be an object/],
      [{ a: null }, TypeError, /alarms\.a must be \{ type/],
      [{ a: { type: "bytes", threshold: 1, callback } }, TypeError, /alarms\.a\.type must be "connections"/],
      [{ a: { type: "connections", callback } }, TypeError, /alarms\.a\.threshold is missing/],
      [{ a: { type: "connections", threshold: 0, callback } }, RangeError, /alarms\.a\.threshold must be an integer/],
      [{ a: { type: "connections", threshold: 1.5, callback } }, RangeError, /alarms\.a\.threshold/],
      [{ a: { type: "connections", threshold: 1, cooldown: -1, callback } }, RangeError, /alarms\.a\.cooldown/],
      [{ a: { type: "connections", threshold: 1 } }, TypeError, /alarms\.a\.callback must be a function/],
      [{ a: { type: "connections", threshold: 1, callback, every: 5 } }, TypeError, /unknown option "every"/],
    ];
    for (const [alarms, type, message] of cases) {
      await assert.rejects(listenWith(alarms), (error: Error) => {
        assert.ok(error instanceof type, `${error}`);
        assert.match(error.message, /^listen\(\) option alarms/);
        assert.match(error.message, message);
        return true;
      });
    }
    await using listener = await start({ transport: memory() as Transport, protocol: idle });
    assert.equal(listener.alarms, undefined);
    assert.throws(() => (listener.alarms = { a: { type: "connections", threshold: 0, callback } }), (error: Error) => {
      assert.ok(error instanceof RangeError);
      assert.match(error.message, /^listener\.alarms\.a\.threshold/);
      return true;
    });
    assert.equal(listener.alarms, undefined, "a refused value changes nothing");
  });
});
