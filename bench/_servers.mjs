/**
 * What bench/run.mjs and bench/heap_profile.mjs share: building the C
 * programs, the Node.js bundles and the TLS test certificate, how each
 * runtime starts its raw and Corral servers (over TCP and over TLS), and
 * talking to those processes (the control protocol of
 * bench/servers/_control.ts).
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import { cpus } from "node:os";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { node24Binary } from "../scripts/_node24.mjs";

export const root = join(dirname(fileURLToPath(import.meta.url)), "..");
export const benchDir = join(root, "bench");
export const out = join(benchDir, "build");
export const loadgen = join(out, "loadgen");
/** The load generator built with OpenSSL (`--tls`), and the self-signed RSA 2048 certificate every TLS server uses. */
export const loadgenTls = join(out, "loadgen_tls");
const tlsCert = join(out, "tls_cert.pem");
const tlsKey = join(out, "tls_key.pem");

// npm puts node_modules/.bin (with Node.js 24's `node`) first on PATH: the
// machine's Node.js is the one running npm (npm_node_execpath) or this script.
const machineNode = process.env.npm_node_execpath ?? process.execPath;
const node24 = node24Binary();
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

/** Runs the machine's cc on bench/NAME.c; returns its errors (undefined when it built). */
function compile(name, output, extra = []) {
  const result = spawnSync("cc", ["-O2", "-Wall", "-o", join(out, output), join(benchDir, `${name}.c`), ...extra], {
    encoding: "utf8",
  });
  return result.status === 0 ? undefined : (result.stderr || String(result.error)).trim();
}

/** The line of a tool's output that says what went wrong. */
const errorLine = (text) => {
  const lines = text.split("\n");
  return lines.find((line) => /error/i.test(line)) ?? lines.at(-1);
};

/**
 * What the TLS scenarios need, made if missing: the load generator built
 * with OpenSSL, and a self-signed certificate (RSA 2048, CN=localhost, for
 * localhost and 127.0.0.1). Returns why they cannot run, or undefined.
 */
function prepareTls() {
  const failed = compile("loadgen", "loadgen_tls", ["-DLOADGEN_TLS", "-lssl", "-lcrypto"]);
  if (failed !== undefined) {
    return `cannot build the TLS load generator (OpenSSL headers: libssl-dev): ${errorLine(failed)}`;
  }
  if (existsSync(tlsCert) && existsSync(tlsKey)) return undefined;
  const request = "req -x509 -newkey rsa:2048 -nodes -days 3650 -subj /CN=localhost " +
    "-addext subjectAltName=DNS:localhost,IP:127.0.0.1";
  const result = spawnSync("openssl", [...request.split(" "), "-keyout", tlsKey, "-out", tlsCert], {
    encoding: "utf8",
  });
  if (result.status === 0) return undefined;
  return `cannot make the test certificate with openssl: ${errorLine((result.stderr || String(result.error)).trim())}`;
}

/**
 * Compiles the C programs and bundles the TypeScript Node.js runs (Node.js
 * 20 cannot strip types). Returns `{ tlsProblem }`: why the TLS scenarios
 * cannot run (no OpenSSL headers, no openssl command), or undefined.
 */
export async function prepare() {
  mkdirSync(out, { recursive: true });
  for (const name of ["loadgen", "echo_server"]) {
    const failed = compile(name, name);
    if (failed !== undefined) throw new Error(`cc ${name}.c failed:\n${failed}`);
  }
  const tlsProblem = prepareTls();
  const bundles = [
    "servers/raw_node",
    "servers/raw_tls_node",
    "servers/floor_node",
    "servers/corral_echo",
    // The worker module of corral_echo --workers, found beside its bundle.
    "servers/corral_echo_worker",
    "memory_bench",
    // The resp-* scenarios' servers (bench/_resp.mjs).
    "servers/raw_resp_node",
    "servers/corral_resp",
  ];
  for (const name of bundles) {
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
  return { tlsProblem };
}

/**
 * Each runtime: a label, its version (undefined when it is not installed),
 * and the commands of its raw server, its floor server (the pull protocol
 * shape without Corral), its Corral servers (`corral`: the pull-shaped
 * echo; `handler`: the `handler()` echo) and its in-process memory
 * benchmark; `tls` holds its raw and Corral TLS servers. The C reference
 * has a raw TCP server only.
 */
export function runtimes() {
  const certificate = ["--cert", tlsCert, "--key", tlsKey];
  const handlerShape = ["--shape", "handler"];
  const nodeServers = (node) => ({
    raw: [node, ["--expose-gc", join(out, "raw_node.mjs")]],
    floor: [node, ["--expose-gc", join(out, "floor_node.mjs")]],
    corral: [node, ["--expose-gc", join(out, "corral_echo.mjs")]],
    handler: [node, ["--expose-gc", join(out, "corral_echo.mjs"), ...handlerShape]],
    memory: [node, [join(out, "memory_bench.mjs")]],
    tls: {
      raw: [node, ["--expose-gc", join(out, "raw_tls_node.mjs"), ...certificate]],
      corral: [node, ["--expose-gc", join(out, "corral_echo.mjs"), ...certificate]],
      handler: [node, ["--expose-gc", join(out, "corral_echo.mjs"), ...handlerShape, ...certificate]],
    },
  });
  const deno = bin("deno");
  const denoRun = (file, gc = true, more = []) => [
    deno,
    ["run", "-A", "--quiet", ...(gc ? ["--v8-flags=--expose-gc"] : []), join(benchDir, file), ...more],
  ];
  const bun = bin("bun");
  const bunRun = (file, more = []) => [bun, ["run", join(benchDir, file), ...more]];
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
      handler: denoRun("servers/corral_echo.ts", true, handlerShape),
      memory: denoRun("memory_bench.ts", false),
      tls: {
        raw: denoRun("servers/raw_tls_deno.ts", true, certificate),
        corral: denoRun("servers/corral_echo.ts", true, certificate),
        handler: denoRun("servers/corral_echo.ts", true, [...handlerShape, ...certificate]),
      },
    },
    bun: {
      label: "Bun",
      version: version(bun, ["--version"]),
      raw: bunRun("servers/raw_bun.ts"),
      floor: bunRun("servers/floor_bun.ts"),
      corral: bunRun("servers/corral_echo.ts"),
      handler: bunRun("servers/corral_echo.ts", handlerShape),
      memory: bunRun("memory_bench.ts"),
      tls: {
        raw: bunRun("servers/raw_tls_bun.ts", certificate),
        corral: bunRun("servers/corral_echo.ts", certificate),
        handler: bunRun("servers/corral_echo.ts", [...handlerShape, ...certificate]),
      },
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

/**
 * The TCP connections a process holds on its listening `port`, counted by
 * the kernel: the sockets among its descriptors (/proc/PID/fd) that
 * /proc/PID/net/tcp{,6} lists with that local port and a state other than
 * LISTEN. A connection still in the listen backlog is not counted: the
 * server has not accepted it, so it costs the server nothing. Those tables
 * are read in pieces while other connections on the machine come and go,
 * so an entry can show twice or be missed: matches are kept by inode, over
 * two readings.
 */
export function heldConnections(pid, port) {
  const inodes = new Set();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (match !== null) inodes.add(match[1]);
    } catch {
      // closed meanwhile
    }
  }
  const LISTEN = "0A";
  const held = new Set();
  for (let reading = 0; reading < 2; reading++) {
    for (const table of ["tcp", "tcp6"]) {
      let text;
      try {
        text = readFileSync(`/proc/${pid}/net/${table}`, "utf8");
      } catch {
        continue; // no IPv6 on this machine
      }
      // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode ...
      for (const line of text.split("\n").slice(1)) {
        const fields = line.trim().split(/\s+/);
        if (fields.length < 10 || fields[3] === LISTEN || !inodes.has(fields[9])) continue;
        if (Number.parseInt(fields[1].split(":").at(-1), 16) === port) held.add(fields[9]);
      }
    }
  }
  return held.size;
}

/** The connections the server says it holds (`count`), or undefined when it keeps no count. */
export async function ownCount(server) {
  server.child.stdin.write("count\n");
  const line = await server.next(10_000, "count answer");
  const match = /^count (-?\d+)$/.exec(line);
  if (match === null) throw new Error(`unexpected server output: ${line}`);
  const count = Number(match[1]);
  return count < 0 ? undefined : count;
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
