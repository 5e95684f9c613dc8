/**
 * Ranch's acceptor_SUITE scenarios, by name, over real TCP on 127.0.0.1.
 */
import assert from "node:assert/strict";
import {
  type Connection,
  getListener,
  info,
  ListenError,
  listeners,
  type Socket,
  stopListener,
  tcp,
  TimeoutError,
} from "../mod.ts";
import { CLOSE_LINGER_MS } from "../src/closing_sockets.ts";
import { suite, test } from "./_harness.ts";
import {
  activeEcho,
  echo,
  idle,
  RecordingLogger,
  roundTrip,
  signal,
  start,
  tcpFixture as fx,
  text,
  waitFor,
} from "./_fixtures.ts";

/** Connects `n` clients to a listener's port. */
async function connectMany(port: number, n: number): Promise<Socket[]> {
  const clients: Socket[] = [];
  for (let i = 0; i < n; i++) clients.push(await tcp().connect({ port }));
  return clients;
}

async function closeAll(clients: Socket[]): Promise<void> {
  await Promise.all(clients.map((c) => c.close()));
}

/** Asserts the active count does not pass `limit` (waitForConnections must time out). */
async function staysAtMost(
  listener: { waitForConnections: (op: ">", n: number, o: { timeout: number }) => Promise<void> },
  limit: number,
) {
  await assert.rejects(listener.waitForConnections(">", limit, { timeout: 150 }), TimeoutError);
}

suite("acceptor", () => {
  test("tcp_echo", async () => {
    await using listener = await start({ ref: "tcp_echo", transport: fx.make(), protocol: echo });
    assert.equal(getListener("tcp_echo"), listener);
    const client = await fx.connect(listener);
    assert.equal(await roundTrip(client, "TCP Ranch is working!"), "TCP Ranch is working!");
    await client.close();
    await listener.waitForConnections("==", 0, { timeout: 5000 });
  });

  test("tcp_active_echo", async () => {
    await using listener = await start({ transport: fx.make(), protocol: activeEcho });
    const client = await fx.connect(listener);
    assert.equal(await roundTrip(client, "TCP Ranch is working!"), "TCP Ranch is working!");
    await client.close();
  });

  test("tcp_graceful: suspend keeps connections, refuses new ones, resume reopens", async () => {
    await using listener = await start({ transport: tcp({ host: "127.0.0.1", port: 0 }), protocol: echo });
    const port = listener.port!;
    const first = await fx.connect(listener);
    assert.equal(await roundTrip(first, "before"), "before");
    assert.throws(() => listener.setTransportOptions({ port: 0 }), TypeError);
    await listener.suspend();
    assert.equal(listener.status, "suspended");
    assert.equal(await roundTrip(first, "while suspended"), "while suspended");
    await assert.rejects(tcp().connect({ port }), (e: { code?: string }) => e.code === "ECONNREFUSED");
    await listener.resume();
    assert.equal(listener.status, "running");
    assert.equal(listener.port, port, "resume listens on the port it had");
    const second = await fx.connect(listener);
    assert.equal(await roundTrip(second, "after"), "after");
    // New transport options while suspended apply at resume.
    await listener.suspend();
    listener.setTransportOptions({ host: "::1" });
    assert.deepEqual(listener.transportOptions, { host: "::1", port: 0 });
    await listener.resume();
    const third = await tcp().connect({ host: "::1", port: listener.port! });
    assert.equal(await roundTrip(third, "v6"), "v6");
    assert.equal(await roundTrip(first, "still"), "still");
    await closeAll([first, second, third]);
  });

  test("tcp_max_connections: the 11th is handed over only after one closes", async () => {
    let started = 0;
    await using listener = await start({
      transport: fx.make(),
      numAcceptors: 1,
      maxConnections: 10,
      protocol: (conn) => {
        started++;
        return echo(conn);
      },
    });
    const clients = await connectMany(listener.port!, 11);
    await listener.waitForConnections("==", 10, { timeout: 5000 });
    await staysAtMost(listener, 10);
    assert.equal(started, 10);
    await clients[0]!.close();
    await listener.waitForConnections("==", 10, { timeout: 5000 });
    assert.equal(await roundTrip(clients[10]!, "eleventh"), "eleventh");
    assert.equal(started, 11);
    assert.equal(listener.info().accepted, 11);
    await closeAll(clients);
  });

  test("tcp_max_connections_and_beyond: removed connections do not count", async () => {
    await using listener = await start({
      transport: fx.make(),
      maxConnections: 10,
      protocolOptions: { remove: true },
      protocol: async (conn, options: { remove: boolean }) => {
        if (options.remove) conn.removeFromCount();
        await idle(conn);
      },
    });
    const removed = await connectMany(listener.port!, 10);
    await waitAll(listener, 10);
    assert.equal(listener.connections("active"), 0);
    listener.protocolOptions = { remove: false };
    const counted = await connectMany(listener.port!, 11);
    await listener.waitForConnections("==", 10, { timeout: 5000 });
    await staysAtMost(listener, 10);
    assert.equal(listener.connections("all"), 20);
    await closeAll([...removed, ...counted]);
  });

  test("tcp_max_connections_infinity", async () => {
    await using listener = await start({ transport: fx.make(), maxConnections: 10, protocol: idle });
    const clients = await connectMany(listener.port!, 20);
    await listener.waitForConnections("==", 10, { timeout: 5000 });
    listener.maxConnections = Infinity;
    assert.equal(listener.maxConnections, Infinity);
    await listener.waitForConnections("==", 20, { timeout: 5000 });
    await closeAll(clients);
  });

  test("tcp_set_max_connections: raising wakes acceptors, lowering kills nothing", async () => {
    await using listener = await start({ transport: fx.make(), maxConnections: 10, protocol: idle });
    const clients = await connectMany(listener.port!, 20);
    await listener.waitForConnections("==", 10, { timeout: 5000 });
    listener.maxConnections = 20;
    await listener.waitForConnections("==", 20, { timeout: 5000 });
    listener.maxConnections = 5;
    assert.equal(listener.maxConnections, 5);
    assert.equal(listener.connections("active"), 20);
    await closeAll(clients);
    await listener.waitForConnections("==", 0, { timeout: 5000 });
  });

  test("tcp_remove_connections: removeFromCount is idempotent", async () => {
    await using listener = await start({
      transport: fx.make(),
      protocol: async (conn) => {
        conn.removeFromCount();
        conn.removeFromCount();
        await idle(conn);
      },
    });
    const clients = await connectMany(listener.port!, 10);
    await waitAll(listener, 10);
    assert.equal(listener.connections("active"), 0);
    await closeAll(clients);
  });

  test("tcp_remove_connections_acceptor_wakeup", async () => {
    const remove = signal();
    await using listener = await start({
      transport: fx.make(),
      numAcceptors: 1,
      maxConnections: 1,
      protocol: async (conn) => {
        const socket = await conn.handshake();
        await socket.send("hello");
        if (conn.id === 1) {
          await remove.promise;
          conn.removeFromCount();
        }
        await socket.recv(0);
      },
    });
    const first = await fx.connect(listener);
    assert.equal(text(await first.recv(5)), "hello");
    const second = await fx.connect(listener);
    await staysAtMost(listener, 1);
    remove.resolve();
    assert.equal(text(await second.recv(5, { timeout: 5000 })), "hello");
    await closeAll([first, second]);
  });

  test("tcp_upgrade: protocol options apply to new connections only", async () => {
    await using listener = await start({
      transport: fx.make(),
      protocolOptions: { greeting: "v1" },
      protocol: async (conn, options: { greeting: string }) => {
        const socket = await conn.handshake();
        await socket.send(options.greeting);
        await socket.recv(0);
      },
    });
    const old = await fx.connect(listener);
    assert.equal(text(await old.recv(2)), "v1");
    const live = { greeting: "v2" };
    listener.protocolOptions = live;
    assert.equal(listener.protocolOptions, live, "options are kept by reference");
    const fresh = await fx.connect(listener);
    assert.equal(text(await fresh.recv(2)), "v2");
    await closeAll([old, fresh]);
  });

  test("tcp_error_eaddrinuse", async () => {
    await using taken = await start({ transport: fx.make(), protocol: idle });
    const error = await start({
      ref: "second",
      transport: tcp({ host: "127.0.0.1", port: taken.port! }),
      protocol: idle,
    })
      .catch((e) => e);
    assert.ok(error instanceof ListenError, `expected ListenError, got ${error}`);
    assert.equal(error.code, "EADDRINUSE");
    assert.match(error.message, new RegExp(String(taken.port)));
    assert.equal(getListener("second"), undefined, "a failed listen leaves no registry entry");
  });

  test("duplicate ref is rejected", async () => {
    await using first = await start({ ref: "dup", transport: fx.make(), protocol: idle });
    const error = await start({ ref: "dup", transport: fx.make(), protocol: idle }).catch((e) => e);
    assert.ok(error instanceof ListenError);
    assert.equal(error.code, "EREFINUSE");
    assert.equal(getListener("dup"), first);
  });

  test("misc_info", async () => {
    await using listener = await start({
      ref: "misc_info",
      transport: tcp({ host: "127.0.0.1" }),
      numAcceptors: 3,
      maxConnections: 7,
      protocol: idle,
    });
    const client = await fx.connect(listener);
    await listener.waitForConnections("==", 1, { timeout: 5000 });
    const snapshot = info().find((entry) => entry.ref === "misc_info")!;
    assert.deepEqual(snapshot, listener.info());
    assert.equal(snapshot.status, "running");
    assert.equal(snapshot.transport, "tcp");
    assert.deepEqual(snapshot.transportOptions, { host: "127.0.0.1" });
    assert.deepEqual(snapshot.address, { address: "127.0.0.1", port: listener.port, family: "IPv4" });
    assert.equal(snapshot.numAcceptors, 3);
    assert.equal(snapshot.numListenSockets, 1);
    assert.equal(snapshot.maxConnections, 7);
    assert.equal(snapshot.activeConnections, 1);
    assert.equal(snapshot.allConnections, 1);
    assert.ok(listeners().includes(listener as never));
    await client.close();
  });

  test("misc_metrics: accepted, terminated and failed", async () => {
    const logger = new RecordingLogger();
    await using listener = await start({
      transport: fx.make(),
      logger,
      protocol: async (conn) => {
        const socket = await conn.handshake();
        const line = text(await socket.recv(0));
        if (line === "crash") throw new Error("asked to crash");
        await socket.send("fine");
      },
    });
    for (const word of ["a", "crash", "b", "crash", "c"]) {
      const client = await fx.connect(listener);
      await client.send(word);
      await client.recv(0); // "fine", or null after the crash closed it
      await client.close();
    }
    await listener.waitForConnections("==", 0, { timeout: 5000 });
    await waitFor(() => listener.info().terminated === 5);
    const { accepted, terminated, failed } = listener.info();
    assert.deepEqual({ accepted, terminated, failed }, { accepted: 5, terminated: 5, failed: 2 });
    assert.equal(logger.at("error").length, 2);
  });

  test("misc_wait_for_connections", async () => {
    await using listener = await start({ transport: fx.make(), protocol: idle });
    await listener.waitForConnections("==", 0);
    await listener.waitForConnections("<", 1);
    await assert.rejects(listener.waitForConnections(">", 0, { timeout: 30 }), TimeoutError);
    const waiting = listener.waitForConnections(">=", 2, { timeout: 5000 });
    const clients = await connectMany(listener.port!, 2);
    await waiting;
    await listener.waitForConnections("<=", 2);
    await assert.rejects(listener.waitForConnections("=" as never, 1), TypeError);
    await assert.rejects(listener.waitForConnections("==", -1), RangeError);
    await closeAll(clients);
    await listener.waitForConnections("==", 0, { timeout: 5000 });
  });

  test("misc_repeated_start_stop", async () => {
    let port = 0;
    for (let i = 0; i < 10; i++) {
      const listener = await start({ ref: "repeated", transport: tcp({ host: "127.0.0.1", port }), protocol: echo });
      port = listener.port!;
      const client = await fx.connect(listener);
      assert.equal(await roundTrip(client, `round ${i}`), `round ${i}`);
      await client.close();
      assert.equal(await listener.stop(), true);
      assert.equal(listener.status, "stopped");
      assert.equal(getListener("repeated"), undefined);
    }
  });

  test("misc_stop_unknown_listener", async () => {
    assert.equal(await stopListener("no such listener"), false);
    const listener = await start({ ref: "stop-twice", transport: fx.make(), protocol: idle });
    assert.equal(await stopListener("stop-twice"), true);
    assert.equal(await listener.stop(), false);
    await listener.resume(); // a stopped listener stays stopped
    assert.equal(listener.status, "stopped");
  });
});

suite("supervisor", () => {
  test("supervisor_protocol_start_link_crash: a throwing protocol leaves others untouched", async () => {
    const logger = new RecordingLogger();
    await using listener = await start({
      ref: "crashy",
      transport: fx.make(),
      logger,
      protocol: async (conn: Connection) => {
        const socket = await conn.handshake();
        const word = text(await socket.recv(0));
        if (word === "throw") throw new Error("boom");
        if (word === "reject") return Promise.reject(new Error("rejected"));
        await socket.send(word!);
        await echo(conn);
      },
    });
    const healthy = await fx.connect(listener);
    assert.equal(await roundTrip(healthy, "ok"), "ok");
    for (const word of ["throw", "reject"]) {
      const victim = await fx.connect(listener);
      await victim.send(word);
      assert.equal(await victim.recv(0, { timeout: 5000 }), null, "the failed connection is closed");
      await victim.close();
    }
    await waitFor(() => listener.info().failed === 2);
    assert.equal(listener.status, "running");
    assert.equal(await roundTrip(healthy, "still fine"), "still fine");
    const errors = logger.lines.filter((line) => line.level === "error");
    assert.equal(errors.length, 2);
    for (const line of errors) {
      assert.match(line.message, /\[crashy\]/);
      assert.match(line.message, /127\.0\.0\.1:\d+/);
    }
    assert.deepEqual(errors.map((line) => (line.details[0] as Error).message), ["boom", "rejected"]);
    await healthy.close();
  });

  test("a protocol that throws synchronously is isolated too", async () => {
    await using listener = await start({
      transport: fx.make(),
      protocol: () => {
        throw new Error("sync boom");
      },
    });
    const client = await fx.connect(listener);
    assert.equal(await client.recv(0, { timeout: 5000 }), null);
    await client.close();
    await waitFor(() => listener.info().failed === 1);
  });
});

/** Waits until every one of `n` connections has started (removed ones included). */
async function waitAll(listener: { connections: (k: "all") => number }, n: number): Promise<void> {
  await waitFor(() => listener.connections("all") === n);
}

suite("release", () => {
  test("a finished connection whose peer never reads is dropped after its linger", async () => {
    const finished = signal<Socket>();
    await using listener = await start({
      transport: fx.make(),
      protocol: async (conn) => {
        const socket = await conn.handshake();
        // 32 MiB queued without waiting: far more than the kernel buffers hold, so
        // the close can never finish flushing to a client that reads nothing.
        const chunk = new Uint8Array(1024 * 1024);
        for (let i = 0; i < 32; i++) socket.send(chunk).catch(() => {});
        finished.resolve(socket);
      },
    });
    const client = await fx.connect(listener);
    const socket = await finished.promise;
    await listener.waitForConnections("==", 0, { timeout: 5000 });
    const released = performance.now();
    await socket.closed; // without the linger, this never resolves while the client reads nothing
    assert.ok(performance.now() - released >= CLOSE_LINGER_MS - 1000, "dropped before the linger ran out");
    client.destroy();
  }, { timeout: 30_000 });
});
