/**
 * The consumer tests: what a user of corral writes to test their protocol
 * (here examples/echo_protocol.ts) with `testProtocol`. They use only
 * `node:assert/strict`, which vitest, `node:test`, `bun test` and
 * `deno test` all accept, so every runner runs these same bodies; the
 * per-runner files (`vitest.test.ts`, `node.test.ts`, `bun.test.ts`,
 * `deno.test.ts`) only hand each case to that runner's `test`.
 *
 * Imports: `../../testing.ts` and `../../mod.ts` are the files behind the
 * package entries "corral/testing" and "corral" (deno.json "exports" names
 * them; the npm build bundles them into dist/testing.js and dist/mod.js).
 * In your project write `from "corral/testing"` and `from "corral"`.
 *
 * @module
 */
import assert from "node:assert/strict";
import { ClosedError, type Protocol, type Socket } from "../../mod.ts";
import { testProtocol, TestProtocolError, VirtualClock } from "../../testing.ts";
import { echo } from "../../examples/echo_protocol.ts";

/** One test: a name and a body, registered by each runner's own `test`. */
export interface Case {
  name: string;
  run: () => Promise<void>;
}

const decoder = new TextDecoder();

/** Reads until the server ends the stream, however the bytes were split. */
async function readText(socket: Socket): Promise<string> {
  let out = "";
  for await (const chunk of socket) out += decoder.decode(chunk, { stream: true });
  return out + decoder.decode();
}

/** Resolves to what `run` rejected with; fails when it resolved. */
async function rejection(run: Promise<void>): Promise<unknown> {
  const outcome = await run.then(() => ({ passed: true as const }), (error: unknown) => ({ passed: false, error }));
  assert.ok(!outcome.passed, "testProtocol passed where it should have failed");
  return outcome.error;
}

/** Reads until end of stream, recording each read's size, then answers with the byte count. */
function recordReads(sizes: number[]): Protocol {
  return async (conn) => {
    const socket = await conn.handshake();
    let total = 0;
    for await (const chunk of socket) {
      sizes.push(chunk.length);
      total += chunk.length;
    }
    await socket.send(String(total));
  };
}

export const cases: Case[] = [
  {
    name: "echo returns every byte under 1-byte fragments",
    run: () =>
      testProtocol(echo, { seed: 42, fragment: { max: 1 } }, async (client, { seed }) => {
        assert.equal(seed, 42);
        await client.send("hello, corral");
        // recv(n) gathers exactly n bytes, however they were split.
        assert.equal(decoder.decode((await client.recv(13))!), "hello, corral");
      }),
  },
  {
    name: "echo returns writes merged into one read and cut again at random points",
    run: () =>
      testProtocol(echo, { seed: 7, coalesce: true, fragment: { max: 5 } }, async (client) => {
        const lines = ["one\n", "two\r\n", "\n", "three\n", "a longer fourth line\n"];
        for (const line of lines) await client.send(line);
        await client.shutdown("write");
        assert.equal(await readText(client), lines.join(""));
      }),
  },
  {
    name: "echo streams 4 KiB through a 16-byte window",
    run: () =>
      testProtocol(echo, { seed: 3, window: 16, fragment: { max: 7 } }, async (client) => {
        const message = "0123456789abcdef".repeat(256);
        // Read while sending: with a 16-byte window, sending everything first would wait forever.
        const sending = client.send(message).then(() => client.shutdown("write"));
        assert.equal(await readText(client), message);
        await sending;
      }),
  },
  {
    name: "the same seed gives the same byte schedule",
    run: async () => {
      const schedule = async (seed: number): Promise<number[]> => {
        const sizes: number[] = [];
        await testProtocol(recordReads(sizes), { seed, fragment: { max: 4 } }, async (client) => {
          await client.send("x".repeat(40));
          await client.shutdown("write");
          assert.equal(await readText(client), "40");
        });
        return sizes;
      };
      const first = await schedule(99);
      assert.ok(first.length >= 10 && first.every((size) => size >= 1 && size <= 4), `reads ${first}`);
      assert.deepEqual(await schedule(99), first);
    },
  },
  {
    name: "a reset mid-stream reaches the client as ECONNRESET and is not the protocol's fault",
    run: () =>
      testProtocol(echo, { seed: 11, reset: { after: 100 } }, async (client, { listener }) => {
        const sending = client.send("x".repeat(4096)).catch(() => {});
        const error = await readText(client).then(() => undefined, (e: unknown) => e);
        assert.ok(error instanceof ClosedError && error.code === "ECONNRESET", `got ${error}`);
        await sending;
        await listener.waitForConnections("==", 0, { timeout: 1000 });
        assert.equal(listener.info().terminated, 1);
      }),
  },
  {
    name: "250 ms of latency each way on a VirtualClock costs no real time",
    run: async () => {
      const clock = new VirtualClock();
      const started = performance.now();
      await testProtocol(echo, { latency: 250, scheduler: clock }, async (client) => {
        await client.send("ping");
        assert.equal(decoder.decode((await client.recv(4))!), "ping");
        assert.equal(clock.now(), 500);
      });
      assert.ok(performance.now() - started < 250, "the virtual clock waited in real time");
    },
  },
  {
    name: "a protocol that throws makes testProtocol reject with TestProtocolError",
    run: async () => {
      const broken: Protocol = async (conn) => {
        const socket = await conn.handshake();
        await socket.recv(0);
        throw new TypeError("bad frame");
      };
      const error = await rejection(testProtocol(broken, { seed: 8, fragment: { max: 2 } }, async (client) => {
        await client.send("hi");
        assert.equal(await client.recv(0, { timeout: 5000 }), null);
      }));
      assert.ok(error instanceof TestProtocolError, `got ${error}`);
      assert.equal(error.code, "ETESTPROTOCOL");
      assert.equal(error.seed, 8);
      assert.match(error.problems[0] ?? "", /the protocol threw on connection \d+: TypeError: bad frame/);
    },
  },
  {
    name: "a protocol that outlives its peer is reported as a leak",
    run: async () => {
      // Ignores its socket and returns only when the listener stops it.
      const leaky: Protocol = async (conn) => {
        await conn.handshake();
        await new Promise<void>((resolve) => conn.signal.addEventListener("abort", () => resolve()));
      };
      const error = await rejection(testProtocol(leaky, { settleTimeout: 50 }, async (client) => {
        await client.send("hello");
      }));
      assert.ok(error instanceof TestProtocolError, `got ${error}`);
      assert.match(error.message, /1 connection leaked/);
    },
  },
  {
    name: "a timer the protocol leaves behind fails the test, is cleared, and the runner's timers are put back",
    run: async () => {
      const before = [setTimeout, clearTimeout, setInterval, clearInterval];
      let fired = false;
      const forgetful: Protocol = async (conn) => {
        const socket = await conn.handshake();
        setTimeout(() => (fired = true), 60_000);
        await readText(socket);
      };
      const error = await rejection(testProtocol(forgetful, {}, () => {}));
      assert.ok(error instanceof TestProtocolError, `got ${error}`);
      assert.match(error.message, /a timer was left behind: setTimeout\(…, 60000\)/);
      assert.equal(fired, false);
      assert.deepEqual([setTimeout, clearTimeout, setInterval, clearInterval], before);
    },
  },
  {
    name: "a failing body keeps its AssertionError and names the seed to replay",
    run: async () => {
      const error = await rejection(testProtocol(echo, { seed: 5, fragment: { max: 3 } }, async (client) => {
        await client.send("hello");
        // Wrong on purpose: one read may hold only part of the reply.
        assert.equal(decoder.decode((await client.recv(0))!), "hello");
      }));
      assert.ok(error instanceof assert.AssertionError, `got ${error}`);
      assert.match(error.message, /memory fault seed 5; pass \{ seed: 5 \} to replay/);
    },
  },
];
