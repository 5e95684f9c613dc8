/**
 * The Deno adapter's read buffer (pure code, so checked on every runtime):
 * a chunk handed over is never written by a later read and is all of its
 * own ArrayBuffer, full reads grow the buffer up to its limit, it never gets
 * smaller than `MIN_READ_SIZE` and shrinks only after several small reads
 * in a row. Reads are simulated by filling the buffer `next()` returns, as
 * `conn.read` would. Then the property the sizing exists for, over real
 * sockets on every runtime: a batch the peer writes at once arrives as one
 * chunk.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { type Connection, tcp, unix } from "../mod.ts";
import { MAX_READ_SIZE, MIN_READ_SIZE, ReadBuffer, SHRINK_AFTER } from "../src/runtime/deno/read_buffer.ts";
import { suite, test } from "./_harness.ts";
import { pattern, sameBytes, socketPath, start } from "./_fixtures.ts";

/** What `conn.read(buffer)` does when the kernel holds `n` bytes: fills the front of the buffer with `value`. */
function read(buffer: ReadBuffer, n: number, value: number): Uint8Array {
  const target = buffer.next();
  const count = Math.min(n, target.length);
  target.fill(value, 0, count);
  return buffer.take(count);
}

/** Grows a buffer to `MAX_READ_SIZE` with full reads. */
function grown(): ReadBuffer {
  const buffer = new ReadBuffer();
  while (read(buffer, Infinity, 1).length < MAX_READ_SIZE);
  return buffer;
}

suite("deno read buffer", () => {
  test("chunks handed over keep their bytes whatever later reads do", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 300_000 }), { minLength: 1, maxLength: 60 }), (sizes) => {
        const buffer = new ReadBuffer();
        const taken: { chunk: Uint8Array; value: number }[] = [];
        sizes.forEach((size, i) => taken.push({ chunk: read(buffer, size, i % 251), value: i % 251 }));
        for (const { chunk, value } of taken) {
          assert.ok(chunk.length > 0);
          assert.ok(chunk.every((byte) => byte === value), "a later read wrote into a chunk already handed over");
          // Each chunk is all of its own ArrayBuffer: transferring it detaches no other chunk.
          assert.equal(chunk.byteOffset, 0);
          assert.equal(chunk.buffer.byteLength, chunk.length);
        }
      }),
      { numRuns: 200 },
    );
  });

  test("whatever came before, a read of up to MIN_READ_SIZE bytes is one chunk", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 300_000 }), { maxLength: 80 }),
        fc.integer({ min: 1, max: MIN_READ_SIZE }),
        (before, batch) => {
          const buffer = new ReadBuffer();
          for (const size of before) read(buffer, size, 1);
          assert.ok(buffer.next().length >= MIN_READ_SIZE, `reading into ${buffer.next().length} bytes`);
          assert.equal(read(buffer, batch, 2).length, batch);
        },
      ),
      { numRuns: 300 },
    );
  });

  test("full reads double the buffer up to MAX_READ_SIZE, and no further", () => {
    const buffer = new ReadBuffer();
    const sizes: number[] = [];
    for (let i = 0; i < 12; i++) sizes.push(read(buffer, Infinity, 1).length);
    assert.equal(sizes[0], MIN_READ_SIZE);
    for (let i = 1; i < sizes.length; i++) assert.equal(sizes[i], Math.min(sizes[i - 1]! * 2, MAX_READ_SIZE));
    assert.equal(sizes.at(-1), MAX_READ_SIZE);
  });

  test("a short read is handed on as a copy and the buffer is read into again", () => {
    const buffer = new ReadBuffer();
    const target = buffer.next();
    const chunk = read(buffer, 576, 3);
    assert.equal(chunk.length, 576);
    assert.notEqual(chunk.buffer, target.buffer, "a short read's chunk shares the read buffer's memory");
    assert.equal(buffer.next(), target);
  });

  test("a stream whose reads vary keeps its buffer; one that slows to small reads ends up at MIN_READ_SIZE", () => {
    const buffer = grown();
    const big = buffer.next();
    // Fewer than SHRINK_AFTER small reads in a row, broken by a large one: no new buffer.
    for (let round = 0; round < 20; round++) {
      for (let i = 1; i < SHRINK_AFTER; i++) read(buffer, 1000, 2);
      read(buffer, MAX_READ_SIZE / 2, 3);
    }
    assert.equal(buffer.next(), big);
    for (let i = 0; i < 64; i++) read(buffer, 10, 4);
    assert.equal(buffer.next().length, MIN_READ_SIZE);
  });
});

suite("read sizing over real sockets", () => {
  // A batch written at once (one write, below the loopback MTU) reaches the
  // receiving kernel whole, so a reader that reads what the kernel holds gets
  // it as one chunk: several would mean several parses and replies per batch.
  const BATCHES = [64, 576, 1500, MIN_READ_SIZE];
  const fixtures = [
    { name: "tcp", make: () => tcp({ host: "127.0.0.1", port: 0 }) },
    { name: "unix", make: () => unix({ path: socketPath() }) },
  ];
  for (const fixture of fixtures) {
    test(`${fixture.name}: a batch of up to ${MIN_READ_SIZE} bytes written at once arrives as one chunk`, async () => {
      const chunks: number[] = [];
      const recordingEcho = async (conn: Connection) => {
        const socket = await conn.handshake();
        for (let chunk = await socket.recv(0); chunk !== null; chunk = await socket.recv(0)) {
          chunks.push(chunk.length);
          await socket.send(chunk);
        }
      };
      await using listener = await start({ transport: fixture.make(), protocol: recordingEcho });
      const client = fixture.name === "tcp"
        ? await tcp().connect({ host: "127.0.0.1", port: listener.port! })
        : await unix().connect({ path: (listener.address as { path: string }).path });
      // Each batch is sent only once the one before it came back, so two can never merge.
      const sent: number[] = [];
      for (let round = 0; round < 5; round++) {
        for (const size of BATCHES) {
          const batch = pattern(size, round + size);
          await client.send(batch);
          assert.ok(sameBytes((await client.recv(size, { timeout: 5000 }))!, batch));
          sent.push(size);
        }
      }
      await client.close();
      assert.deepEqual(chunks, sent);
    });
  }
});
