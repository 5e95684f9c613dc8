/**
 * Ranch's shutdown_SUITE: brutal, timeout and infinity, with a cooperative
 * handler that finishes when its connection's signal aborts.
 */
import assert from "node:assert/strict";
import type { Connection } from "../mod.ts";
import { suite, test } from "./_harness.ts";
import { readAll, signal, start, tcpFixture as fx, text } from "./_fixtures.ts";

/** Says "bye" and returns when the listener stops: a well-behaved protocol. */
async function cooperative(conn: Connection): Promise<void> {
  const socket = await conn.handshake();
  await socket.send("hi");
  await new Promise<void>((resolve) => conn.signal.addEventListener("abort", () => resolve(), { once: true }));
  await socket.send("bye");
}

/** Ignores the stop signal until released, so only the timeout can end it. */
function stubborn(release: Promise<void>) {
  return async (conn: Connection): Promise<void> => {
    const socket = await conn.handshake();
    await socket.send("hi");
    await release;
  };
}

suite("shutdown", () => {
  test("brutal: sockets close at once, the handler gets no time", async () => {
    const listener = await start({ transport: fx.make(), shutdownTimeout: "brutal", protocol: cooperative });
    const client = await fx.connect(listener);
    assert.equal(text(await client.recv(2)), "hi");
    await listener.stop();
    const rest = await readAll(client).catch(() => new Uint8Array());
    assert.notEqual(text(rest), "bye");
    await client.close();
  });

  test("timeout: a cooperative handler finishes within it", async () => {
    const listener = await start({ transport: fx.make(), shutdownTimeout: 5000, protocol: cooperative });
    const client = await fx.connect(listener);
    assert.equal(text(await client.recv(2)), "hi");
    const started = performance.now();
    await listener.stop();
    assert.equal(text(await readAll(client)), "bye");
    assert.ok(performance.now() - started < 4000, "stop waited for the timeout instead of the handler");
    assert.equal(listener.info().terminated, 1);
    await client.close();
  });

  test("timeout: a handler that ignores the signal is cut off at the timeout", async () => {
    const release = signal();
    const listener = await start({ transport: fx.make(), shutdownTimeout: 100, protocol: stubborn(release.promise) });
    const client = await fx.connect(listener);
    assert.equal(text(await client.recv(2)), "hi");
    const started = performance.now();
    await listener.stop();
    assert.ok(performance.now() - started >= 90, "stop returned before the timeout");
    assert.equal(await client.recv(0, { timeout: 5000 }).catch(() => null), null, "the socket was closed");
    release.resolve();
    await client.close();
  });

  test("infinity: stop waits for the handler however long it takes", async () => {
    const release = signal();
    const listener = await start({
      transport: fx.make(),
      shutdownTimeout: Infinity,
      protocol: stubborn(release.promise),
    });
    const client = await fx.connect(listener);
    assert.equal(text(await client.recv(2)), "hi");
    let stopped = false;
    const stopping = listener.stop().then(() => (stopped = true));
    await assert.rejects(listener.waitForConnections("==", 0, { timeout: 200 }));
    assert.equal(stopped, false);
    release.resolve();
    await stopping;
    assert.equal(listener.connections("all"), 0);
    await client.close();
  });

  test("stop aborts conn.signal and refuses new connections", async () => {
    const aborted = signal<boolean>();
    const listener = await start({
      transport: fx.make(),
      protocol: async (conn) => {
        await conn.handshake();
        conn.signal.addEventListener("abort", () => aborted.resolve(conn.signal.aborted));
        await new Promise((resolve) => conn.signal.addEventListener("abort", resolve));
      },
    });
    const client = await fx.connect(listener);
    await listener.waitForConnections("==", 1, { timeout: 5000 });
    await listener.stop();
    assert.equal(await aborted.promise, true);
    await assert.rejects(fx.connect(listener));
    await client.close();
  });

  test("each connection has its own signal, and stop aborts them all", async () => {
    const signals: AbortSignal[] = [];
    const listener = await start({
      transport: fx.make(),
      protocol: async (conn) => {
        signals.push(conn.signal);
        await new Promise((resolve) => conn.signal.addEventListener("abort", resolve, { once: true }));
      },
    });
    const clients = [];
    for (let i = 0; i < 12; i++) clients.push(await fx.connect(listener));
    await listener.waitForConnections("==", 12, { timeout: 5000 });
    assert.equal(new Set(signals).size, 12);
    assert.ok(signals.every((s) => !s.aborted));
    await listener.stop();
    assert.ok(signals.every((s) => s.aborted));
    await Promise.all(clients.map((c) => c.close()));
  });
});
