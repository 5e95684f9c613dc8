/**
 * The memory transport's `window`, whatever the write size: a write larger
 * than the window reaches the reader in window-sized pieces as it takes
 * them, no `recv(0)` returns more than the window, and `send()` resolves
 * only once the reader has taken all but the sender's high-water mark (its
 * window). The same with and without fault options, set on the listener or
 * on `connect()`.
 */
import assert from "node:assert/strict";
import { type Connection, type Listener, memory, type MemoryConnectOptions, type MemoryOptions } from "../mod.ts";
import { VirtualClock } from "../testing.ts";
import { suite, test } from "./_harness.ts";
import { concatBytes, nextTurn, pattern, sameBytes, signal, start } from "./_fixtures.ts";

const WINDOW = 16;

interface WindowCase {
  name: string;
  /** Bytes of the one big write. */
  size: number;
  listen: () => MemoryOptions;
  connect: () => Omit<MemoryConnectOptions, "name">;
}

const cases: WindowCase[] = [
  { name: "on the listener", size: 1024 * 1024, listen: () => ({ window: WINDOW }), connect: () => ({}) },
  { name: "on connect()", size: 1024 * 1024, listen: () => ({}), connect: () => ({ window: WINDOW }) },
  {
    name: "on the listener, with fragments larger than the window and coalescing",
    size: 64 * 1024,
    listen: () => ({ window: WINDOW, seed: 31, fragment: { max: 100 }, coalesce: true }),
    connect: () => ({}),
  },
  {
    name: "on connect(), with fragments, coalescing and latency on a virtual clock",
    size: 64 * 1024,
    listen: () => ({ seed: 32, fragment: { max: 4000 } }),
    connect: () => ({ window: WINDOW, coalesce: true, latency: { min: 0, max: 3 }, scheduler: new VirtualClock() }),
  },
];

const nameOf = (listener: Listener<unknown>): string => (listener.address as { name: string }).name;

/** A listener whose protocol hands its socket to the test and holds the connection until the client leaves. */
async function serverSocket(options: MemoryOptions) {
  const accepted = signal<Awaited<ReturnType<Connection["handshake"]>>>();
  const listener = await start({
    transport: memory(options),
    protocol: async (conn) => {
      const socket = await conn.handshake();
      accepted.resolve(socket);
      await socket.closed;
    },
  });
  return { listener, accepted: accepted.promise };
}

/** A few turns of the event loop, for deliveries a real or virtual timer makes. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await nextTurn();
}

for (const c of cases) {
  suite(`memory window ${c.name}`, () => {
    test(`one send of ${c.size} bytes waits for the reader, and every recv(0) gets at most ${WINDOW}`, async () => {
      const { listener, accepted } = await serverSocket(c.listen());
      await using _ = listener;
      const client = await memory().connect({ name: nameOf(listener), ...c.connect() });
      const server = await accepted;
      const data = pattern(c.size, 7);
      let sent = false;
      const sending = client.send(data).then(() => void (sent = true));
      await settle();
      assert.equal(sent, false, "send() resolved while the reader had read nothing");
      const chunks: Uint8Array[] = [];
      let received = 0;
      let largest = 0;
      while (received < c.size) {
        const chunk = await server.recv(0, { timeout: 5000 });
        assert.ok(chunk !== null, `end of stream after ${received} bytes`);
        chunks.push(chunk);
        received += chunk.length;
        largest = Math.max(largest, chunk.length);
      }
      await sending;
      assert.ok(largest <= WINDOW, `a recv(0) returned ${largest} bytes through a ${WINDOW}-byte window`);
      assert.ok(chunks.length >= c.size / WINDOW, `${chunks.length} reads`);
      assert.ok(sameBytes(concatBytes(chunks), data), "the bytes arrived changed or out of order");
      await Promise.all([client.close(), server.close()]);
    });

    test(`send() resolves once the reader has taken all but the sender's ${WINDOW} bytes`, async () => {
      const { listener, accepted } = await serverSocket(c.listen());
      await using _ = listener;
      const client = await memory().connect({ name: nameOf(listener), ...c.connect() });
      const server = await accepted;
      const size = 64 * 1024;
      // Counted before each read: a send that resolves during a read counts that read as taken.
      let asked = 0;
      let askedWhenSent = -1;
      const sending = client.send(pattern(size, 3)).then(() => void (askedWhenSent = asked));
      while (asked < size) {
        asked += 4;
        assert.equal((await server.recv(4, { timeout: 5000 }))?.length, 4);
      }
      await sending;
      assert.ok(askedWhenSent >= size - WINDOW, `send() resolved when the reader had taken ${askedWhenSent} bytes`);
      assert.ok(askedWhenSent < size, "send() waited for the last window's bytes too: the high-water mark is lost");
      await Promise.all([client.close(), server.close()]);
    });

    test("both directions at once, reads larger than the window, small writes kept whole", async () => {
      const { listener, accepted } = await serverSocket(c.listen());
      await using _ = listener;
      const client = await memory().connect({ name: nameOf(listener), ...c.connect() });
      const server = await accepted;
      const upstream = pattern(4096, 11);
      const downstream = pattern(4096, 12);
      const [up, down] = await Promise.all([
        server.recv(upstream.length, { timeout: 5000 }),
        client.recv(downstream.length, { timeout: 5000 }),
        client.send(upstream),
        server.send(downstream),
      ]);
      assert.ok(up !== null && sameBytes(up, upstream) && down !== null && sameBytes(down, downstream));
      if (c.listen().fragment === undefined && c.connect().fragment === undefined) {
        // Without faults a write that fits the window is one read, even when the reader was behind;
        // the second write leaves 20 bytes untaken, over the sender's 16: it waits for the reader.
        await client.send(pattern(10, 1));
        let sent = false;
        const second = client.send(pattern(10, 2)).then(() => void (sent = true));
        await settle();
        assert.equal(sent, false, "20 bytes untaken, and send() resolved");
        assert.equal((await server.recv(0))?.length, 10);
        assert.equal((await server.recv(0))?.length, 10);
        await second;
      }
      await Promise.all([client.close(), server.close()]);
    });
  });
}
