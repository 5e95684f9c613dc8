/**
 * `socket.sendfile()` on every transport (tcp, tcp6, unix, memory, tls):
 * whole files and ranges arrive byte for byte, a file much larger than the
 * high-water mark waits for a slow reader without being read ahead, and
 * missing files, bad options and closed sockets fail with the documented
 * errors. Files live in a temporary folder each test makes and removes.
 */
import assert from "node:assert/strict";
import { mkdtemp, open, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { ClosedError, CorralError, type Listener, memory, type Socket } from "../mod.ts";
import { tls } from "../transports/tls.ts";
import { PrefixedSocket } from "../src/proxy/_prefixed_socket.ts";
import { suite, test } from "./_harness.ts";
import {
  concatBytes,
  isPending,
  nextTurn,
  pattern,
  readAll,
  sameBytes,
  signal,
  start,
  text,
  type TransportFixture,
  transports,
} from "./_fixtures.ts";
import { connectTls, opensslMissing, serverOptions } from "./_certs.ts";

const tlsFixture: TransportFixture = {
  name: "tls",
  secure: true,
  make: () => tls(serverOptions()),
  connect: (listener) => connectTls(listener),
};

const MiB = 1024 * 1024;

/** Runs `body` with a fresh temporary folder, removed afterwards. */
async function withTempDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "corral-sendfile-"));
  try {
    await body(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** What the server's protocol body returned, or what it threw. */
type Outcome<T> = { value: T } | { error: unknown };

/**
 * A listener whose one connection runs `body` on the server socket, and a
 * client connected to it; `outcome` settles with what `body` did.
 */
async function serve<T>(
  fx: TransportFixture,
  body: (socket: Socket) => Promise<T>,
): Promise<{ listener: Listener<unknown>; client: Socket; outcome: Promise<Outcome<T>> }> {
  const done = signal<Outcome<T>>();
  const listener = await start({
    transport: fx.make(),
    protocol: async (conn) => {
      const socket = await conn.handshake();
      try {
        done.resolve({ value: await body(socket) });
      } catch (error) {
        done.resolve({ error });
      }
    },
  });
  return { listener, client: await fx.connect(listener), outcome: done.promise };
}

function valueOf<T>(outcome: Outcome<T>): T {
  if ("error" in outcome) throw outcome.error;
  return outcome.value;
}

/** Whether `promise` stays pending over many timer turns (I/O callbacks run in between). */
async function stillPending(promise: Promise<unknown>): Promise<boolean> {
  for (let turn = 0; turn < 50; turn++) {
    await nextTurn();
    if (!(await isPending(promise))) return false;
  }
  return true;
}

for (const fx of [...transports, tlsFixture]) {
  const skip = fx === tlsFixture ? opensslMissing : false;

  suite(`sendfile over ${fx.name}`, () => {
    test("a whole file arrives byte for byte; the promise resolves with its size", async () => {
      await withTempDir(async (dir) => {
        const data = pattern(MiB + 123, 11);
        const path = join(dir, "whole.bin");
        await writeFile(path, data);
        const { listener, client, outcome } = await serve(fx, (socket) => socket.sendfile(path));
        await using _listener = listener;
        assert.ok(sameBytes(await readAll(client), data), "the bytes received differ from the file");
        assert.equal(valueOf(await outcome), data.length);
        await client.close();
      });
    }, { skip });

    test("offset and length send exactly that range, also from a file: URL", async () => {
      await withTempDir(async (dir) => {
        const size = 600_000;
        const data = pattern(size, 12);
        const path = join(dir, "ranges.bin");
        await writeFile(path, data);
        const ranges = [
          { offset: 0, length: 10 },
          { offset: 1000, length: 300_001 },
          { offset: size - 5 }, // to the end
          { length: 7 }, // offset 0
          { offset: 7, length: size }, // past the end: what there is
          { offset: size + 10, length: 5 }, // wholly past the end: nothing
        ];
        const expected = ranges.map(({ offset = 0, length = size }) => data.subarray(offset, offset + length));
        const { listener, client, outcome } = await serve(fx, async (socket) => {
          const counts: number[] = [];
          for (const [i, range] of ranges.entries()) {
            counts.push(await socket.sendfile(i === 1 ? pathToFileURL(path) : path, range));
          }
          return counts;
        });
        await using _listener = listener;
        assert.ok(sameBytes(await readAll(client), concatBytes(expected)), "the ranges received differ");
        assert.deepEqual(valueOf(await outcome), expected.map((part) => part.length));
        await client.close();
      });
    }, { skip });

    test("length 0 sends nothing and resolves 0", async () => {
      await withTempDir(async (dir) => {
        const path = join(dir, "zero.bin");
        await writeFile(path, pattern(1000, 13));
        const { listener, client, outcome } = await serve(fx, async (socket) => {
          const sent = [
            await socket.sendfile(path, { length: 0 }),
            await socket.sendfile(path, { offset: 500, length: 0 }),
          ];
          await socket.send("end");
          return sent;
        });
        await using _listener = listener;
        assert.equal(text(await readAll(client)), "end");
        assert.deepEqual(valueOf(await outcome), [0, 0]);
        await client.close();
      });
    }, { skip });

    test("a file far larger than the high-water mark waits for a slow reader and is not read ahead", async () => {
      // Past the bytes that can be in flight: the kernel's socket buffers
      // (tcp_wmem's 4 MiB at most for the sender, a window the paused reader
      // never grows), the high-water marks and two chunks read ahead.
      const size = fx.name === "memory" ? 8 * MiB : 24 * MiB;
      const cut = size / 2 + (fx.name === "memory" ? 0 : 4 * MiB);
      await withTempDir(async (dir) => {
        const original = pattern(size, 14);
        const path = join(dir, "large.bin");
        await writeFile(path, original);
        const started = signal<{ sending: Promise<number> }>();
        const { listener, client, outcome } = await serve(fx, (socket) => {
          const sending = socket.sendfile(path);
          started.resolve({ sending });
          return sending;
        });
        await using _listener = listener;
        const { sending } = await started.promise;
        assert.ok(await stillPending(sending), "sendfile resolved while the reader read nothing");
        // Rewrite the file's tail: a sender that had read it already would send the old bytes.
        const replacement = pattern(size - cut, 15);
        const file = await open(path, "r+");
        try {
          await file.write(replacement, 0, replacement.length, cut);
        } finally {
          await file.close();
        }
        assert.ok(await isPending(sending), "sendfile resolved while the reader read nothing");
        const received = await readAll(client);
        assert.equal(received.length, size);
        assert.ok(sameBytes(received.subarray(0, cut), original.subarray(0, cut)), "the head differs");
        assert.ok(sameBytes(received.subarray(cut), replacement), "the tail was read before the reader caught up");
        assert.equal(valueOf(await outcome), size);
        await client.close();
      });
    }, { skip, timeout: 60_000 });

    test("a missing file rejects with code ENOENT, a folder with EISDIR; the socket still works", async () => {
      await withTempDir(async (dir) => {
        const { listener, client, outcome } = await serve(fx, async (socket) => text(await readAll(socket)));
        await using _listener = listener;
        const missing = join(dir, "missing.bin");
        await assert.rejects(client.sendfile(missing), (error: unknown) => {
          assert.ok(error instanceof CorralError && !(error instanceof ClosedError), String(error));
          assert.equal(error.code, "ENOENT");
          assert.ok(error.message.includes(missing), error.message);
          return true;
        });
        await assert.rejects(client.sendfile(pathToFileURL(missing), { length: 0 }), { code: "ENOENT" });
        await assert.rejects(client.sendfile(dir), (error: unknown) => {
          assert.ok(error instanceof CorralError && error.code === "EISDIR", String(error));
          return true;
        });
        // Nothing to read, nothing to fail: the same on every runtime.
        assert.equal(await client.sendfile(dir, { length: 0 }), 0);
        await client.send("ok");
        await client.shutdown("write");
        assert.equal(valueOf(await outcome), "ok", "a failed sendfile sent bytes");
        await client.close();
      });
    }, { skip });

    test("bad options reject with TypeError or RangeError naming them, and send nothing", async () => {
      await withTempDir(async (dir) => {
        const path = join(dir, "options.bin");
        await writeFile(path, pattern(100, 16));
        const { listener, client, outcome } = await serve(fx, async (socket) => text(await readAll(socket)));
        await using _listener = listener;
        const rangeError = (name: string) => (error: unknown) =>
          error instanceof RangeError && error.message.includes(`option ${name}`);
        const typeError = (pattern: RegExp) => (error: unknown) =>
          error instanceof TypeError && pattern.test(error.message);
        for (const offset of [-1, 1.5, Infinity, 2 ** 53]) {
          await assert.rejects(client.sendfile(path, { offset }), rangeError("offset"), `offset ${offset}`);
        }
        for (const length of [-1, 0.5, Infinity]) {
          await assert.rejects(client.sendfile(path, { length }), rangeError("length"), `length ${length}`);
        }
        await assert.rejects(client.sendfile(path, { offset: 2 ** 52, length: 2 ** 52 }), rangeError("length"));
        await assert.rejects(client.sendfile(path, { offset: "1" as unknown as number }), typeError(/option offset/));
        await assert.rejects(client.sendfile(path, { offest: 1 } as never), typeError(/"offest"/));
        await assert.rejects(client.sendfile(path, 5 as never), typeError(/options/));
        for (const file of ["", 42, new URL("https://example.com/file.bin")]) {
          await assert.rejects(client.sendfile(file as string), typeError(/sendfile\(file\)/), String(file));
        }
        await client.send("ok");
        await client.shutdown("write");
        assert.equal(valueOf(await outcome), "ok");
        await client.close();
      });
    }, { skip });

    test("a closed socket rejects with ClosedError, before the file is even opened", async () => {
      await withTempDir(async (dir) => {
        const path = join(dir, "closed.bin");
        await writeFile(path, pattern(1000, 17));
        const { listener, client, outcome } = await serve(fx, async (socket) => {
          await socket.shutdown("write");
          await assert.rejects(socket.sendfile(path), ClosedError);
          return text(await readAll(socket));
        });
        await using _listener = listener;
        assert.equal(await client.recv(), null, "the server's shutdown(write) ends the stream");
        await client.send("still open");
        await client.close();
        assert.equal(valueOf(await outcome), "still open");
        await assert.rejects(client.sendfile(path), ClosedError);
        await assert.rejects(client.sendfile(join(dir, "missing.bin")), ClosedError);
      });
    }, { skip });

    test("a peer that goes away mid-transfer fails the sendfile with ClosedError", async () => {
      await withTempDir(async (dir) => {
        const path = join(dir, "abandoned.bin");
        await writeFile(path, pattern(24 * MiB, 18));
        const { listener, client, outcome } = await serve(fx, (socket) => socket.sendfile(path));
        await using _listener = listener;
        assert.ok((await client.recv(0, { timeout: 10_000 }))!.length > 0);
        client.destroy();
        const result = await outcome;
        assert.ok("error" in result, "sendfile resolved though its peer left");
        assert.ok(result.error instanceof ClosedError, String(result.error));
      });
    }, { skip, timeout: 60_000 });
  });
}

suite("sendfile", () => {
  test("a PROXY-prefixed socket sends the file through the socket underneath", async () => {
    await withTempDir(async (dir) => {
      const data = pattern(300_000, 19);
      const path = join(dir, "prefixed.bin");
      await writeFile(path, data);
      const { listener, client, outcome } = await serve(
        { name: "memory", make: () => memory(), connect: (l) => memory().connect(l.address as { name: string }) },
        (socket) => new PrefixedSocket(socket, new Uint8Array([1])).sendfile(path, { offset: 5 }),
      );
      await using _listener = listener;
      assert.ok(sameBytes(await readAll(client), data.subarray(5)));
      assert.equal(valueOf(await outcome), data.length - 5);
      await client.close();
    });
  });
});
