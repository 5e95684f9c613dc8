/**
 * PROXY header throughput on whichever runtime runs this file: headers/s
 * for `parseProxyHeader` on typical v1 and v2 headers, for
 * `buildProxyHeader`, and for the listener's stream reader (the header
 * taken off a socket with exact reads, arriving in one chunk with data
 * after it). Each case runs for a bounded time after a short warm-up.
 *
 *   node scripts/run.mjs bench/proxy_parse_bench.ts | deno run -A bench/proxy_parse_bench.ts | bun run bench/proxy_parse_bench.ts
 *     [--seconds S]   (per case, default 1)
 *
 * Prints a table, then one JSON line `{"runtime", "headersPerSecond": {case: n}}`.
 *
 * @module
 */
import process from "node:process";
import type { ByteChannel, ChannelSink } from "../src/socket/byte_channel.ts";
import { buildProxyHeader, parseProxyHeader, type ProxyHeaderInit } from "../src/proxy/proxy_header.ts";
import { readProxyHeader } from "../src/proxy/reader.ts";
import { runtimeName } from "../src/runtime/detect.ts";
import { StreamSocket } from "../src/socket/stream_socket.ts";

declare const Deno: { version: { deno: string } };
declare const Bun: { version: string };
const runtime = runtimeName === "deno"
  ? `deno ${Deno.version.deno}`
  : runtimeName === "bun"
  ? `bun ${Bun.version}`
  : `node ${process.versions.node}`;

const secondsArg = process.argv.indexOf("--seconds");
const SECONDS = secondsArg === -1 ? 1 : Number(process.argv[secondsArg + 1]);
if (!(SECONDS > 0 && SECONDS <= 60)) throw new RangeError("--seconds must be a number from 0 (exclusive) to 60");

const inet: ProxyHeaderInit = {
  family: "inet",
  protocol: "stream",
  sourceAddress: "192.168.0.1",
  sourcePort: 56324,
  destinationAddress: "192.168.0.11",
  destinationPort: 443,
};
const inet6: ProxyHeaderInit = {
  ...inet,
  family: "inet6",
  sourceAddress: "2001:db8:85a3::8a2e:370:7334",
  destinationAddress: "2001:db8:85a3::1",
};
// What HAProxy's send-proxy-v2-ssl-cn with crc32c and authority sends.
const haproxySsl: ProxyHeaderInit = {
  ...inet,
  tlvs: {
    alpn: "h2",
    authority: "example.org",
    ssl: {
      ssl: true,
      certificateOnConnection: true,
      certificateInSession: true,
      verified: true,
      version: "TLSv1.3",
      commonName: "corral-client",
      cipher: "TLS_AES_256_GCM_SHA384",
      signatureAlgorithm: "ecdsa-with-SHA256",
      keyAlgorithm: "EC256",
    },
  },
};

const headers: [string, Uint8Array][] = [
  ["v1 TCP4", buildProxyHeader(inet, { version: 1 })],
  ["v1 TCP6", buildProxyHeader(inet6, { version: 1 })],
  ["v2 inet", buildProxyHeader(inet)],
  ["v2 inet6", buildProxyHeader(inet6)],
  ["v2 inet + SSL TLVs + CRC32C", buildProxyHeader(haproxySsl, { checksum: "crc32c" })],
];

let sink = 0; // read by the report, so no engine can drop the work

/** Calls `body` in batches until `SECONDS` pass; returns calls per second. */
function measure(body: () => void): number {
  const warmUntil = performance.now() + Math.min(200, SECONDS * 200);
  while (performance.now() < warmUntil) for (let i = 0; i < 100; i++) body();
  let calls = 0;
  const started = performance.now();
  const until = started + SECONDS * 1000;
  let now = started;
  while (now < until) {
    for (let i = 0; i < 1000; i++) body();
    calls += 1000;
    now = performance.now();
  }
  return calls / ((now - started) / 1000);
}

async function measureAsync(body: () => Promise<void>): Promise<number> {
  const warmUntil = performance.now() + Math.min(200, SECONDS * 200);
  while (performance.now() < warmUntil) for (let i = 0; i < 100; i++) await body();
  let calls = 0;
  const started = performance.now();
  const until = started + SECONDS * 1000;
  let now = started;
  while (now < until) {
    for (let i = 0; i < 200; i++) await body();
    calls += 200;
    now = performance.now();
  }
  return calls / ((now - started) / 1000);
}

/** A channel that hands over one prepared chunk: the header and the protocol's first bytes. */
class OneChunkChannel implements ByteChannel {
  #chunk: Uint8Array;
  constructor(chunk: Uint8Array) {
    this.#chunk = chunk;
  }
  start(sink: ChannelSink): void {
    sink.onData(this.#chunk);
  }
  pause(): void {}
  resume(): void {}
  write(): boolean {
    return true;
  }
  end(): void {}
  close(): void {}
  destroy(): void {}
  setNoDelay(): void {}
  setKeepAlive(): void {}
  readonly localAddress = { name: "bench" };
  readonly remoteAddress = { name: "bench-peer" };
}

const results: Record<string, number> = {};
const row = (name: string, perSecond: number) => {
  results[name] = Math.round(perSecond);
  console.log(`${name.padEnd(44)} ${Math.round(perSecond).toLocaleString("en-US").padStart(12)} headers/s`);
};

console.log(`# PROXY header throughput on ${runtime}, ${SECONDS} s per case`);
for (const [name, bytes] of headers) {
  row(
    `parse ${name} (${bytes.length} B)`,
    measure(() => {
      const result = parseProxyHeader(bytes);
      sink += result.header === undefined ? 0 : result.length;
    }),
  );
}
for (
  const [name, init, options] of [
    ["v1 TCP4", inet, { version: 1 }],
    ["v2 inet + SSL TLVs + CRC32C", haproxySsl, { checksum: "crc32c" }],
  ] as const
) {
  row(`build ${name}`, measure(() => (sink += buildProxyHeader(init, options).length)));
}
const payload = new TextEncoder().encode("GET / HTTP/1.1\r\n\r\n");
for (const [name, bytes] of [headers[0]!, headers[2]!, headers[4]!]) {
  const chunk = new Uint8Array(bytes.length + payload.length);
  chunk.set(bytes);
  chunk.set(payload, bytes.length);
  row(
    `read from a socket ${name}`,
    await measureAsync(async () => {
      const socket = new StreamSocket(new OneChunkChannel(chunk));
      const read = await readProxyHeader(socket, { timeout: 5000, required: true });
      sink += read.header?.sourcePort ?? 0;
    }),
  );
}
console.log(JSON.stringify({ runtime, seconds: SECONDS, headersPerSecond: results, sink: sink > 0 }));
