#!/usr/bin/env node
/**
 * `npm run bench`: Corral's tcp and tls transports against each runtime's
 * raw sockets, raw and Corral interleaved in one run, plus the memory
 * transport against an in-process baseline. Prints one table of medians.
 *
 *   node bench/run.mjs [--quick] [--rounds N] [--seconds S] [--floor | --no-floor] [--workers N] [--runtime NAME]...
 *     [--scenario NAME]... [--json FILE]
 *   node bench/run.mjs --from FILE     prints the table of a saved run (its --json file) again
 *
 * runtimes: c (the reference C server), node20 (the Node.js running this
 *   script), node24, deno, bun; default all (--quick leaves out node24).
 * scenarios: throughput, pingpong, connect, tls-throughput, tls-connect, idle, memory; default all.
 *
 * Servers run on core 0 and the load generator (bench/loadgen.c) on core 1
 * (`taskset`), under `ulimit -n` raised for the 10,000 idle connections.
 *
 * - throughput, pingpong, connect: a raw and a Corral server (and, unless
 *   --quick, a floor server: Corral's protocol shape on the raw socket,
 *   without Corral) stay up and one load generator alternates between
 *   them, one slice each per round: raw, floor, Corral, then Corral, floor,
 *   raw (so a drift of the shared machine favours none). A round whose slices ran while other work took more
 *   than BUSY_LIMIT cores is left out of the medians when enough quiet
 *   rounds remain (the output says how many).
 * - tls-throughput, tls-connect: the same over TLS 1.3 (every connect a full
 *   handshake), raw and Corral TLS servers only (no floor, no C server),
 *   driven by the load generator built with OpenSSL (`--tls`); skipped, with
 *   one line saying why, when that cannot be built.
 * - idle: fresh servers each round (the floor one too, unless --quick),
 *   10,000 connections held, VmRSS before and after, both after a full
 *   garbage collection.
 * - memory: one process per round runs the baseline and Corral alternately.
 *
 * - --workers N: the throughput, pingpong and connect scenarios (and their
 *   TLS variants) also load Corral in worker mode (`startWorkers()`, N
 *   threads on one port: bench/servers/corral_echo.ts --workers N), as a
 *   further slice of each round, on the runtimes that can share a port
 *   (not Node.js before 22.12, not C). Its server CPU is the whole
 *   process's (every thread: /proc/PID/stat). Pinned to core 0 like the
 *   other servers, it shows what worker mode costs per operation, not how
 *   it scales. Deno's worker-mode server runs with --unstable-net, so it
 *   listens through Deno.listen as the single-thread one does.
 *
 * The corral/raw column is the median of the per-round ratios.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { join } from "node:path";
import {
  collectGarbage,
  descriptorLimit,
  expectLine,
  loadgen,
  loadgenTls,
  out,
  prepare,
  rssKiB,
  runtimes,
  spawnPinned,
  startServer,
  stopProcess,
} from "./_servers.mjs";

// ---- options ----

const args = process.argv.slice(2);
const option = (name) => {
  const values = [];
  for (let i = 0; i < args.length; i++) if (args[i] === name && i + 1 < args.length) values.push(args[++i]);
  return values;
};
const quick = args.includes("--quick");
const ALL_RUNTIMES = ["c", "node20", "node24", "deno", "bun"];
const ALL_SCENARIOS = ["throughput", "pingpong", "connect", "tls-throughput", "tls-connect", "idle", "memory"];
const isTls = (scenario) => scenario.startsWith("tls-");
const pickedRuntimes = option("--runtime");
const pickedScenarios = option("--scenario");
for (const name of pickedRuntimes) if (!ALL_RUNTIMES.includes(name)) throw new TypeError(`unknown runtime ${name}`);
for (const name of pickedScenarios) if (!ALL_SCENARIOS.includes(name)) throw new TypeError(`unknown scenario ${name}`);
const runtimeNames = pickedRuntimes.length > 0
  ? pickedRuntimes
  : ALL_RUNTIMES.filter((name) => !(quick && name === "node24"));
const scenarios = pickedScenarios.length > 0 ? pickedScenarios : ALL_SCENARIOS;
const jsonFile = option("--json")[0] ?? join(out, "last_results.json");
/** The floor servers (the Corral protocol shape without Corral) run in full runs, or with --floor. */
const withFloor = args.includes("--floor") || (!quick && !args.includes("--no-floor"));
/** Worker threads of the worker-mode slices (--workers N); 0: no worker-mode slices. */
const workers = Number(option("--workers")[0] ?? 0);
if (!(Number.isInteger(workers) && workers >= 0 && workers <= 64)) throw new RangeError("--workers: 0 to 64");

/** Whether a runtime can run worker mode: reusePort arrived in Node.js 22.12; the C server has none. */
function canRunWorkers(name, runtime) {
  if (name === "c") return false;
  if (!name.startsWith("node")) return true;
  const [major, minor] = runtime.version.replace(/^v/, "").split(".").map(Number);
  return major > 22 || (major === 22 && minor >= 12);
}

/**
 * The Corral server's command, in worker mode. Deno gets --unstable-net so its workers listen through
 * Deno.listen like the single-thread server (without the flag, reusePort goes through Deno's node:net):
 * the comparison is then of worker mode alone.
 */
const inWorkerMode = (name, [command, commandArgs]) => [
  command,
  [
    ...(name === "deno" ? ["run", "--unstable-net", ...commandArgs.slice(1)] : commandArgs),
    "--workers",
    String(workers),
  ],
];

/** Rounds of the load scenarios: each is one raw and one Corral slice. */
const rounds = Number(option("--rounds")[0] ?? (quick ? 5 : 15));
if (!(Number.isInteger(rounds) && rounds >= 3 && rounds <= 50)) throw new RangeError("--rounds: 3 to 50");
/** --quick runs the TLS scenarios for 3 rounds, unless --rounds says otherwise, to stay under 3 minutes. */
const TLS_ROUNDS = quick && option("--rounds").length === 0 ? 3 : rounds;
/** Seconds measured per slice, after WARMUP seconds of load; every slice stays far under 10 s. */
const SECONDS = Number(option("--seconds")[0] ?? (quick ? 0.4 : 1));
if (!(SECONDS > 0 && SECONDS <= 8)) throw new RangeError("--seconds: more than 0, at most 8");
const WARMUP = quick ? 0.1 : 0.2;
/** idle starts two fresh servers per round and opens 10,000 connections to each: 3 rounds. */
const IDLE_ROUNDS = 3;
const IDLE_CONNECTIONS = 10_000;
const MEMORY_ROUNDS = quick ? 3 : 5;
const MEMORY_SECONDS = quick ? 0.25 : 1;
/** Other work on the machine (cores) above which a round counts as noisy. */
const BUSY_LIMIT = 0.3;

// ---- measurements ----

/**
 * throughput, pingpong, connect and their TLS variants: a raw and a Corral
 * server (`commands[impl]`) stay up, and one load generator alternates
 * between them, one slice each per round (raw first in even rounds, Corral
 * first in odd ones), with its connections to both held open. Only the
 * loaded server uses its core.
 */
async function loadRounds(commands, impls, scenario, limit) {
  const servers = [];
  const slices = isTls(scenario) ? TLS_ROUNDS : rounds;
  try {
    for (const impl of impls) servers.push(await startServer(commands[impl], limit));
    const mode = isTls(scenario) ? [scenario.slice("tls-".length), "--tls"] : [scenario];
    const loadArgs = [...mode, "--slices", String(slices), "--seconds", String(SECONDS), "--warmup", String(WARMUP)];
    for (const server of servers) {
      loadArgs.push("--port", String(server.port), "--server-pid", String(server.child.pid));
    }
    const proc = spawnPinned(1, [isTls(scenario) ? loadgenTls : loadgen, loadArgs], limit);
    const results = Object.fromEntries(impls.map((impl) => [impl, []]));
    try {
      for (let i = 0; i < slices * impls.length; i++) {
        const slice = JSON.parse(await proc.next(60_000, "loadgen slice"));
        results[impls[slice.target]].push(slice);
      }
      const { code } = await proc.exited;
      if (code !== 0) throw new Error(`loadgen exited with ${code}: ${proc.stderr()}`);
    } catch (error) {
      proc.child.kill("SIGKILL");
      throw new Error(
        `${error.message}\nloadgen: ${proc.stderr()}\nservers: ${servers.map((s) => s.stderr()).join("\n")}`,
      );
    }
    return results;
  } finally {
    for (const server of servers) await stopProcess(server);
  }
}

/** idle: a fresh server, 10,000 connections held, VmRSS before and after (after a full GC each). */
async function idleOnce(command, limit) {
  const server = await startServer(command, limit);
  const proc = spawnPinned(
    1,
    [loadgen, ["idle", "--port", String(server.port), "--conns", String(IDLE_CONNECTIONS)]],
    limit,
  );
  try {
    await expectLine(proc, "warm", 30_000);
    const heapBefore = await collectGarbage(server);
    const before = rssKiB(server.child.pid);
    proc.child.stdin.write("go\n");
    await expectLine(proc, `holding ${IDLE_CONNECTIONS}`, 60_000);
    const heapAfter = await collectGarbage(server);
    const after = rssKiB(server.child.pid);
    proc.child.stdin.write("done\n");
    const result = JSON.parse(await proc.next(30_000, "loadgen result"));
    const perConn = (key) => (heapAfter[key] - heapBefore[key]) / IDLE_CONNECTIONS;
    return {
      ...result,
      rss_before_kib: before,
      rss_after_kib: after,
      kib_per_conn: (after - before) / IDLE_CONNECTIONS,
      heap_bytes_per_conn: perConn("heapUsed"),
      heap_total_bytes_per_conn: perConn("heapTotal"),
      new_space_bytes_per_conn: perConn("newSpace"),
      external_bytes_per_conn: perConn("external"),
    };
  } catch (error) {
    proc.child.kill("SIGKILL");
    throw new Error(`${error.message}\nloadgen: ${proc.stderr()}\nserver: ${server.stderr()}`);
  } finally {
    await stopProcess(server);
  }
}

async function idleRounds(runtime, impls, limit) {
  const results = Object.fromEntries(impls.map((impl) => [impl, []]));
  for (let round = 0; round < IDLE_ROUNDS; round++) {
    for (const impl of round % 2 === 0 ? impls : [...impls].reverse()) {
      results[impl].push(await idleOnce(runtime[impl], limit));
    }
  }
  return results;
}

/** memory: one process per round runs baseline and Corral alternately, in-process, on core 0. */
async function memoryRounds(runtime) {
  const results = { raw: [], corral: [] };
  for (let round = 0; round < MEMORY_ROUNDS; round++) {
    const [command, commandArgs] = runtime.memory;
    const first = round % 2 === 0 ? "baseline" : "corral";
    const proc = spawnPinned(
      0,
      [command, [...commandArgs, "--seconds", String(MEMORY_SECONDS), "--first", first]],
      1024,
    );
    proc.child.stdin.end();
    const line = await proc.next(60_000, "memory_bench result");
    const { code } = await proc.exited;
    if (code !== 0) throw new Error(`memory_bench exited with ${code}: ${proc.stderr()}`);
    const result = JSON.parse(line);
    results.raw.push(result.baseline);
    results.corral.push(result.corral);
  }
  return results;
}

// ---- figures ----

/** The figures a scenario yields: [key, label, unit, higher is better]. */
const FIGURES = {
  throughput: [["mbps", "throughput", "MB/s", true]],
  pingpong: [
    ["rtps", "pingpong", "rt/s", true],
    ["p50_us", "pingpong p50", "µs", false],
    ["p99_us", "pingpong p99", "µs", false],
  ],
  connect: [["cps", "connect", "conn/s", true]],
  "tls-throughput": [["mbps", "TLS throughput", "MB/s", true]],
  "tls-connect": [["cps", "TLS connect", "conn/s", true]],
  idle: [["kib_per_conn", "idle memory", "KiB/conn", false]],
  memory: [
    ["mbps", "memory echo", "MB/s", true],
    ["rtps", "memory round trips", "rt/s", true],
  ],
};

function median(values) {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function format(value, unit) {
  if (!Number.isFinite(value)) return "-";
  if (unit === "KiB/conn") return value.toFixed(2);
  return Math.round(value).toLocaleString("en-US");
}

function table(rows, headers) {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((row) => String(row[i]).length)));
  const line = (cells) =>
    cells.map((cell, i) => (i < 2 ? String(cell).padEnd(widths[i]) : String(cell).padStart(widths[i]))).join("  ")
      .trimEnd();
  return [line(headers), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}

// ---- main ----

/** results[runtime][scenario] = { raw: [...rounds], corral: [...rounds], floor?: [...rounds] } */
let results = {};
const all = runtimes();
const started = Date.now();
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(0)} s`;
const from = option("--from")[0];
if (from !== undefined) {
  // Prints the table of a saved run again (its JSON file) instead of measuring.
  results = JSON.parse(readFileSync(from, "utf8")).results;
} else {
  const { tlsProblem } = await prepare();
  const limit = descriptorLimit();
  if (scenarios.includes("idle") && limit < IDLE_CONNECTIONS + 1000) {
    throw new Error(
      `the idle scenario needs a hard descriptor limit of ${IDLE_CONNECTIONS + 1000} or more (ulimit -Hn)`,
    );
  }
  console.log(
    `corral bench: ${cpus().length} cores (${cpus()[0]?.model ?? "?"}), ${
      quick ? "quick" : "full"
    }: ${rounds} rounds ` +
      `of ${SECONDS} s slices${TLS_ROUNDS === rounds ? "" : ` (TLS: ${TLS_ROUNDS})`}, ${IDLE_ROUNDS} idle rounds, ` +
      `${MEMORY_ROUNDS} memory rounds; servers on core 0, ` +
      `loadgen on core 1; ulimit -n ${limit}`,
  );
  if (tlsProblem !== undefined && scenarios.some(isTls)) console.log(`TLS scenarios skipped: ${tlsProblem}`);
  for (const name of runtimeNames) {
    const runtime = all[name];
    if (runtime.version === undefined) {
      console.log(`${name}: not installed, skipped`);
      continue;
    }
    results[name] = {};
    const impls = runtime.corral === undefined ? ["raw"] : ["raw", "corral"];
    const loadImpls = withFloor && runtime.floor !== undefined ? ["raw", "floor", "corral"] : impls;
    const workerMode = workers > 0 && canRunWorkers(name, runtime);
    if (workers > 0 && !workerMode) console.log(`  ${name}: no worker mode (no reusePort here)`);
    const servers = workerMode ? { ...runtime, workers: inWorkerMode(name, runtime.corral) } : runtime;
    const tlsServers = workerMode && runtime.tls !== undefined
      ? { ...runtime.tls, workers: inWorkerMode(name, runtime.tls.corral) }
      : runtime.tls;
    const withWorkers = (list) => (workerMode ? [...list, "workers"] : list);
    for (const scenario of scenarios) {
      if (scenario === "memory" && runtime.memory === undefined) continue;
      if (isTls(scenario) && (runtime.tls === undefined || tlsProblem !== undefined)) continue;
      try {
        results[name][scenario] = scenario === "memory"
          ? await memoryRounds(runtime)
          : scenario === "idle"
          ? await idleRounds(runtime, loadImpls, limit)
          : isTls(scenario)
          ? await loadRounds(tlsServers, withWorkers(["raw", "corral"]), scenario, limit)
          : await loadRounds(servers, withWorkers(loadImpls), scenario, limit);
      } catch (error) {
        console.log(`  ${name} ${scenario}: failed: ${error.message}`);
        continue;
      }
      for (const [impl, list] of Object.entries(results[name][scenario])) {
        for (const result of list) {
          if (result.errors > 0) {
            console.log(`  ${name} ${impl} ${scenario}: ${result.errors} errors (${result.last_error})`);
          }
        }
      }
      console.log(`  ${name} ${scenario} done (${elapsed()})`);
    }
  }
  const versions = Object.fromEntries(Object.keys(results).map((name) => [name, all[name].version]));
  writeFileSync(jsonFile, JSON.stringify({ rounds, seconds: SECONDS, quick, versions, results }, null, 2));
}

/**
 * The rounds the medians use: for load scenarios, the rounds where the
 * machine was quiet during every slice, when at least 3 are; else all.
 */
function quietRounds(pair) {
  const all = pair.raw.map((raw, i) => ({
    raw,
    corral: pair.corral?.[i] ?? {},
    floor: pair.floor?.[i],
    workers: pair.workers?.[i],
  }));
  const noise = (r) =>
    Math.max(...[r.raw, r.corral, r.floor ?? {}, r.workers ?? {}].map((slice) => slice.other_cpu ?? 0));
  const quiet = all.filter((r) => noise(r) <= BUSY_LIMIT);
  return quiet.length >= 3 ? quiet : all;
}

const rows = [];
const cpuRows = [];
const workerRows = [];
for (const [name, byScenario] of Object.entries(results)) {
  const runtime = all[name];
  const label = `${runtime.label} ${runtime.version}`;
  const first = (list) => (list.some((row) => row[0] === label) ? "" : label);
  const reference = runtime.corral === undefined;
  for (const scenario of scenarios) {
    const pair = byScenario[scenario];
    if (pair === undefined) continue;
    const kept = quietRounds(pair);
    for (const [key, what, unit, higherIsBetter] of FIGURES[scenario]) {
      const raw = median(kept.map((r) => r.raw[key]));
      const corral = median(kept.map((r) => r.corral[key]));
      const ratio = median(kept.map((r) => r.corral[key] / r.raw[key]));
      const floorRatio = pair.floor === undefined ? NaN : median(kept.map((r) => r.floor[key] / r.raw[key]));
      let note = "";
      if (!reference && key === "kib_per_conn") {
        note = `${corral >= raw ? "+" : ""}${(corral - raw).toFixed(2)} KiB`;
        if (pair.floor !== undefined) {
          const floor = median(kept.map((r) => r.floor[key]));
          note += ` (floor ${floor >= raw ? "+" : ""}${(floor - raw).toFixed(2)})`;
        }
      } else if (!reference && !higherIsBetter && ratio > 1) note = `+${((ratio - 1) * 100).toFixed(0)} %`;
      rows.push([
        first(rows),
        `${what} (${unit})`,
        format(raw, unit),
        reference ? "" : format(corral, unit),
        reference || !Number.isFinite(ratio) ? "" : ratio.toFixed(2),
        Number.isFinite(floorRatio) ? floorRatio.toFixed(2) : "",
        note,
      ]);
    }
    if (scenario === "idle" || scenario === "memory") continue;
    const cores = (side) =>
      ["server_cpu", "loadgen_cpu", "other_cpu"].map((key) => median(kept.map((r) => r[side][key])).toFixed(2))
        .join(" / ");
    // Server CPU per operation, Corral's over raw's: the cost ratio, whoever was the bottleneck.
    const [key] = FIGURES[scenario][0];
    const perOp = (r, side) => r[side].server_cpu / r[side][key];
    const costRatio = median(kept.map((r) => perOp(r, "corral") / perOp(r, "raw")));
    cpuRows.push([
      first(cpuRows),
      scenario,
      cores("raw"),
      reference ? "" : cores("corral"),
      reference ? "" : costRatio.toFixed(2),
      `${kept.length} of ${pair.raw.length}`,
    ]);
    if (pair.workers !== undefined) {
      // Worker mode against single-thread Corral: the figure, and server CPU per operation (every thread's).
      const unit = FIGURES[scenario][0][2];
      workerRows.push([
        first(workerRows),
        scenario,
        format(median(kept.map((r) => r.workers[key])), unit) + ` ${unit}`,
        median(kept.map((r) => r.workers[key] / r.corral[key])).toFixed(2),
        cores("workers"),
        median(kept.map((r) => perOp(r, "workers") / perOp(r, "corral"))).toFixed(3),
      ]);
    }
  }
}

console.log(
  "\nMedians; corral/raw = median of the per-round ratios; floor = the same for-await protocol over the raw" +
    "\nsocket without Corral (bench/servers/floor_*.ts); memory: raw = the in-process baseline.\n",
);
console.log(table(rows, ["runtime", "scenario", "raw", "corral", "corral/raw", "floor/raw", ""]));
console.log(
  "\nCores busy during the measured slices (server / loadgen / everything else on the machine), Corral's server CPU" +
    "\nper operation over raw's, and the rounds used (quiet ones):\n",
);
console.log(table(cpuRows, ["runtime", "scenario", "raw", "corral", "cpu/op", "rounds"]));
if (workerRows.length > 0) {
  console.log(
    "\nWorker mode (--workers): Corral in worker threads against single-thread Corral, same rounds; cores as above" +
      "\n(the server's: every thread of the process); cpu/op = worker mode's server CPU per operation over Corral's" +
      "\n(all servers share core 0, so this is the cost of worker mode, not its scaling):\n",
  );
  console.log(table(workerRows, ["runtime", "scenario", "workers", "workers/corral", "cores", "cpu/op"]));
}
if (from === undefined) console.log(`\n${elapsed()}; every round's figures in ${jsonFile}`);
