/**
 * How many reads a pipelined batch arrives in, per runtime: the RESP
 * example's protocol on Corral, driven by `redis-benchmark -P 16` (each
 * client sends 16 commands, then waits for their 16 replies), counting the
 * chunks every connection received (`socket.recvCount`). 1.00 means no
 * batch was split; the issue measured 1.83 on Deno before its read buffer
 * kept a 4 KiB floor.
 *
 *   node scripts/run.mjs bench/resp_chunks.ts | deno run -A bench/resp_chunks.ts | bun run bench/resp_chunks.ts
 *
 * @module
 */
import { spawn } from "node:child_process";
import { listen, type Protocol, tcp } from "../mod.ts";
import { respProtocol } from "../examples/resp_protocol.ts";

const REQUESTS = 160_000;
const PIPELINE = 16;
const inner = respProtocol();
let chunks = 0;
let bytes = 0;
const counting: Protocol = async (conn) => {
  try {
    await inner(conn, undefined);
  } finally {
    const socket = await conn.handshake();
    chunks += socket.recvCount;
    bytes += socket.bytesReceived;
  }
};
const listener = await listen({ transport: tcp({ host: "127.0.0.1", port: 0 }), protocol: counting });
const results: string[] = [];
for (const test of ["set", "get"]) {
  chunks = bytes = 0;
  const args = ["-c", "50", "-P", String(PIPELINE), "-n", String(REQUESTS), "-r", "100000", "-t", test, "-q"];
  await new Promise<void>((resolve, reject) => {
    const child = spawn("redis-benchmark", ["-p", String(listener.port), ...args], { stdio: "ignore" });
    child.once("error", reject);
    child.once("close", () => resolve());
  });
  await listener.waitForConnections("==", 0, { timeout: 10_000 });
  const batches = REQUESTS / PIPELINE;
  results.push(`${test}: ${(chunks / batches).toFixed(2)} chunks per batch (${batches} batches of ${(bytes / batches).toFixed(0)} B)`);
}
await listener.stop();
const runtime = "Deno" in globalThis ? "deno" : "Bun" in globalThis ? "bun" : `node ${globalThis.process.version}`;
console.log(`${runtime}: ${results.join("; ")}`);
