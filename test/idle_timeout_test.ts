/**
 * `idleTimeout` in the core, on tcp, tls, unix and memory: a connection
 * whose socket receives nothing for that long has `conn.signal` aborted
 * with a `TimeoutError`; a protocol that ignores it loses its socket after
 * `shutdownTimeout`; received bytes reset the clock and sends do not; each
 * connection can change its own (`conn.setIdleTimeout`); a `handler()`
 * hears it through `shutdown`, after its own `idleTimeout` / `timeout`.
 */
import assert from "node:assert/strict";
import { ClosedError, type Connection, handler, memory, type Protocol, TimeoutError, tls } from "../mod.ts";
import { suite, test } from "./_harness.ts";
import { readAll, signal, start, text, type TransportFixture, transports, waitFor } from "./_fixtures.ts";
import { connectTls, opensslMissing, serverOptions } from "./_certs.ts";

const fixtures: TransportFixture[] = [
  ...transports.filter((fx) => fx.name !== "tcp6"),
  { name: "tls", secure: true, make: () => tls(serverOptions()), connect: (l) => connectTls(l) },
];

/** Resolves with `conn.signal`'s reason once it aborts. */
function aborted(conn: Connection): Promise<unknown> {
  return new Promise((resolve) => {
    if (conn.signal.aborted) return resolve(conn.signal.reason);
    conn.signal.addEventListener("abort", () => resolve(conn.signal.reason), { once: true });
  });
}

suite("idleTimeout", () => {
  for (const fx of fixtures) {
    const skip = fx.secure ? opensslMissing : false;

    test(`${fx.name}: a silent client's connection is aborted with a TimeoutError; the protocol ends it`, async () => {
      const reason = signal<unknown>();
      const protocol: Protocol = async (conn) => {
        const socket = await conn.handshake();
        reason.resolve(await aborted(conn));
        await socket.send("bye\n");
      };
      await using listener = await start({ transport: fx.make(), idleTimeout: 50, protocol });
      const client = await fx.connect(listener);
      const error = await reason.promise;
      assert.ok(error instanceof TimeoutError, `${error}`);
      assert.match(error.message, /received nothing for 50 ms/);
      assert.equal(text(await readAll(client)), "bye\n");
      await listener.waitForConnections("==", 0);
      assert.equal(listener.info().failed, 0);
      assert.equal(listener.info().idleTimeout, 50);
      await client.close();
    }, { skip });

    test(`${fx.name}: a protocol that ignores the abort loses its socket after shutdownTimeout`, async () => {
      const failure = signal<unknown>();
      const protocol: Protocol = async (conn) => {
        const socket = await conn.handshake();
        try {
          await socket.recv(); // never answered: the client stays silent
        } catch (error) {
          failure.resolve(error);
          throw error;
        }
        failure.resolve(null);
      };
      await using listener = await start({ transport: fx.make(), idleTimeout: 30, shutdownTimeout: 50, protocol });
      const client = await fx.connect(listener);
      const ended = await failure.promise;
      // Destroyed under a pending recv(): a ClosedError, or an end of stream on runtimes that report one.
      assert.ok(ended === null || ended instanceof ClosedError, `${ended}`);
      await listener.waitForConnections("==", 0);
      assert.equal(await client.recv(0, { timeout: 5000 }).catch(() => null), null, "the client sees the end");
      await client.close();
    }, { skip });

    test(`${fx.name}: received bytes reset the clock, sent ones do not`, async () => {
      const reason = signal<unknown>();
      let replies = 0;
      const protocol: Protocol = async (conn) => {
        const socket = await conn.handshake();
        const abort = aborted(conn).then((error) => reason.resolve(error));
        for await (const chunk of socket) {
          if (chunk[0] === 0x2e) break; // ".": the client goes quiet, the server keeps talking
          await socket.send(chunk);
        }
        while (!conn.signal.aborted) {
          await socket.send("tick\n");
          replies++;
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        await abort;
      };
      const idleTimeout = 600;
      await using listener = await start({ transport: fx.make(), idleTimeout, protocol });
      const client = await fx.connect(listener);
      // Ping-pong for well over the timeout: every received byte keeps the connection alive.
      const started = performance.now();
      for (let round = 0; round < 10_000 && performance.now() - started < 2 * idleTimeout; round++) {
        await client.send("p");
        assert.equal(text(await client.recv(1, { timeout: 5000 })), "p");
        await new Promise((resolve) => setTimeout(resolve, 1)); // a timer turn, as a real client's pause
      }
      assert.ok(performance.now() - started >= 2 * idleTimeout, "the ping-pong outlasted the timeout");
      assert.equal(listener.connections(), 1);
      const quietSince = performance.now();
      await client.send(".");
      const error = await reason.promise;
      assert.ok(error instanceof TimeoutError);
      assert.ok(performance.now() - quietSince >= idleTimeout, "cut before the timeout");
      assert.ok(replies >= 1, "the server was sending all along");
      await listener.waitForConnections("==", 0);
      client.destroy();
    }, { skip, timeout: 30_000 });
  }

  test("conn.setIdleTimeout: a connection sets its own, or turns the listener's off", async () => {
    const aborts = new Map<string, unknown>();
    const kept = signal<Connection>();
    const protocol: Protocol = async (conn) => {
      const socket = await conn.handshake();
      const name = text(await socket.recv(0, { timeout: 5000 }))!;
      if (name === "own") conn.setIdleTimeout(30);
      if (name === "none") {
        conn.setIdleTimeout(Infinity);
        kept.resolve(conn);
      }
      assert.equal(conn.idleTimeout, name === "own" ? 30 : name === "none" ? Infinity : 40);
      aborts.set(name, await aborted(conn));
    };
    await using listener = await start({ transport: memory(), idleTimeout: 40, protocol });
    const name = (listener.address as { name: string }).name;
    const none = await memory().connect({ name });
    await none.send("none");
    const conn = await kept.promise;
    const own = await memory().connect({ name });
    await own.send("own");
    const usual = await memory().connect({ name });
    await usual.send("usual");
    // "none" started first: were its clock still running, it would have expired before the others.
    await waitFor(() => aborts.size === 2);
    assert.ok(aborts.get("own") instanceof TimeoutError && aborts.get("usual") instanceof TimeoutError);
    assert.equal(conn.signal.aborted, false);
    assert.throws(() => conn.setIdleTimeout(0), RangeError);
    assert.throws(() => conn.setIdleTimeout("5" as unknown as number), TypeError);
    await Promise.all([none.close(), own.close(), usual.close()]);
    await listener.stop();
    assert.ok(aborts.get("none") instanceof ClosedError, "the stop aborted it, with a ClosedError");
  });

  test("a bad idleTimeout fails at listen(), naming the option", async () => {
    for (
      const [value, type] of [[0, RangeError], [1.5, RangeError], [-1, RangeError], [2 ** 31, RangeError], [
        "5",
        TypeError,
      ]] as const
    ) {
      await assert.rejects(
        start({ transport: memory(), protocol: () => {}, idleTimeout: value as number }),
        (e: Error) => {
          assert.ok(e instanceof type);
          assert.match(e.message, /^listen\(\) option idleTimeout must be/);
          return true;
        },
      );
    }
  });

  test("handler(): its own idleTimeout calls timeout() first; the listener's then calls shutdown()", async () => {
    const calls: string[] = [];
    const done = signal<unknown>();
    const protocol = handler<{ conn: Connection }>({
      connection: (_socket, conn) => ({ conn }),
      data() {},
      idleTimeout: 20,
      timeout(socket) {
        if (!calls.includes("timeout")) socket.send("are you there?\n");
        calls.push("timeout");
      },
      shutdown(socket, state) {
        calls.push("shutdown");
        done.resolve(state.conn.signal.reason);
        socket.close();
      },
    });
    await using listener = await start({ transport: memory(), idleTimeout: 300, protocol });
    const client = await memory().connect({ name: (listener.address as { name: string }).name });
    const reason = await done.promise;
    assert.ok(reason instanceof TimeoutError);
    assert.equal(calls.at(-1), "shutdown");
    assert.ok(calls.filter((call) => call === "timeout").length >= 1);
    assert.equal(text(await readAll(client)), "are you there?\n");
    await listener.waitForConnections("==", 0);
    await client.close();
  });
});
