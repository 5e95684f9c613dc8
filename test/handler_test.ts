/**
 * Push-mode protocols (`handler()`): the conformance echo cases over a
 * handler-shaped echo on every transport (TLS and memory faults included),
 * then what only a handler has: state, held deliveries, back-pressure from
 * a full send queue, failures of each callback, end, idle timeouts and
 * shutdown.
 */
import assert from "node:assert/strict";
import { ClosedError, type Handler, handler, memory, type Socket } from "../mod.ts";
import { tcp } from "../transports/tcp.ts";
import { tls } from "../transports/tls.ts";
import { testProtocol, VirtualClock } from "../testing.ts";
import { suite, test } from "./_harness.ts";
import { defineConformance } from "./_conformance.ts";
import {
  faultyMemory,
  isPending,
  nameOf,
  pattern,
  plainTcp,
  readAll,
  RecordingLogger,
  roundTrip,
  sameBytes,
  signal,
  start,
  text,
  type TransportFixture,
  transports,
  waitFor,
} from "./_fixtures.ts";
import { connectTls, serverOptions } from "./_certs.ts";

/** The push-mode echo: every chunk goes back as it arrives. */
const echo = handler({
  data(chunk, socket) {
    socket.send(chunk);
  },
});

const fixtures: TransportFixture[] = [
  ...transports,
  { name: "tls", secure: true, make: () => tls(serverOptions()), connect: (l) => connectTls(l) },
  faultyMemory("fragment", () => ({ seed: 21, fragment: { max: 97 } })),
  faultyMemory("coalesce", () => ({ seed: 22, coalesce: true })),
  faultyMemory("window 16", () => ({ seed: 23, window: 16 })),
  faultyMemory("all of them", () => ({
    seed: 24,
    fragment: { max: 300 },
    coalesce: true,
    latency: { min: 0, max: 5 },
    window: 1024,
    scheduler: new VirtualClock(),
  })),
];

for (const fixture of fixtures) {
  suite(`handler conformance ${fixture.name}`, () => defineConformance(fixture, { echo, onlyEchoCases: true }));
}

/** Sends `chunk` until a send stays pending (the peer stopped reading): bounded at 1 GiB. */
async function sendUntilBlocked(client: Socket, chunk: Uint8Array): Promise<{ sent: number; blocked: Promise<void> }> {
  let sent = 0;
  for (let i = 0; i < 16384; i++) {
    const sending = client.send(chunk);
    sent += chunk.length;
    if (await isPending(sending)) {
      // Pending across a real turn too: the peer's reads are not merely late.
      await new Promise((resolve) => setTimeout(resolve, 20));
      if (await isPending(sending)) return { sent, blocked: sending };
    }
    await sending;
  }
  throw new Error(`send never waited after ${sent} bytes`);
}

for (const fx of [transports[0]!, transports[3]!]) {
  suite(`handler ${fx.name}`, () => {
    test("state from connection() reaches data() and end(); end() replies after EOF", async () => {
      const protocol = handler({
        connection: (_socket, conn) => ({ id: conn.id, chunks: 0, bytes: 0 }),
        data(chunk, _socket, state) {
          state.chunks++;
          state.bytes += chunk.length;
        },
        async end(socket, state) {
          await socket.send(`conn ${state.id}: ${state.bytes} bytes`);
        },
      });
      await using listener = await start({ transport: fx.make(), protocol });
      const client = await fx.connect(listener);
      await client.send(pattern(100_000, 5));
      await client.shutdown("write");
      assert.equal(text(await readAll(client)), "conn 1: 100000 bytes");
      await listener.waitForConnections("==", 0);
      assert.equal(listener.info().failed, 0);
      await client.close();
    });

    test("a data() that returns a promise holds every later chunk until it settles, in order", async () => {
      const first = signal();
      const gate = signal();
      const seen: string[] = [];
      const protocol = handler({
        data(chunk, socket) {
          seen.push(text(chunk)!);
          if (seen.length === 1) {
            first.resolve();
            return gate.promise.then(() => socket.send("released"));
          }
        },
      });
      await using listener = await start({ transport: fx.make(), protocol });
      const client = await fx.connect(listener);
      await client.send("a");
      await first.promise;
      // Reading stops while held: a sender is blocked once the buffers between are full.
      const { sent, blocked } = await sendUntilBlocked(client, new Uint8Array(65536).fill(98));
      assert.deepEqual(seen, ["a"], "nothing is delivered while data()'s promise is pending");
      gate.resolve();
      assert.equal(text(await client.recv(8, { timeout: 5000 })), "released");
      await blocked;
      await client.shutdown("write");
      await listener.waitForConnections("==", 0);
      assert.equal(seen.slice(1).join("").length, sent);
      assert.ok(seen.slice(1).join("").split("").every((c) => c === "b"));
      await client.close();
    });

    test("a peer that never reads: the echo stops reading once its queue is full, and nothing is lost", async () => {
      let received = 0;
      const protocol = handler({
        data(chunk, socket) {
          received += chunk.length;
          socket.send(chunk);
        },
      });
      await using listener = await start({ transport: fx.make(), protocol });
      const client = await fx.connect(listener);
      const chunk = pattern(65536, 9);
      const { sent, blocked } = await sendUntilBlocked(client, chunk);
      assert.ok(sent < 64 * 1024 * 1024, `the client queued ${sent} bytes before waiting`);
      assert.ok(received <= sent, "the server holds no more than was sent");
      // Now read everything back while the blocked send completes.
      const reading = (async () => {
        let got = 0;
        while (got < sent) {
          const part = await client.recv(0, { timeout: 10_000 });
          if (part === null) break;
          for (let i = 0; i < part.length; i++) {
            if (part[i] !== chunk[(got + i) % chunk.length]) throw new Error(`byte ${got + i} differs`);
          }
          got += part.length;
        }
        return got;
      })();
      await blocked;
      assert.equal(await reading, sent);
      assert.equal(received, sent);
      await client.close();
    });

    test("a data() that throws fails its connection only: error() and close() see it, the listener serves on", async () => {
      const calls: string[] = [];
      const logger = new RecordingLogger();
      const protocol = handler({
        data(chunk, socket) {
          if (text(chunk) === "boom") throw new Error("data exploded");
          socket.send(chunk);
        },
        error: (error) => void calls.push(`error: ${(error as Error).message}`),
        close: () => void calls.push("close"),
      });
      await using listener = await start({ transport: fx.make(), protocol, logger });
      const survivor = await fx.connect(listener);
      assert.equal(await roundTrip(survivor, "before"), "before");
      const victim = await fx.connect(listener);
      await victim.send("boom");
      assert.equal(await victim.recv(0, { timeout: 5000 }).catch(() => null), null);
      await listener.waitForConnections("==", 1);
      assert.deepEqual(calls, ["error: data exploded", "close"]);
      assert.equal(listener.info().failed, 1);
      assert.match(logger.at("error")[0]!, /connection 2 from .* failed/);
      assert.equal(await roundTrip(survivor, "after"), "after");
      await survivor.close();
      await victim.close();
    });

    test("a data() that rejects fails its connection the same way", async () => {
      const errors: unknown[] = [];
      const protocol = handler({
        data: (chunk) => Promise.reject(new RangeError(`bad ${text(chunk)}`)),
        error: (error) => void errors.push(error),
      });
      await using listener = await start({ transport: fx.make(), protocol });
      const client = await fx.connect(listener);
      await client.send("x");
      await listener.waitForConnections("==", 0);
      assert.equal(errors.length, 1);
      assert.ok(errors[0] instanceof RangeError && errors[0].message === "bad x");
      assert.equal(listener.info().failed, 1);
      await client.close();
    });

    test("a connection() that throws or rejects fails before any data(); close() still runs once", async () => {
      const failures = [() => {
        throw new Error("sync");
      }, () => Promise.reject(new Error("async"))];
      for (const fail of failures) {
        const calls: string[] = [];
        const protocol = handler<{ n: number }>({
          connection: fail as unknown as () => { n: number },
          data: () => void calls.push("data"),
          close: () => void calls.push("close"),
        });
        await using listener = await start({ transport: fx.make(), protocol });
        const client = await fx.connect(listener);
        await client.send("x").catch(() => {});
        await listener.waitForConnections("==", 0);
        assert.deepEqual(calls, ["close"]);
        assert.equal(listener.info().failed, 1);
        await client.close();
      }
    });

    test("socket.close() from data() ends the connection normally", async () => {
      const closed = signal();
      const protocol = handler({
        data(chunk, socket) {
          socket.send(chunk);
          socket.close();
        },
        close: () => closed.resolve(),
      });
      await using listener = await start({ transport: fx.make(), protocol });
      const client = await fx.connect(listener);
      await client.send("once");
      assert.equal(text(await readAll(client)), "once");
      await closed.promise;
      await listener.waitForConnections("==", 0);
      assert.equal(listener.info().failed, 0);
      await client.close();
    });

    test("recv() on a socket a handler owns rejects with TypeError", async () => {
      const result = signal<unknown>();
      const protocol = handler({
        data(_chunk, socket) {
          socket.recv().then(() => result.resolve("resolved"), (error) => result.resolve(error));
        },
      });
      await using listener = await start({ transport: fx.make(), protocol });
      const client = await fx.connect(listener);
      await client.send("x");
      const error = await result.promise;
      assert.ok(error instanceof TypeError && /handler\(\)/.test(error.message), String(error));
      await client.close();
    });

    test("shutdown() is called when the listener stops, mid-stream, and can end the connection", async () => {
      const streaming = signal();
      const protocol = handler({
        data(chunk, socket) {
          socket.send(chunk);
          streaming.resolve();
        },
        async shutdown(socket) {
          await socket.send("\nbye");
          await socket.close();
        },
      });
      const listener = await start({ transport: fx.make(), protocol, shutdownTimeout: 60_000 });
      const client = await fx.connect(listener);
      assert.equal(await roundTrip(client, "data"), "data");
      await streaming.promise;
      await listener.stop(); // resolves long before the 60 s timeout: shutdown() closed the socket
      assert.equal(text(await readAll(client)), "\nbye");
      assert.equal(listener.info().failed, 0);
      await client.close();
    });

    test("without shutdown(), stop() destroys the connection at shutdownTimeout", async () => {
      const started = signal();
      const protocol = handler({ data: () => started.resolve() });
      const listener = await start({ transport: fx.make(), protocol, shutdownTimeout: 50 });
      const client = await fx.connect(listener);
      await client.send("x");
      await started.promise;
      await listener.stop();
      assert.equal(await client.recv(0, { timeout: 5000 }).catch(() => null), null);
      await waitFor(() => listener.connections("all") === 0);
      assert.equal(listener.info().terminated, 1);
      await client.close();
    });

    test("idleTimeout: without timeout() a silent connection is closed; with it, timeout() is called again", async () => {
      await using quiet = await start({ transport: fx.make(), protocol: handler({ idleTimeout: 30, data() {} }) });
      const silent = await fx.connect(quiet);
      assert.equal(await silent.recv(0, { timeout: 10_000 }), null);
      await quiet.waitForConnections("==", 0);
      assert.equal(quiet.info().failed, 0);
      await silent.close();

      let pings = 0;
      const pinging: Handler<undefined> = {
        idleTimeout: 20,
        data() {},
        timeout(socket) {
          socket.send("ping\n");
          if (++pings === 3) socket.close();
        },
      };
      await using listener = await start({ transport: fx.make(), protocol: handler(pinging) });
      const client = await fx.connect(listener);
      assert.equal(text(await readAll(client)), "ping\nping\nping\n");
      await client.close();
    });
  });
}

suite("handler", () => {
  test("a reset fault reaches error() as a ClosedError and fails the connection", async () => {
    const errors: unknown[] = [];
    const closes = signal();
    const protocol = handler({
      data(chunk, socket) {
        socket.send(chunk);
      },
      error: (error) => void errors.push(error),
      close: () => closes.resolve(),
    });
    await using listener = await start({ transport: memory({ seed: 31, reset: { after: 1000 } }), protocol });
    const client = await memory().connect({ name: nameOf(listener) });
    await client.send(pattern(4000)).catch(() => {});
    await closes.promise;
    assert.equal(errors.length, 1);
    assert.ok(errors[0] instanceof ClosedError && errors[0].code === "ECONNRESET", String(errors[0]));
    await listener.waitForConnections("==", 0);
    assert.equal(listener.info().failed, 1);
    client.destroy();
  });

  test("testProtocol runs a handler under 1 to 3 byte fragments", async () => {
    await testProtocol(echo, { fragment: { max: 3 }, seed: 4 }, async (client) => {
      const data = pattern(5000, 2);
      await client.send(data);
      const back = await client.recv(data.length, { timeout: 5000 });
      assert.ok(sameBytes(back!, data));
    });
  });

  test("a socket from a custom transport (no push of its own) is read for the handler, with holds", async () => {
    const wrapping = plainTcp();
    let held = 0;
    const protocol = handler({
      data(chunk, socket) {
        held++;
        return new Promise<void>((resolve) => setTimeout(resolve, 1)).then(() => socket.send(chunk));
      },
    });
    await using listener = await start({ transport: wrapping, protocol });
    const client = await tcp().connect({ port: listener.port! });
    const data = pattern(300_000, 8);
    await client.send(data);
    const back = await client.recv(data.length, { timeout: 10_000 });
    assert.ok(sameBytes(back!, data));
    assert.ok(held > 0);
    await client.shutdown("write");
    await listener.waitForConnections("==", 0);
    assert.equal(listener.info().failed, 0);
    await client.close();
  });

  test("misuse fails at handler(): no data, a callback that is not a function, a bad idleTimeout", () => {
    const bad = (spec: unknown) => () => handler(spec as Handler);
    assert.throws(bad(undefined), /handler\(spec\): spec must be an object/);
    assert.throws(bad({}), /spec\.data must be a function, got undefined/);
    assert.throws(bad({ data() {}, end: 3 }), /spec\.end must be a function, got number/);
    assert.throws(bad({ data() {}, idleTimeout: "5" }), TypeError);
    assert.throws(bad({ data() {}, idleTimeout: 0 }), (e) => e instanceof RangeError && /idleTimeout/.test(e.message));
    assert.throws(bad({ data() {}, timeout() {} }), /spec\.timeout needs spec\.idleTimeout/);
  });
});

