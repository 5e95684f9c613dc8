/**
 * The transport conformance cases: every Socket behaviour, defined once and
 * registered for any transport fixture (see socket_conformance_test.ts).
 */
import assert from "node:assert/strict";
import { ClosedError, type Connection, type Protocol, type Socket, TimeoutError } from "../mod.ts";
import { test as harnessTest, type TestBody } from "./_harness.ts";
import { defineFramingCases } from "./_conformance_framing.ts";
import {
  activeEcho as iteratingEcho,
  bytes,
  echo as pullEcho,
  idle,
  isPending,
  nextTurn,
  pattern,
  readAll,
  roundTrip,
  sameBytes,
  signal,
  start,
  text,
  type TransportFixture,
} from "./_fixtures.ts";

/** The cases whose server is an echo: the ones that run over another echo's shape too. */
export const ECHO_CASES: readonly string[] = [
  "echo round trip with recv(0)",
  "4 MiB echoed intact while both sides stream",
  "recv returns null at end of stream and async iteration ends",
  "recv rejects with TimeoutError and the socket stays usable",
  "setOptions accepts noDelay and keepAlive",
];

/** How to run the suite: another echo protocol (`handler()`-shaped), and only its echo cases. */
export interface ConformanceOptions {
  echo?: Protocol;
  onlyEchoCases?: boolean;
}

/** Registers every conformance case for one transport fixture. */
export function defineConformance(fx: TransportFixture, options: ConformanceOptions = {}): void {
  const test = (name: string, body: TestBody) => {
    if (options.onlyEchoCases && !ECHO_CASES.includes(name)) return;
    harnessTest(name, body, { skip: fx.skip?.(name) });
  };
  const echo = options.echo ?? pullEcho;
  const activeEcho = options.echo ?? iteratingEcho;
  test("echo round trip with recv(0)", async () => {
    await using listener = await start({ transport: fx.make(), protocol: echo });
    const client = await fx.connect(listener);
    await client.send("hello");
    let got = "";
    while (got.length < 5) got += text(await client.recv(0, { timeout: 5000 }));
    assert.equal(got, "hello");
    await client.close();
  });

  test("recv(n) returns exactly n bytes and keeps the rest", async () => {
    await using listener = await start({
      transport: fx.make(),
      protocol: async (conn) => {
        const socket = await conn.handshake();
        await socket.send("hello world!");
        await socket.recv(0);
      },
    });
    const client = await fx.connect(listener);
    assert.equal(text(await client.recv(5)), "hello");
    assert.equal(text(await client.recv(1)), " ");
    assert.equal(text(await client.recv(6)), "world!");
    await client.close();
  });

  test("recv(n) assembles n bytes from many small sends", async () => {
    await using listener = await start({
      transport: fx.make(),
      protocol: async (conn) => {
        const socket = await conn.handshake();
        for (const part of ["ab", "c", "defg", "h"]) await socket.send(part);
        await socket.recv(0);
      },
    });
    const client = await fx.connect(listener);
    assert.equal(text(await client.recv(8, { timeout: 5000 })), "abcdefgh");
    await client.close();
  });

  test("4 MiB echoed intact while both sides stream", async () => {
    await using listener = await start({ transport: fx.make(), protocol: echo });
    const client = await fx.connect(listener);
    const data = pattern(4 * 1024 * 1024, 7);
    const sending = (async () => {
      for (let offset = 0; offset < data.length; offset += 65536) {
        await client.send(data.subarray(offset, offset + 65536));
      }
      await client.shutdown("write");
    })();
    const received = await readAll(client);
    await sending;
    assert.equal(received.length, data.length);
    assert.ok(sameBytes(received, data), "echoed bytes differ from the bytes sent");
    await client.close();
  });

  test("recv returns null at end of stream and async iteration ends", async () => {
    await using listener = await start({ transport: fx.make(), protocol: activeEcho });
    const client = await fx.connect(listener);
    await client.send("one ");
    await client.send("two");
    await client.shutdown("write");
    assert.equal(text(await readAll(client)), "one two");
    assert.equal(await client.recv(0), null);
    await client.close();
  });

  test("shutdown(write) half-closes: the peer reads EOF and can still reply", async () => {
    await using listener = await start({
      transport: fx.make(),
      protocol: async (conn) => {
        const socket = await conn.handshake();
        const received = await readAll(socket);
        await socket.send(`got ${received.length} bytes`);
      },
    });
    const client = await fx.connect(listener);
    await client.send("12345");
    await client.shutdown("write");
    await assert.rejects(client.send("late"), ClosedError);
    assert.equal(text(await readAll(client)), "got 5 bytes");
    await client.close();
  });

  test("recv rejects with TimeoutError and the socket stays usable", async () => {
    await using listener = await start({ transport: fx.make(), protocol: echo });
    const client = await fx.connect(listener);
    const error = await client.recv(0, { timeout: 20 }).catch((e) => e);
    assert.ok(error instanceof TimeoutError, `expected TimeoutError, got ${error}`);
    assert.equal(error.code, "ETIMEDOUT");
    assert.equal(await roundTrip(client, "still here"), "still here");
    await client.close();
  });

  test("recv(n) that ends early rejects with ClosedError, keeping the bytes", async () => {
    await using listener = await start({
      transport: fx.make(),
      protocol: async (conn) => {
        const socket = await conn.handshake();
        await socket.send("abc");
        await socket.shutdown("write");
        await socket.recv(0);
      },
    });
    const client = await fx.connect(listener);
    await assert.rejects(client.recv(10, { timeout: 5000 }), ClosedError);
    assert.equal(text(await client.recv(0)), "abc");
    assert.equal(await client.recv(0), null);
    await client.close();
  });

  test("misuse: bad length and concurrent recv are rejected", async () => {
    await using listener = await start({ transport: fx.make(), protocol: idle });
    const client = await fx.connect(listener);
    await assert.rejects(client.recv(-1), RangeError);
    await assert.rejects(client.recv(1.5), RangeError);
    const pending = client.recv(0);
    await assert.rejects(client.recv(0), TypeError);
    await client.close();
    assert.equal(await pending, null);
  });

  test("send waits while the peer does not read, and nothing is lost", async () => {
    const startReading = signal();
    await using listener = await start({
      transport: fx.make(),
      protocol: async (conn) => {
        const socket = await conn.handshake();
        await startReading.promise;
        const received = await readAll(socket);
        await socket.send(String(received.length));
      },
    });
    const client = await fx.connect(listener);
    const chunk = pattern(65536, 3);
    let sent = 0;
    let blocked: Promise<void> | undefined;
    // A bounded loop: 1 GiB at most, far beyond any kernel or window buffer.
    for (let i = 0; i < 16384; i++) {
      const sending = client.send(chunk);
      sent += chunk.length;
      if (await isPending(sending)) {
        if (await stillPending(sending)) {
          blocked = sending;
          break;
        }
      }
      await sending;
    }
    assert.ok(blocked !== undefined, `send never waited after ${sent} bytes`);
    assert.ok(sent < 64 * 1024 * 1024, `sender queued ${sent} bytes before waiting`);
    startReading.resolve();
    await blocked;
    await client.shutdown("write");
    assert.equal(text(await client.recv(0, { timeout: 10000 })), String(sent));
    await client.close();
  });

  test("a closed peer ends the stream; send after close rejects", async () => {
    await using listener = await start({
      transport: fx.make(),
      protocol: async (conn) => {
        const socket = await conn.handshake();
        await socket.send("bye");
      },
    });
    const client = await fx.connect(listener);
    assert.equal(text(await readAll(client)), "bye");
    await client.close();
    await client.closed;
    await assert.rejects(client.send("x"), ClosedError);
  });

  test("peername and sockname describe both ends", async () => {
    const seen = signal<{ peer: unknown; local: unknown }>();
    await using listener = await start({
      transport: fx.make(),
      protocol: async (conn) => {
        const socket = await conn.handshake();
        seen.resolve({ peer: socket.peername(), local: socket.sockname() });
        await socket.recv(0);
      },
    });
    const client = await fx.connect(listener);
    const server = await seen.promise;
    assert.deepEqual(server.local, listener.address);
    assert.deepEqual(client.peername(), listener.address);
    const local = client.sockname();
    if ("port" in local) {
      assert.deepEqual(server.peer, local);
      assert.ok(local.port > 0);
    }
    const secure = fx.secure ?? false;
    assert.equal(client.secure, secure);
    if (!secure) assert.equal(client.tls, undefined);
    await client.close();
  });

  test("setOptions accepts noDelay and keepAlive", async () => {
    await using listener = await start({ transport: fx.make(), protocol: echo });
    const client = await fx.connect(listener);
    await client.setOptions({ noDelay: false, keepAlive: true });
    await client.setOptions({ noDelay: true, keepAlive: false });
    assert.equal(await roundTrip(client, "opts"), "opts");
    await client.close();
  });

  test("readable and writable Web Streams carry the bytes", async () => {
    await using listener = await start({
      transport: fx.make(),
      protocol: async (conn: Connection) => {
        const socket = await conn.handshake();
        await socket.readable.pipeTo(socket.writable);
      },
    });
    const client = await fx.connect(listener);
    const writer = client.writable.getWriter();
    await writer.write(bytes("web "));
    await writer.write(bytes("streams"));
    await writer.close();
    const reader = client.readable.getReader();
    let got = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      got += text(value);
    }
    assert.equal(got, "web streams");
    await client.close();
  });

  test("close() flushes what was sent before closing", async () => {
    const size = 2 * 1024 * 1024;
    await using listener = await start({
      transport: fx.make(),
      protocol: async (conn) => {
        const socket = await conn.handshake();
        await socket.send(pattern(size, 9));
        // Returning closes the socket: the supervisor must not drop queued bytes.
      },
    });
    const client: Socket = await fx.connect(listener);
    const received = await readAll(client);
    assert.ok(sameBytes(received, pattern(size, 9)), `got ${received.length} of ${size} bytes`);
    await client.close();
  });

  test("a socket closes by itself once both directions have ended", async () => {
    await using listener = await start({
      transport: fx.make(),
      protocol: async (conn) => {
        const socket = await conn.handshake();
        await socket.send("last words");
        await socket.shutdown("write");
        await readAll(socket);
        await socket.closed; // no close() call: the peer's end of stream finishes it
      },
    });
    const client = await fx.connect(listener);
    assert.equal(text(await readAll(client)), "last words");
    await client.shutdown("write");
    await client.closed;
    await listener.waitForConnections("==", 0, { timeout: 5000 });
  });

  defineFramingCases(fx, test);
}

/** A send still pending after many event-loop turns is waiting for the peer. */
async function stillPending(sending: Promise<void>): Promise<boolean> {
  for (let turn = 0; turn < 50; turn++) {
    await nextTurn();
    if (!(await isPending(sending))) return false;
  }
  return true;
}
