/**
 * testProtocol: passes a good protocol, and fails, with a message that says
 * why, a protocol that throws, leaks a connection or leaves a timer; a
 * failing body carries the fault seed, and that seed replays the run.
 */
import assert from "node:assert/strict";
import { ClosedError, type Connection, type Protocol } from "../mod.ts";
import { testProtocol, TestProtocolError, VirtualClock } from "../testing.ts";
import { suite, test } from "./_harness.ts";
import { echo, readAll, text, waitFor } from "./_fixtures.ts";

/** Reads until end of stream, recording each read's size, then answers with the byte count. */
function recording(sizes: number[]): Protocol {
  return async (conn: Connection) => {
    const socket = await conn.handshake();
    let total = 0;
    for await (const chunk of socket) {
      sizes.push(chunk.length);
      total += chunk.length;
    }
    await socket.send(String(total));
  };
}

async function failure(run: Promise<void>): Promise<Error> {
  const error = await run.then(() => undefined, (e) => e);
  assert.ok(error instanceof Error, "testProtocol passed where it should fail");
  return error;
}

suite("testProtocol", () => {
  test("passes a protocol that behaves, under fragments, coalescing and a small window", async () => {
    await testProtocol(echo, { seed: 1, fragment: { max: 3 }, coalesce: true, window: 16 }, async (client) => {
      await client.send("a message longer than the window");
      assert.equal(text(await client.recv(32, { timeout: 5000 })), "a message longer than the window");
    });
  });

  test("the body's context opens more connections and shows the listener", async () => {
    await testProtocol(echo, {}, async (first, { connect, listener }) => {
      const second = await connect({ fragment: { max: 1 }, seed: 3 });
      await listener.waitForConnections("==", 2, { timeout: 5000 });
      await second.send("two");
      await first.send("one");
      assert.equal(text(await second.recv(3)), "two");
      assert.equal(text(await first.recv(3)), "one");
    });
  });

  test("an injected reset is the network's doing, not a protocol failure", async () => {
    await testProtocol(echo, { seed: 5, reset: { after: 10 } }, async (client) => {
      await client.send("0123456789abcdef");
      const error = await client.recv(16).catch((e) => e);
      assert.ok(error instanceof ClosedError && error.code === "ECONNRESET", `got ${error}`);
    });
  });

  test("fails a protocol that throws, naming the error", async () => {
    const broken: Protocol = async (conn) => {
      const socket = await conn.handshake();
      await socket.recv(0);
      throw new TypeError("bad frame");
    };
    const error = await failure(testProtocol(broken, { seed: 8, fragment: { max: 2 } }, async (client) => {
      await client.send("hi");
      assert.equal(await client.recv(0, { timeout: 5000 }), null);
    }));
    assert.ok(error instanceof TestProtocolError, `got ${error}`);
    assert.equal(error.code, "ETESTPROTOCOL");
    assert.match(error.message, /the protocol threw on connection 1: TypeError: bad frame/);
    assert.match(error.message, /seed 8; pass \{ seed: 8 \} to replay/);
    assert.equal(error.seed, 8);
  });

  test("fails a protocol that leaks its connection", async () => {
    // It stops counting against the limit and never returns, even once its client is gone.
    const leaky: Protocol = async (conn) => {
      await conn.handshake();
      conn.removeFromCount();
      await new Promise<void>((resolve) => conn.signal.addEventListener("abort", () => resolve()));
    };
    const error = await failure(testProtocol(leaky, { settleTimeout: 50 }, async (client) => {
      await client.send("hello");
    }));
    assert.ok(error instanceof TestProtocolError, `got ${error}`);
    assert.match(error.message, /1 connection leaked: the protocol was still running 50 ms after the test body ended/);
    assert.equal(error.seed, undefined, "no faults, no seed to replay");
  });

  test("fails a protocol that leaves a timer behind, and clears it", async () => {
    let fired = false;
    const forgetful: Protocol = async (conn) => {
      const socket = await conn.handshake();
      setTimeout(() => (fired = true), 60_000);
      await readAll(socket);
    };
    const error = await failure(testProtocol(forgetful, {}, async () => {}));
    assert.ok(error instanceof TestProtocolError, `got ${error}`);
    assert.match(error.message, /a timer was left behind: setTimeout\(…, 60000\) made at /);
    assert.equal(fired, false);
  });

  test("fails a protocol that leaves an interval running", async () => {
    let ticks = 0;
    const ticking: Protocol = async (conn) => {
      await conn.handshake();
      setInterval(() => ticks++, 5);
    };
    const error = await failure(testProtocol(ticking, {}, async () => {}));
    assert.match(error.message, /a timer was left behind: setInterval\(…, 5\)/);
    const before = ticks;
    await new Promise((resolve) => setTimeout(resolve, 30));
    assert.equal(ticks, before, "the interval was cleared");
  });

  test("timers a protocol clears, and those that fire, are fine", async () => {
    const tidy: Protocol = async (conn) => {
      const socket = await conn.handshake();
      const timer = setTimeout(() => {}, 60_000);
      await new Promise((resolve) => setTimeout(resolve, 1));
      await readAll(socket);
      clearTimeout(timer);
    };
    await testProtocol(tidy, {}, async () => {});
  });

  test("a failing body keeps its error class and gains the seed; the seed replays the schedule", async () => {
    const first: number[] = [];
    const error = await failure(testProtocol(recording(first), { fragment: { max: 5 } }, async (client) => {
      await client.send("x".repeat(40));
      await client.shutdown("write");
      assert.equal(text(await readAll(client)), "41", "deliberately wrong");
    }));
    assert.equal(error.name, "AssertionError");
    const match = /memory fault seed (\d+); pass \{ seed: \1 \} to replay/.exec(error.message);
    assert.ok(match, `no seed in: ${error.message}`);
    const replayed: number[] = [];
    await testProtocol(recording(replayed), { fragment: { max: 5 }, seed: Number(match[1]) }, async (client) => {
      await client.send("x".repeat(40));
      await client.shutdown("write");
      // The reply is fragmented too: read to the end, never assume one read holds it.
      assert.equal(text(await readAll(client)), "40");
    });
    assert.ok(first.length > 8);
    assert.deepEqual(replayed, first);
  });

  test("deliveries left on a manual VirtualClock are reported", async () => {
    const clock = new VirtualClock({ auto: false });
    const error = await failure(
      testProtocol(echo, { latency: 10, scheduler: clock, settleTimeout: 20 }, async (client) => {
        await client.send("stuck");
      }),
    );
    assert.match(error.message, /still scheduled on the VirtualClock/);
  });

  test("the global timer functions are put back afterwards, even after a failure", async () => {
    const before = [setTimeout, clearTimeout, setInterval, clearInterval];
    await testProtocol(echo, {}, () => {});
    await testProtocol(echo, {}, () => assert.fail("deliberate")).catch(() => {});
    assert.deepEqual([setTimeout, clearTimeout, setInterval, clearInterval], before);
  });

  test("misuse fails at once by name", async () => {
    await assert.rejects(testProtocol(echo, { fragment: { max: 0 } }, () => {}), /fragment.max/);
    await assert.rejects(testProtocol(echo, { name: "x" } as never, () => {}), /unknown option "name"/);
    await assert.rejects(testProtocol(echo, { settleTimeout: -1 }, () => {}), RangeError);
    await assert.rejects(testProtocol("echo" as never, {}, () => {}), TypeError);
  });
});

/** A user's helper: rejects when `promise` takes longer than `ms`; its timer is made after the call started. */
function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
}

/** A protocol that forgets a 60-second timer. */
const forgetful: Protocol = async (conn) => {
  const socket = await conn.handshake();
  setTimeout(() => {}, 60_000);
  await readAll(socket);
};

suite("testProtocol: timers are told apart by async context", () => {
  test("a caller's withTimeout(testProtocol(...), 10_000) is not a timer left behind", async () => {
    await withTimeout(
      testProtocol(echo, {}, async (client) => {
        await client.send("ping");
        assert.equal(text(await client.recv(4, { timeout: 5000 })), "ping");
      }),
      10_000,
    );
  });

  test("Promise.race with a caller's timeout: it passes, and the caller's timers keep running", async () => {
    const run = testProtocol(echo, {}, async (client) => {
      await client.send("pong");
      assert.equal(text(await client.recv(4, { timeout: 5000 })), "pong");
    });
    // Made after testProtocol started, in the caller's context: none of them is the protocol's.
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error("late")), 10_000)));
    let ticks = 0;
    const ticking = setInterval(() => ticks++, 1);
    try {
      await Promise.race([run, timeout]);
      const before = ticks;
      await waitFor(() => ticks > before); // testProtocol cleared nothing of the caller's
    } finally {
      clearTimeout(timer);
      clearInterval(ticking);
    }
  });

  test("wrapped in a timeout, the protocol's own timer is still caught, and only that one", async () => {
    const error = await failure(withTimeout(testProtocol(forgetful, {}, async () => {}), 10_000));
    assert.ok(error instanceof TestProtocolError, `got ${error}`);
    assert.deepEqual(error.problems.filter((p) => p.startsWith("a timer")).map((p) => p.split(" made ")[0]), [
      "a timer was left behind: setTimeout(…, 60000)",
    ]);
  });

  test("a timer the body makes counts, as documented", async () => {
    const error = await failure(testProtocol(echo, {}, () => void setTimeout(() => {}, 45_000)));
    assert.match(error.message, /a timer was left behind: setTimeout\(…, 45000\)/);
  });

  test("two runs at once each report their own timers only", async () => {
    const [leaky, clean] = await Promise.all([
      testProtocol(forgetful, {}, async () => {}).then(() => undefined, (e) => e),
      testProtocol(echo, {}, async (client) => {
        await client.send("x");
        assert.equal(text(await client.recv(1, { timeout: 5000 })), "x");
      }).then(() => undefined, (e) => e),
    ]);
    assert.ok(leaky instanceof TestProtocolError && /setTimeout\(…, 60000\)/.test(leaky.message), `got ${leaky}`);
    assert.equal(clean, undefined, `the clean run failed: ${clean}`);
  });
});
