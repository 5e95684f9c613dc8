/**
 * The memory transport's fault injection: the conformance suite under every
 * fault that keeps delivery reliable, exact schedules per seed (the same on
 * every runtime), resets, half-close and closes in the middle of a write.
 */
import assert from "node:assert/strict";
import { ClosedError, type Connection, memory, type Socket } from "../mod.ts";
import { VirtualClock } from "../testing.ts";
import { suite, test } from "./_harness.ts";
import { defineConformance } from "./_conformance.ts";
import {
  faultyMemory,
  isPending,
  nameOf,
  pattern,
  readAll,
  sameBytes,
  signal,
  start,
  text,
  type TransportFixture,
} from "./_fixtures.ts";

// Reliable faults only: every byte arrives, in order. Piece sizes stay moderate so the
// suite's 4 MiB cases finish in seconds; the small sizes have their own cases below.
const reliable: TransportFixture[] = [
  faultyMemory("fragment", () => ({ seed: 11, fragment: { max: 97 } })),
  faultyMemory("coalesce", () => ({ seed: 12, coalesce: true })),
  faultyMemory("fragment+coalesce", () => ({ seed: 13, fragment: { max: 4000 }, coalesce: true })),
  faultyMemory("latency (real timers)", () => ({ seed: 14, latency: { min: 0, max: 2 } })),
  faultyMemory("latency (virtual clock)", () => ({
    seed: 15,
    latency: { min: 1, max: 40 },
    fragment: { max: 8192 },
    scheduler: new VirtualClock(),
  })),
  faultyMemory("window 16", () => ({ seed: 16, window: 16 })),
  faultyMemory("all of them", () => ({
    seed: 17,
    fragment: { max: 300 },
    coalesce: true,
    latency: { min: 0, max: 5 },
    window: 1024,
    scheduler: new VirtualClock(),
  })),
];

for (const fixture of reliable) {
  suite(`conformance ${fixture.name}`, () => defineConformance(fixture));
}

/** A protocol that records the size of every read until end of stream. */
function recordReads(sizes: number[], done?: () => void) {
  return async (conn: Connection) => {
    const socket = await conn.handshake();
    for await (const chunk of socket) sizes.push(chunk.length);
    done?.();
  };
}

suite("memory faults: schedules replay exactly from the seed", () => {
  test("fragment: seed 42, max 8 splits 64 bytes the same way on every runtime", async () => {
    const sizes: number[] = [];
    const ended = signal();
    await using listener = await start({
      transport: memory({ seed: 42, fragment: { max: 8 } }),
      protocol: recordReads(sizes, ended.resolve),
    });
    const client = await memory().connect({ name: nameOf(listener) });
    await client.send(pattern(64));
    await client.shutdown("write");
    await ended.promise;
    assert.deepEqual(sizes, [2, 8, 6, 4, 5, 1, 3, 7, 4, 7, 5, 5, 7]);
    await client.close();
  });

  test("each connection draws its own schedule; a connect() seed replays the listener's first", async () => {
    const schedules: number[][] = [];
    await using listener = await start({
      transport: memory({ seed: 42, fragment: { max: 8 } }),
      protocol: async (conn) => {
        const sizes: number[] = [];
        schedules.push(sizes);
        await recordReads(sizes)(conn);
      },
    });
    for (const options of [{}, {}, { seed: 42 }]) {
      const client = await memory().connect({ name: nameOf(listener), ...options });
      await client.send(pattern(64));
      await client.shutdown("write");
      assert.equal(await client.recv(0), null);
      await client.close();
    }
    await listener.waitForConnections("==", 0, { timeout: 5000 });
    assert.deepEqual(schedules[0], [2, 8, 6, 4, 5, 1, 3, 7, 4, 7, 5, 5, 7]);
    assert.notDeepEqual(schedules[1], schedules[0]);
    assert.deepEqual(schedules[2], schedules[0]);
  });

  test("fragment + coalesce + latency on a virtual clock: exact arrival times and sizes", async () => {
    const clock = new VirtualClock();
    const arrivals: string[] = [];
    const ended = signal();
    await using listener = await start({
      transport: memory({
        seed: 7,
        fragment: { max: 6 },
        coalesce: true,
        latency: { min: 5, max: 50 },
        scheduler: clock,
      }),
      protocol: async (conn) => {
        const socket = await conn.handshake();
        for await (const chunk of socket) arrivals.push(`${clock.now()}ms:${text(chunk)}`);
        ended.resolve();
      },
    });
    const client = await memory().connect({ name: nameOf(listener) });
    for (const line of ["one\n", "two\n", "three\n", "four\n"]) await client.send(line);
    await client.shutdown("write");
    await ended.promise;
    // The first line drew the longest delay (40 ms); the later ones may not overtake it.
    assert.deepEqual(arrivals, ["40ms:one\ntw", "40ms:o\nthre", "40ms:e", "40ms:\nfour", "40ms:\n"]);
    assert.equal(arrivals.map((a) => a.slice(a.indexOf(":") + 1)).join(""), "one\ntwo\nthree\nfour\n");
    await client.close();
    assert.equal(clock.pending, 0);
  });

  test("latency range on a manual clock: nothing arrives before its time, order is kept", async () => {
    const clock = new VirtualClock({ auto: false });
    const arrivals: string[] = [];
    await using listener = await start({
      transport: memory({ seed: 3, latency: { min: 10, max: 100 }, scheduler: clock }),
      protocol: async (conn) => {
        const socket = await conn.handshake();
        for await (const chunk of socket) arrivals.push(`${clock.now()}:${text(chunk)}`);
      },
    });
    const client = await memory().connect({ name: nameOf(listener) });
    for (const word of ["a", "b", "c", "d"]) await client.send(word);
    await clock.advance(9);
    assert.deepEqual(arrivals, []);
    await clock.advance(200);
    assert.deepEqual(arrivals, ["58:a", "58:b", "95:c", "95:d"]);
    await client.shutdown("write");
    await clock.advance(100);
    await client.close();
    await listener.waitForConnections("==", 0, { timeout: 5000 });
    assert.equal(clock.pending, 0);
  });

  test("coalesce merges writes made in one turn into one read", async () => {
    const sizes: number[] = [];
    const ended = signal();
    await using listener = await start({
      transport: memory({ coalesce: true }),
      protocol: recordReads(sizes, ended.resolve),
    });
    const client = await memory().connect({ name: nameOf(listener) });
    for (const line of ["a\n", "bb\n", "ccc\n"]) await client.send(line);
    await client.shutdown("write");
    await ended.promise;
    assert.deepEqual(sizes, [9]);
    await client.close();
  });
});

suite("memory faults: window", () => {
  test("a 16-byte window makes the sender wait after a few dozen bytes; all bytes arrive", async () => {
    const reading = signal();
    await using listener = await start({
      transport: memory({ window: 16 }),
      protocol: async (conn) => {
        const socket = await conn.handshake();
        await reading.promise;
        await socket.send(await readAll(socket));
      },
    });
    const client = await memory().connect({ name: nameOf(listener) });
    const data = pattern(4096, 5);
    let sent = 0;
    let blocked: Promise<void> | undefined;
    for (; sent < data.length; sent += 8) {
      const sending = client.send(data.subarray(sent, sent + 8));
      if (await isPending(sending)) {
        blocked = sending;
        sent += 8;
        break;
      }
    }
    assert.ok(blocked !== undefined, "send never waited");
    // The socket buffers one window, the channel holds one more: about 32 bytes.
    assert.ok(sent <= 48, `the sender queued ${sent} bytes past a 16-byte window`);
    reading.resolve();
    await blocked;
    for (; sent < data.length; sent += 8) await client.send(data.subarray(sent, sent + 8));
    await client.shutdown("write");
    assert.ok(sameBytes(await readAll(client), data));
    await client.close();
  });

  test("connect() options override the listener's for that connection", async () => {
    const sizes: number[] = [];
    const ended = signal();
    await using listener = await start({
      transport: memory({ seed: 1, fragment: { max: 2 } }),
      protocol: recordReads(sizes, ended.resolve),
    });
    const client = await memory().connect({ name: nameOf(listener), fragment: { max: 100 }, seed: 5 });
    await client.send(pattern(10));
    await client.shutdown("write");
    await ended.promise;
    assert.ok(sizes.some((size) => size > 2), `sizes ${sizes}`);
    await client.close();
  });
});

suite("memory faults: reset", () => {
  test("reset after 100 bytes: both ends' reads reject with ECONNRESET naming the seed; nothing leaks", async () => {
    const serverError = signal<unknown>();
    let serverBytes = 0;
    await using listener = await start({
      transport: memory({ seed: 9, reset: { after: 100 } }),
      protocol: async (conn) => {
        const socket = await conn.handshake();
        try {
          for await (const chunk of socket) serverBytes += chunk.length;
        } catch (error) {
          serverError.resolve(error);
          throw error;
        }
      },
    });
    const client = await memory().connect({ name: nameOf(listener) });
    await client.send(pattern(60));
    await client.send(pattern(60));
    const error = await serverError.promise;
    assert.ok(error instanceof ClosedError, `server got ${error}`);
    assert.equal(error.code, "ECONNRESET");
    assert.match(error.message, /reset fault after 100 bytes \(seed 9; pass \{ seed: 9 \} to replay\)/);
    assert.equal(serverBytes, 100);
    const clientError = await client.recv(0).catch((e) => e);
    assert.ok(clientError instanceof ClosedError && clientError.code === "ECONNRESET", `client got ${clientError}`);
    await assert.rejects(client.send("more"), (e: ClosedError) => e.code === "ECONNRESET");
    await client.closed;
    await listener.waitForConnections("==", 0, { timeout: 5000 });
    const info = listener.info();
    assert.equal(info.terminated, 1);
    assert.equal(info.allConnections, 0);
  });

  test("reset at a seeded random point: the same point for the same seed", async () => {
    const points: number[] = [];
    for (const seed of [21, 21, 22]) {
      let received = 0;
      const failed = signal();
      await using listener = await start({
        transport: memory({
          seed,
          reset: { after: { min: 1, max: 1000 } },
          latency: { min: 0, max: 3 },
          scheduler: new VirtualClock(),
        }),
        protocol: async (conn) => {
          const socket = await conn.handshake();
          try {
            for await (const chunk of socket) received += chunk.length;
          } finally {
            failed.resolve();
          }
        },
      });
      const client = await memory().connect({ name: nameOf(listener) });
      for (let i = 0; i < 20; i++) await client.send(pattern(100, i + 1)).catch(() => {});
      await failed.promise;
      points.push(received);
      await client.close();
    }
    assert.deepEqual(points, [450, 450, 609]);
  });

  test("with latency, bytes in flight are dropped and reads reject at once", async () => {
    const clock = new VirtualClock({ auto: false });
    const result = signal<unknown>();
    await using listener = await start({
      transport: memory({ seed: 1, reset: { after: 3 }, latency: 50, scheduler: clock }),
      protocol: async (conn) => {
        const socket = await conn.handshake();
        result.resolve(await socket.recv(10).catch((e) => e));
      },
    });
    const client = await memory().connect({ name: nameOf(listener) });
    await client.send("0123456789");
    await clock.advance(50);
    const error = await result.promise;
    assert.ok(error instanceof ClosedError && error.code === "ECONNRESET", `got ${error}`);
    assert.equal(clock.pending, 0, "the reset cancels every scheduled delivery");
    await client.close();
  });
});

suite("memory faults: half-close and closing mid-write", () => {
  for (const halfClose of [true, false]) {
    test(`halfClose: ${halfClose}: ${halfClose ? "the peer replies after EOF" : "EOF closes both ways"}`, async () => {
      const replied = signal<unknown>();
      await using listener = await start({
        transport: memory({ seed: 1, halfClose }),
        protocol: async (conn) => {
          const socket = await conn.handshake();
          const request = await readAll(socket);
          await socket.send(`got ${request.length}`);
          // A send is only queued (as in TCP): the broken pipe shows once the connection is torn down.
          if (!halfClose) await socket.closed;
          replied.resolve(await socket.send("!").then(() => "sent", (e) => e));
        },
      });
      const client = await memory().connect({ name: nameOf(listener) });
      await client.send("12345");
      await client.shutdown("write");
      const reply = await readAll(client);
      const outcome = await replied.promise;
      if (halfClose) {
        assert.equal(text(reply), "got 5!");
        assert.equal(outcome, "sent");
      } else {
        assert.equal(reply.length, 0);
        assert.ok(outcome instanceof ClosedError && outcome.code === "EPIPE", `send after a full close: ${outcome}`);
      }
      await client.close();
    });
  }

  test("a peer that closes while a send waits for room makes that send reject", async () => {
    const outcome = signal<unknown>();
    await using listener = await start({
      transport: memory({ seed: 1, window: 16, fragment: { max: 4 } }),
      protocol: async (conn) => {
        const socket = await conn.handshake();
        outcome.resolve(await socket.send(pattern(1000)).then(() => "sent", (e) => e));
      },
    });
    const client = await memory().connect({ name: nameOf(listener) });
    assert.equal((await client.recv(4))!.length, 4);
    await client.close();
    const error = await outcome.promise;
    assert.ok(error instanceof ClosedError && error.code === "ECONNRESET", `got ${error}`);
    await listener.waitForConnections("==", 0, { timeout: 5000 });
    assert.equal(listener.info().terminated, 1);
  });

  test("close() with bytes in flight delivers them, then end of stream", async () => {
    const clock = new VirtualClock();
    await using listener = await start({
      transport: memory({ seed: 2, latency: { min: 10, max: 30 }, fragment: { max: 5 }, scheduler: clock }),
      protocol: async (conn) => {
        const socket = await conn.handshake();
        for (const part of ["first ", "second ", "third"]) await socket.send(part);
      },
    });
    const client = await memory().connect({ name: nameOf(listener) });
    assert.equal(text(await readAll(client)), "first second third");
    assert.ok(clock.now() >= 10);
    await client.close();
  });

  test("destroy() with bytes in flight drops them and resets the peer", async () => {
    const clock = new VirtualClock({ auto: false });
    const received = signal<unknown>();
    await using listener = await start({
      transport: memory({ seed: 2, latency: 100, scheduler: clock }),
      protocol: async (conn) => {
        const socket = await conn.handshake();
        received.resolve(await socket.recv(0).catch((e) => e));
      },
    });
    const client: Socket = await memory().connect({ name: nameOf(listener) });
    await client.send("never delivered");
    client.destroy();
    const error = await received.promise;
    assert.ok(error instanceof ClosedError && error.code === "ECONNRESET", `got ${error}`);
    assert.equal(clock.pending, 0);
  });
});

suite("memory faults: options", () => {
  test("bad fault options fail by name at memory() and connect()", async () => {
    assert.throws(() => memory({ fragment: { max: 0 } }), /memory\(\) option fragment.max must be an integer from 1/);
    assert.throws(() => memory({ fragment: {} as never }), /fragment.max is required/);
    assert.throws(() => memory({ fragment: { max: 2, min: 1 } as never }), /unknown option "min"/);
    assert.throws(
      () => memory({ latency: { min: 5, max: 1 } }),
      /latency.max must be >= memory\(\) option latency.min/,
    );
    assert.throws(() => memory({ latency: -1 }), RangeError);
    assert.throws(() => memory({ reset: {} as never }), /reset.after is required/);
    assert.throws(() => memory({ coalesce: "yes" as never }), /coalesce must be true or false/);
    assert.throws(() => memory({ seed: 2 ** 32 }), /seed must be an integer from 0 to 4294967295/);
    assert.throws(() => memory({ scheduler: {} as never }), /scheduler must have now\(\) and schedule/);
    await assert.rejects(memory().connect({ name: "x", fragment: { max: 1.5 } }), RangeError);
  });

  test("faults without a seed get one, kept in the options for replay", () => {
    const transport = memory({ fragment: { max: 3 } });
    const seed = (transport.options as { seed?: number }).seed;
    assert.ok(Number.isInteger(seed) && seed! >= 0, `seed ${seed}`);
    assert.equal(memory().options.seed, undefined, "no faults, no seed");
  });
});
