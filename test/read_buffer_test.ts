/**
 * The Deno adapter's adaptive read buffer (pure code, so checked on every
 * runtime): a chunk handed over is never written by a later read, full
 * reads grow the buffer up to its limit, and a connection that goes quiet
 * waits on a small one again. Reads are simulated by filling the buffer
 * `next()` returns, as `conn.read` would.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { MAX_READ_SIZE, MIN_READ_SIZE, ReadBuffer } from "../src/runtime/deno/read_buffer.ts";
import { suite, test } from "./_harness.ts";

/** What `conn.read(buffer)` does with `n` bytes: fills the front of the buffer with `value`. */
function read(buffer: ReadBuffer, n: number, value: number): Uint8Array {
  const target = buffer.next();
  const count = Math.min(n, target.length);
  target.fill(value, 0, count);
  return buffer.take(count);
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
        }
      }),
      { numRuns: 200 },
    );
  });

  test("full reads double the buffer up to MAX_READ_SIZE, and no further", () => {
    const buffer = new ReadBuffer();
    const sizes: number[] = [];
    for (let i = 0; i < 16; i++) sizes.push(read(buffer, Infinity, 1).length);
    assert.equal(sizes[0], MIN_READ_SIZE);
    for (let i = 1; i < sizes.length; i++) assert.equal(sizes[i], Math.min(sizes[i - 1]! * 2, MAX_READ_SIZE));
    assert.equal(sizes.at(-1), MAX_READ_SIZE);
  });

  test("a stream that slows to small reads ends up reading into a small buffer", () => {
    const buffer = new ReadBuffer();
    while (read(buffer, Infinity, 1).length < MAX_READ_SIZE);
    for (let i = 0; i < 64; i++) read(buffer, 10, 2);
    assert.ok(buffer.next().length <= MIN_READ_SIZE, `still reading into ${buffer.next().length} bytes`);
  });
});
