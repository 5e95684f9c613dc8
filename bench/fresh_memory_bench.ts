/**
 * What a chunk its reader owns costs, apart from any socket: filling a
 * fresh 64 KiB buffer per chunk (what a socket must do when each chunk it
 * hands out is the reader's to keep, as Corral's are) against refilling
 * one buffer again and again (what a raw read loop that reuses its buffer
 * does). The difference is fresh memory: allocating, zeroing and first
 * touching it, and collecting it again.
 *
 *   node bench/fresh_memory_bench.ts (Node.js 24) | deno run bench/fresh_memory_bench.ts | bun run bench/fresh_memory_bench.ts
 *
 * Prints one JSON line: µs per 64 KiB chunk for each way, medians of 5 runs.
 *
 * @module
 */

const CHUNK = 64 * 1024;
const CHUNKS = 20_000;
const RUNS = 5;

const source = new Uint8Array(CHUNK).fill(7);

/** µs per chunk to fill `CHUNKS` chunks, each a new buffer when `fresh`. */
function fill(fresh: boolean): number {
  let buffer = new Uint8Array(CHUNK);
  let checksum = 0;
  const start = performance.now();
  for (let i = 0; i < CHUNKS; i++) {
    if (fresh) buffer = new Uint8Array(CHUNK);
    buffer.set(source);
    checksum += buffer[i % CHUNK]!; // keeps the work observable
  }
  const elapsed = performance.now() - start;
  if (checksum !== 7 * CHUNKS) throw new Error("the buffers were not filled");
  return (elapsed * 1000) / CHUNKS;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[sorted.length >> 1]!;
}

const reused: number[] = [];
const fresh: number[] = [];
for (let run = 0; run < RUNS; run++) {
  reused.push(fill(false));
  fresh.push(fill(true));
}
const round = (value: number) => Math.round(value * 100) / 100;
console.log(JSON.stringify({ reusedUs: round(median(reused)), freshUs: round(median(fresh)) }));
