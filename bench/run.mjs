#!/usr/bin/env node
/**
 * `npm run bench`: Corral's tcp and tls transports against each runtime's
 * raw sockets, raw and Corral interleaved in one run, Corral's two protocol
 * shapes side by side (the pull-shaped `for await` echo and the `handler()`
 * echo), plus the memory transport against an in-process baseline. Prints
 * tables of medians: rates, and server CPU per unit against raw.
 *
 *   node bench/run.mjs [--quick] [--rounds N] [--seconds S] [--floor | --no-floor] [--workers N] [--runtime NAME]...
 *     [--scenario NAME]... [--window BYTES] [--json FILE]
 *   node bench/run.mjs --from FILE     prints the tables of a saved run (its --json file) again
 *
 * runtimes: c (the reference C server), node20 (the Node.js running this
 *   script), node24, deno, bun; default all (--quick leaves out node24; name
 *   it to run it: --quick --runtime node24).
 * scenarios (bench/_scenarios.mjs):
 *   throughput-4k, throughput-16k, throughput-64k   8 connections streaming 4, 16 or 64 KiB writes, at most
 *                                                   256 KiB unechoed per connection (the load generator's --window)
 *   throughput-4k-64c, throughput-16k-64c, throughput-64k-64c   the same with 64 connections
 *   throughput        alias: every throughput-* scenario of the run (--quick's four, or all six)
 *                     (--window BYTES sets their window; 0: none, as much in flight as the kernel takes)
 *   pingpong          32 connections, one 64-byte request in flight each
 *   connect           connect, send 64 bytes, read them back, close, 32 at a time
 *   tls-throughput    8 connections streaming 64 KiB writes over TLS 1.3 (no window, as before)
 *   tls-connect       the same as connect with a full TLS 1.3 handshake each, 50 at a time (as before)
 *   idle              10,000 connections held; VmRSS per connection
 *   resp-p1-50c, resp-p16-50c, resp-p1-500c, resp-p16-500c   redis-benchmark (SET, GET) at pipeline depth 1
 *                     or 16 with 50 or 500 clients against examples/resp_server.ts's protocol (pull and handler) and
 *                     a raw twin with the same parser (bench/_resp.mjs); resp: alias of them (--quick: the 50c two)
 *   memory            the memory transport in-process against a baseline (bench/memory_bench.ts)
 *   default: all; --quick leaves out throughput-4k-64c and throughput-64k-64c.
 *
 * How long: --quick (5 rounds of 0.3 s slices, TLS 3 rounds, 2 idle rounds,
 * no floor servers, no Node.js 24) takes about 4 minutes; the full run
 * (15 rounds of 1 s slices, floor servers, 3 idle rounds, every runtime)
 * about 50 minutes; --workers N adds two slices per round.
 *
 * Servers run on core 0 and the load generator (bench/loadgen.c) on core 1
 * (`taskset`), under `ulimit -n` raised for the 10,000 idle connections.
 *
 * - load scenarios (throughput-*, pingpong, connect): a raw server, a floor
 *   server (unless --quick or --no-floor: the pull protocol shape on the raw
 *   socket, without Corral), the pull-shaped Corral echo and the handler()
 *   Corral echo (bench/servers/corral_echo.ts --shape pull|handler) stay up
 *   and one load generator alternates between them, one slice each per
 *   round: raw, floor, pull, handler, then handler, pull, floor, raw (so a
 *   drift of the shared machine favours none). A round whose slices ran
 *   while other work took more than BUSY_LIMIT cores is left out of the
 *   medians when enough quiet rounds remain (the output says how many).
 * - tls-throughput, tls-connect: the same over TLS 1.3 (every connect a full
 *   handshake), raw and both Corral shapes (no floor, no C server), driven
 *   by the load generator built with OpenSSL (`--tls`); skipped, with one
 *   line saying why, when that cannot be built.
 * - idle: fresh servers each round (raw, floor unless --quick, pull,
 *   handler), 10,000 connections held, VmRSS before and after, both after a
 *   full garbage collection. How many connections each server really held
 *   is counted from /proc (its socket descriptors on the listening port) and
 *   printed beside the figure, with a warning when it is short or when the
 *   server's own count (Corral's listener.connections("all"), the C
 *   server's) disagrees.
 * - memory: one process per round runs the baseline and Corral alternately.
 *
 * Every load scenario reports server CPU per unit (per MB, round trip or
 * connection) for every server, as its work per server core over raw's in
 * the same round: the rates alone mislead where the load generator, not
 * the server, is the limit (connect, for one).
 *
 * - --workers N: the load scenarios also load both Corral shapes in worker
 *   mode (`startWorkers()`, N threads on one port: corral_echo.ts
 *   --workers N), as further slices of each round, on the runtimes that can
 *   share a port (not Node.js before 22.12, not C). Its server CPU is the
 *   whole process's (every thread: /proc/PID/stat). Pinned to core 0 like
 *   the other servers, it shows what worker mode costs per operation, not
 *   how it scales. Deno's worker-mode server runs with --unstable-net, so it
 *   listens through Deno.listen as the single-thread one does.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { join } from "node:path";
import { BUSY_LIMIT, printReport } from "./_report.mjs";
import {
  describe,
  isLoad,
  isResp,
  isTls,
  LOAD,
  loadgenArgs,
  overrideWindow,
  pickScenarios,
  RESP,
} from "./_scenarios.mjs";
import { respProblem, respRounds, respServers } from "./_resp.mjs";
import {
  collectGarbage,
  descriptorLimit,
  expectLine,
  heldConnections,
  loadgen,
  loadgenTls,
  out,
  ownCount,
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
const pickedRuntimes = option("--runtime").flatMap((value) => value.split(","));
for (const name of pickedRuntimes) if (!ALL_RUNTIMES.includes(name)) throw new TypeError(`unknown runtime ${name}`);
const runtimeNames = pickedRuntimes.length > 0
  ? pickedRuntimes
  : ALL_RUNTIMES.filter((name) => !(quick && name === "node24"));
const scenarios = pickScenarios(option("--scenario").flatMap((value) => value.split(",")), quick);
const jsonFile = option("--json")[0] ?? join(out, "last_results.json");
/** The floor servers (the pull protocol shape without Corral) run in full runs, or with --floor. */
const withFloor = args.includes("--floor") || (!quick && !args.includes("--no-floor"));
if (option("--window").length > 0) {
  const window = Number(option("--window")[0]);
  if (!(Number.isInteger(window) && window >= 0 && window <= 64 * 1024 * 1024)) {
    throw new RangeError("--window: 0 to 67108864 bytes");
  }
  overrideWindow(window);
}
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
 * A Corral server's command, in worker mode. Deno gets --unstable-net so its workers listen through
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

/** Rounds of the load scenarios: each is one slice per server. */
const rounds = Number(option("--rounds")[0] ?? (quick ? 5 : 15));
if (!(Number.isInteger(rounds) && rounds >= 3 && rounds <= 50)) throw new RangeError("--rounds: 3 to 50");
/** --quick runs the TLS scenarios for 3 rounds, unless --rounds says otherwise, to stay near 4 minutes. */
const TLS_ROUNDS = quick && option("--rounds").length === 0 ? 3 : rounds;
/** Seconds measured per slice, after WARMUP seconds of load; every slice stays far under 10 s. */
const SECONDS = Number(option("--seconds")[0] ?? (quick ? 0.3 : 1));
if (!(SECONDS > 0 && SECONDS <= 8)) throw new RangeError("--seconds: more than 0, at most 8");
const WARMUP = quick ? 0.1 : 0.2;
/** idle starts fresh servers each round and opens 10,000 connections to each. */
const IDLE_ROUNDS = quick ? 2 : 3;
const IDLE_CONNECTIONS = 10_000;
const MEMORY_ROUNDS = quick ? 3 : 5;
/** redis-benchmark runs per server in each resp-* scenario (each about a second per test). */
const RESP_ROUNDS = Math.min(rounds, 7);
const MEMORY_SECONDS = quick ? 0.25 : 1;

// ---- measurements ----

/**
 * A load scenario: the servers (`commands[impl]`) stay up, and one load
 * generator alternates between them, one slice each per round (in order in
 * even rounds, reversed in odd ones), with its connections to all of them
 * held open. Only the loaded server uses its core.
 */
async function loadRounds(commands, impls, scenario, limit) {
  const servers = [];
  const slices = isTls(scenario) ? TLS_ROUNDS : rounds;
  try {
    for (const impl of impls) servers.push(await startServer(commands[impl], limit));
    const loadArgs = [
      ...loadgenArgs(scenario),
      "--slices",
      String(slices),
      "--seconds",
      String(SECONDS),
      "--warmup",
      String(WARMUP),
    ];
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

/**
 * idle: a fresh server, 10,000 connections held, VmRSS before and after (after a full GC each), and how
 * many connections the server held (/proc; and its own count where it keeps one, for the report to compare).
 */
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
    const held = heldConnections(server.child.pid, server.port);
    const ownHeld = await ownCount(server);
    proc.child.stdin.write("done\n");
    const result = JSON.parse(await proc.next(30_000, "loadgen result"));
    const perConn = (key) => (heapAfter[key] - heapBefore[key]) / IDLE_CONNECTIONS;
    return {
      ...result,
      held,
      own_held: ownHeld,
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

/** The servers a runtime runs in each kind of scenario, in slice order. */
function implsOf(name, runtime) {
  if (runtime.corral === undefined) return { load: ["raw"], tls: [], idle: ["raw"] };
  const corral = ["corral", "handler"];
  const floor = withFloor && runtime.floor !== undefined ? ["floor"] : [];
  const workerMode = workers > 0 && canRunWorkers(name, runtime) ? ["workers", "handlerWorkers"] : [];
  return {
    load: ["raw", ...floor, ...corral, ...workerMode],
    tls: ["raw", ...corral, ...workerMode],
    idle: ["raw", ...floor, ...corral],
  };
}

/** A runtime's server commands with the worker-mode ones added (by impl). */
function withWorkerCommands(name, servers) {
  if (servers === undefined || workers === 0) return servers;
  return {
    ...servers,
    workers: inWorkerMode(name, servers.corral),
    handlerWorkers: inWorkerMode(name, servers.handler),
  };
}

// ---- main ----

/** results[runtime][scenario] = { raw: [...rounds], floor?, corral?, handler?, workers?, handlerWorkers? } */
let results = {};
let versions = {};
const all = runtimes();
const started = Date.now();
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(0)} s`;
const from = option("--from")[0];
if (from !== undefined) {
  // Prints the tables of a saved run again (its JSON file) instead of measuring.
  ({ results, versions = {} } = JSON.parse(readFileSync(from, "utf8")));
} else {
  const { tlsProblem } = await prepare();
  const limit = descriptorLimit();
  if (scenarios.includes("idle") && limit < IDLE_CONNECTIONS + 1000) {
    throw new Error(
      `the idle scenario needs a hard descriptor limit of ${IDLE_CONNECTIONS + 1000} or more (ulimit -Hn)`,
    );
  }
  console.log(
    `corral bench: ${cpus().length} cores (${cpus()[0]?.model ?? "?"}), ${quick ? "quick" : "full"}: ${rounds} ` +
      `rounds of ${SECONDS} s slices${TLS_ROUNDS === rounds ? "" : ` (TLS: ${TLS_ROUNDS})`}, ${IDLE_ROUNDS} idle ` +
      `rounds, ${MEMORY_ROUNDS} memory rounds; servers on core 0, loadgen on core 1; ulimit -n ${limit}` +
      `${withFloor ? "" : "; no floor servers"}`,
  );
  for (const scenario of scenarios.filter((name) => isLoad(name) || isResp(name))) {
    console.log(`  ${scenario}: ${describe(scenario)}`);
  }
  const noResp = scenarios.some(isResp) ? respProblem() : undefined;
  if (noResp !== undefined) console.log(`resp scenarios skipped: ${noResp}`);
  if (tlsProblem !== undefined && scenarios.some(isTls)) console.log(`TLS scenarios skipped: ${tlsProblem}`);
  for (const name of runtimeNames) {
    const runtime = all[name];
    if (runtime.version === undefined) {
      console.log(`${name}: not installed, skipped`);
      continue;
    }
    results[name] = {};
    const impls = implsOf(name, runtime);
    if (workers > 0 && name !== "c" && !impls.load.includes("workers")) {
      console.log(`  ${name}: no worker mode (no reusePort here)`);
    }
    const servers = withWorkerCommands(name, runtime);
    const tlsServers = withWorkerCommands(name, runtime.tls);
    for (const scenario of scenarios) {
      if (scenario === "memory" && runtime.memory === undefined) continue;
      if (isTls(scenario) && (runtime.tls === undefined || tlsProblem !== undefined)) continue;
      const resp = isResp(scenario) ? respServers(name, runtime) : undefined;
      if (isResp(scenario) && (resp === undefined || noResp !== undefined)) continue;
      try {
        results[name][scenario] = resp !== undefined
          ? await respRounds(resp, ["raw", "corral", "handler"], RESP[scenario], RESP_ROUNDS, limit)
          : scenario === "memory"
          ? await memoryRounds(runtime)
          : scenario === "idle"
          ? await idleRounds(runtime, impls.idle, limit)
          : isTls(scenario)
          ? await loadRounds(tlsServers, impls.tls, scenario, limit)
          : await loadRounds(servers, impls.load, scenario, limit);
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
  versions = Object.fromEntries(Object.keys(results).map((name) => [name, all[name].version]));
  const settings = Object.fromEntries(scenarios.filter(isLoad).map((scenario) => [scenario, LOAD[scenario]]));
  writeFileSync(
    jsonFile,
    JSON.stringify(
      { rounds, seconds: SECONDS, quick, busyLimit: BUSY_LIMIT, settings, versions, results },
      null,
      2,
    ),
  );
}

printReport(results, all, versions, IDLE_CONNECTIONS);
if (from === undefined) console.log(`\n${elapsed()}; every round's figures in ${jsonFile}`);
