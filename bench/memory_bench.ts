/**
 * In-process echo: Corral's `memory()` transport against a plain baseline,
 * on whichever runtime runs this file.
 *
 * - throughput: one connection, a writer sending 64 KiB chunks as fast as
 *   `send` allows while a reader counts the echoed bytes: MB/s (10^6 bytes).
 * - round trips: one connection, one 64-byte request in flight: round trips/s.
 *
 * The baseline does the same work a connected pair must do and nothing
 * else: two bounded byte queues (one per direction, 64 KiB like the memory
 * transport's window) that copy each written chunk (the writer may reuse
 * its buffer), hand it to a waiting reader directly, and make a writer wait
 * while the queue is full. The server side of both is the idiomatic loop:
 * read a chunk, await writing it back.
 *
 *   node bench/build/memory_bench.mjs | deno run -A bench/memory_bench.ts | bun run bench/memory_bench.ts
 *     [--seconds S] [--first baseline|corral]
 *
 * Prints one JSON line: `{"baseline":{"mbps","rtps"},"corral":{"mbps","rtps"}}`.
 *
 * @module
 */
import process from "node:process";
import { listen, memory, type Protocol } from "../mod.ts";

/** Both ends of a connection as the client loop uses them. */
interface Endpoint {
  send(chunk: Uint8Array): Promise<void>;
  recv(length?: number): Promise<Uint8Array | null>;
  shutdown(how: "write"): Promise<void>;
}

const WINDOW = 64 * 1024;
const RESOLVED: Promise<void> = Promise.resolve();

/** One direction of the baseline: a bounded queue of copied chunks. */
class BytePipe {
  #chunks: Uint8Array[] = [];
  #bytes = 0;
  #ended = false;
  #reader: ((chunk: Uint8Array | null) => void) | undefined;
  #writer: (() => void) | undefined;

  write(chunk: Uint8Array): Promise<void> {
    const copy = chunk.slice();
    const reader = this.#reader;
    if (reader !== undefined) {
      this.#reader = undefined;
      reader(copy);
      return RESOLVED;
    }
    this.#chunks.push(copy);
    this.#bytes += copy.length;
    if (this.#bytes < WINDOW) return RESOLVED;
    return new Promise((resolve) => (this.#writer = resolve));
  }

  read(): Promise<Uint8Array | null> {
    const chunk = this.#chunks.shift();
    if (chunk !== undefined) {
      this.#bytes -= chunk.length;
      const writer = this.#writer;
      if (writer !== undefined && this.#bytes < WINDOW) {
        this.#writer = undefined;
        writer();
      }
      return Promise.resolve(chunk);
    }
    if (this.#ended) return Promise.resolve(null);
    return new Promise((resolve) => (this.#reader = resolve));
  }

  end(): void {
    this.#ended = true;
    this.#reader?.(null);
    this.#reader = undefined;
  }
}

/** A connected baseline pair: the client's endpoint, with an echo loop running on the server end. */
function baselineConnection(): Endpoint {
  const up = new BytePipe();
  const down = new BytePipe();
  void (async () => {
    for (;;) {
      const chunk = await up.read();
      if (chunk === null) break;
      await down.write(chunk);
    }
    down.end();
  })();
  return {
    send: (chunk) => up.write(chunk),
    // The baseline hands back whole chunks; the round-trip loop reads exactly what it sent.
    recv: () => down.read(),
    shutdown: () => (up.end(), RESOLVED),
  };
}

const echo: Protocol = async (conn) => {
  const socket = await conn.handshake();
  for await (const chunk of socket) await socket.send(chunk);
};

function flag(name: string, fallback: string): string {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 && at + 1 < process.argv.length ? process.argv[at + 1]! : fallback;
}

/** Echoed bytes per second over one connection, measured for `seconds` after `warmup`. */
async function throughput(client: Endpoint, warmup: number, seconds: number): Promise<number> {
  const chunk = new Uint8Array(64 * 1024).fill(97);
  let stop = false;
  const writing = (async () => {
    while (!stop) await client.send(chunk);
    await client.shutdown("write");
  })();
  const start = performance.now() + warmup * 1000;
  const end = start + seconds * 1000;
  let bytes = 0;
  let measuring = false;
  for (;;) {
    const got = await client.recv();
    if (got === null) break;
    const now = performance.now();
    if (!measuring && now >= start) {
      measuring = true;
      bytes = 0;
    } else if (measuring) {
      bytes += got.length;
      if (now >= end) stop = true;
    }
  }
  await writing;
  return bytes / seconds / 1e6;
}

/** Round trips per second of 64-byte requests, one in flight. */
async function roundTrips(client: Endpoint, warmup: number, seconds: number): Promise<number> {
  const request = new Uint8Array(64).fill(98);
  const run = async (ms: number) => {
    const end = performance.now() + ms;
    let count = 0;
    for (;;) {
      await client.send(request);
      const reply = await client.recv(64);
      if (reply === null || reply.length !== 64) throw new Error("round trip: short echo");
      if ((++count & 1023) === 0 && performance.now() >= end) return count;
    }
  };
  await run(warmup * 1000);
  const start = performance.now();
  const count = await run(seconds * 1000);
  return count / ((performance.now() - start) / 1000);
}

const seconds = Number(flag("seconds", "2"));
if (!(seconds > 0 && seconds <= 10)) throw new RangeError("--seconds must be in (0, 10]");
const warmup = Math.min(1, seconds / 2);
const first = flag("first", "baseline");
const order = first === "corral" ? (["corral", "baseline"] as const) : (["baseline", "corral"] as const);

const listener = await listen({ transport: memory({ name: "bench-echo" }), protocol: echo });
const connect = (impl: "baseline" | "corral"): Promise<Endpoint> =>
  impl === "baseline" ? Promise.resolve(baselineConnection()) : memory().connect({ name: "bench-echo" });

const result = { baseline: { mbps: 0, rtps: 0 }, corral: { mbps: 0, rtps: 0 } };
for (const impl of order) result[impl].mbps = await throughput(await connect(impl), warmup, seconds);
for (const impl of order) {
  const client = await connect(impl);
  result[impl].rtps = await roundTrips(client, warmup, seconds);
  await client.shutdown("write");
}
await listener.stop();
console.log(JSON.stringify(result));
