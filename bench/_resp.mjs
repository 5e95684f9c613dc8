/**
 * The resp-* scenarios of bench/run.mjs: the stock `redis-benchmark`
 * (Debian's redis-tools) against examples/resp_server.ts's protocol on
 * Corral (bench/servers/corral_resp.ts, pull and handler shapes) and against
 * a raw-socket twin with the same parser (bench/servers/raw_resp_*.ts).
 *
 * The servers stay up on core 0; redis-benchmark runs on core 1, one run
 * (`-t set,get`, random keys) per server per round, the servers in turn
 * (reversed every other round). Each run yields one slice: requests per
 * second over the run's wall time, and the cores the server, the client and
 * everything else used meanwhile (from /proc), so the report's server CPU
 * per request compares Corral with raw round by round.
 */
import { spawn, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { benchDir, out, startServer, stopProcess } from "./_servers.mjs";

const REDIS_BENCHMARK = "redis-benchmark";

/** Why the resp scenarios cannot run here, or undefined. */
export function respProblem() {
  const result = spawnSync(REDIS_BENCHMARK, ["--version"], { encoding: "utf8" });
  return result.status === 0 ? undefined : "redis-benchmark is not installed (apt-get install redis-tools)";
}

/** Each runtime's RESP servers: raw twin, Corral pull, Corral handler. */
export function respServers(name, runtime) {
  if (runtime.corral === undefined) return undefined;
  const [command] = runtime.corral;
  const handler = ["--shape", "handler"];
  if (name.startsWith("node")) {
    const bundle = (file, more = []) => [command, ["--expose-gc", join(out, file), ...more]];
    return { raw: bundle("raw_resp_node.mjs"), corral: bundle("corral_resp.mjs"), handler: bundle("corral_resp.mjs", handler) };
  }
  if (name === "deno") {
    const run = (file, more = []) => [command, ["run", "-A", "--quiet", "--v8-flags=--expose-gc", join(benchDir, file), ...more]];
    return { raw: run("servers/raw_resp_deno.ts"), corral: run("servers/corral_resp.ts"), handler: run("servers/corral_resp.ts", handler) };
  }
  const run = (file, more = []) => [command, ["run", join(benchDir, file), ...more]];
  return { raw: run("servers/raw_resp_bun.ts"), corral: run("servers/corral_resp.ts"), handler: run("servers/corral_resp.ts", handler) };
}

const TICKS = 100; // USER_HZ: /proc's clock ticks per second on Linux

/** A process's CPU time in seconds (user + system), or undefined once it is gone. */
function cpuSeconds(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / TICKS; // utime, stime (fields 14 and 15)
  } catch {
    return undefined;
  }
}

/** The whole machine's busy and total time, in ticks summed over cores. */
function machine() {
  const [user, nice, sys, idle, iowait, irq, softirq, steal] = readFileSync("/proc/stat", "utf8")
    .split("\n")[0].trim().split(/\s+/).slice(1).map(Number);
  const busy = user + nice + sys + irq + softirq + steal;
  return { busy, all: busy + idle + iowait };
}

/** One redis-benchmark run against `port`: its slice. */
function runOnce(server, { pipeline, clients, requests }) {
  const args = [
    "-p", String(server.port), "-c", String(clients), "-P", String(pipeline), "-n", String(requests),
    "-r", "100000", "-t", "set,get", "--csv",
  ];
  return new Promise((resolve, reject) => {
    const serverBefore = cpuSeconds(server.child.pid);
    const machineBefore = machine();
    const started = performance.now();
    const child = spawn("taskset", ["-c", "1", REDIS_BENCHMARK, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    let clientCpu = 0;
    child.stdout.setEncoding("utf8").on("data", (chunk) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk) => (stderr += chunk));
    // redis-benchmark's own CPU, sampled until it exits (its /proc entry goes with it).
    const sampler = setInterval(() => (clientCpu = cpuSeconds(child.pid) ?? clientCpu), 50);
    child.once("error", reject);
    child.once("close", (code) => {
      clearInterval(sampler);
      const seconds = (performance.now() - started) / 1000;
      const serverCpu = cpuSeconds(server.child.pid) - serverBefore;
      const machineAfter = machine();
      const busyCores = ((machineAfter.busy - machineBefore.busy) / Math.max(1, machineAfter.all - machineBefore.all)) *
        Number(spawnSync("nproc", { encoding: "utf8" }).stdout.trim() || 1);
      if (code !== 0) return reject(new Error(`redis-benchmark exited with ${code}: ${stderr.trim()}`));
      // "test","rps","avg_latency_ms",...: one line per test after the header.
      const rps = Object.fromEntries(
        stdout.trim().split("\n").slice(1).map((line) => line.split(",").map((cell) => cell.replace(/"/g, "")))
          .map(([test, value]) => [test.toLowerCase(), Number(value)]),
      );
      const serverCores = serverCpu / seconds;
      const loadgenCores = clientCpu / seconds;
      resolve({
        rps: (2 * requests) / seconds,
        set_rps: rps.set,
        get_rps: rps.get,
        server_cpu: serverCores,
        loadgen_cpu: loadgenCores,
        other_cpu: Math.max(0, busyCores - serverCores - loadgenCores),
        errors: /error/i.test(stderr) ? 1 : 0,
        last_error: stderr.trim().split("\n").at(-1),
      });
    });
  });
}

/** A resp scenario's rounds: every server's slices, by impl. */
export async function respRounds(servers, impls, settings, rounds, limit) {
  const started = [];
  const results = Object.fromEntries(impls.map((impl) => [impl, []]));
  try {
    for (const impl of impls) started.push(await startServer(servers[impl], limit));
    // One warm-up run each (JIT, connection pools), not measured.
    for (const server of started) await runOnce(server, { ...settings, requests: Math.ceil(settings.requests / 4) });
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? impls.map((_, i) => i) : impls.map((_, i) => impls.length - 1 - i);
      for (const i of order) results[impls[i]].push(await runOnce(started[i], settings));
    }
    return results;
  } finally {
    for (const server of started) await stopProcess(server);
  }
}
