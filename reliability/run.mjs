#!/usr/bin/env node
/**
 * `npm run stress`: the reliability suite (see RELIABILITY.md). Each scenario
 * runs its server in a child process on the runtime under test (Node.js 20
 * through an esbuild bundle, Node.js 24, Deno 2 and Bun 1 from
 * node_modules, found as scripts/test.mjs finds them) and its load from a
 * Node.js process (reliability/driver.ts), which reads the server's
 * descriptors, RSS and CPU from /proc/<pid>/. Prints one row per scenario ×
 * runtime and the total line `N passed, N failed`; exits non-zero on a failure.
 *
 * Usage: node reliability/run.mjs [--quick] [--runtime=NAME[,NAME]]... [--soak-seconds=N] [--hellos=N] [--json=FILE] [FILTER]...
 *
 * - `--quick`: scaled-down counts and times (what CI runs; under 5 minutes for all four runtimes).
 * - `--runtime`: among node20, node24, deno, bun (default: all four).
 * - `--soak-seconds=N`: the churn soak's time bound in the full run (default 600).
 * - `--hellos=N`: TLS ClientHellos the full run's fuzz sends (default 100,000).
 * - `--json=FILE`: also writes every result as JSON (what RELIABILITY.md's tables come from).
 * - FILTER: a scenario runs when its name contains any filter; a filter that matches none is an error.
 */
import { execFileSync, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { bundleForNode } from "../scripts/_bundle.mjs";
import { findNode24 } from "../scripts/_node24.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const here = join(root, "reliability");
const bin = (name) => join(root, "node_modules", ".bin", name);
const machineNode = process.env.npm_node_execpath ?? process.execPath;
const SCENARIOS = ["crash", "emfile", "slowloris", "graceful", "churn", "slowreader", "fuzz", "halfopen"];
const RUNTIMES = ["node20", "node24", "deno", "bun"];

function usage(message) {
  console.error(`stress: ${message}`);
  console.error(
    `usage: node reliability/run.mjs [--quick] [--runtime=NAME[,NAME]] [--soak-seconds=N] [--hellos=N] [--json=FILE] [FILTER]...`,
  );
  process.exit(2);
}

const options = { quick: false, runtimes: [], filters: [], soakSeconds: 600, hellos: 100_000, json: undefined };
const args = process.argv.slice(2);
for (let i = 0; i < args.length; i++) {
  const arg = args[i];
  const value = (prefix) => (arg === prefix ? args[++i] : arg.slice(prefix.length + 1));
  if (arg === "--quick") options.quick = true;
  else if (arg === "--runtime" || arg.startsWith("--runtime=")) {
    for (const name of (value("--runtime") ?? "").split(",").map((s) => s.trim()).filter(Boolean)) {
      if (!RUNTIMES.includes(name)) usage(`unknown runtime ${JSON.stringify(name)} (${RUNTIMES.join(", ")})`);
      if (!options.runtimes.includes(name)) options.runtimes.push(name);
    }
  } else if (arg === "--soak-seconds" || arg.startsWith("--soak-seconds=")) {
    options.soakSeconds = Number(value("--soak-seconds"));
    if (!(options.soakSeconds > 0)) usage("--soak-seconds needs a positive number");
  } else if (arg === "--hellos" || arg.startsWith("--hellos=")) {
    options.hellos = Number(value("--hellos"));
    if (!(options.hellos > 0)) usage("--hellos needs a positive number");
  } else if (arg === "--json" || arg.startsWith("--json=")) options.json = value("--json");
  else if (arg.startsWith("-")) usage(`unknown option ${arg}`);
  else options.filters.push(arg);
}
const runtimes = options.runtimes.length > 0 ? options.runtimes : RUNTIMES;
const scenarios = options.filters.length === 0
  ? SCENARIOS
  : SCENARIOS.filter((name) => options.filters.some((filter) => name.includes(filter)));
if (scenarios.length === 0) usage(`no scenario matches ${options.filters.join(" or ")} (${SCENARIOS.join(", ")})`);

// Bundles for Node.js 20 (the load side always runs there too), one per run so concurrent runs never collide.
const build = join(root, ".test-build");
mkdirSync(build, { recursive: true });
const driverBundle = join(build, `stress-driver-${process.pid}.mjs`);
const serverBundle = join(build, `stress-server-${process.pid}.mjs`);
const certDir = mkdtempSync(join(tmpdir(), "corral-stress-"));
process.once("exit", () => {
  for (const file of [driverBundle, serverBundle]) rmSync(file, { force: true });
  rmSync(certDir, { recursive: true, force: true });
});
await bundleForNode(join(here, "driver.ts"), driverBundle);
if (runtimes.includes("node20")) await bundleForNode(join(here, "server.ts"), serverBundle);

const cert = join(certDir, "cert.pem"), key = join(certDir, "key.pem");
execFileSync("openssl", [
  "req",
  "-x509",
  ...["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2"],
  ...["-keyout", key, "-out", cert, "-subj", "/CN=localhost"],
  ...["-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-addext", "basicConstraints=critical,CA:FALSE"],
], { stdio: ["ignore", "ignore", "inherit"] });

/**
 * How each runtime starts server.ts: with a collectable heap, so RSS is read
 * after a full GC, and V8's young generation capped at 8 MiB per semi-space:
 * V8 otherwise grows it with the allocation rate and keeps the pages (raw
 * node:net servers too), so RSS would climb by up to 100 MiB over the first
 * ~60,000 connections while the live heap stays flat, hiding or faking a leak.
 */
const V8_FLAGS = ["--expose-gc", "--max-semi-space-size=8"];
const servers = {
  node20: () => ({ command: machineNode, args: [...V8_FLAGS, serverBundle] }),
  node24: () => {
    const { binary, missing } = findNode24();
    if (missing) return { missing };
    return { command: binary, args: [...V8_FLAGS, "--disable-warning=ExperimentalWarning", join(here, "server.ts")] };
  },
  deno: () => ({ command: bin("deno"), args: ["run", "-A", "--quiet", `--v8-flags=${V8_FLAGS.join(",")}`, join(here, "server.ts")] }),
  bun: () => ({ command: bin("bun"), args: ["run", join(here, "server.ts")] }),
};

const mib = (value) => Math.round(value);
const total = { passed: 0, failed: 0 };
const results = [];
const started = performance.now();
for (const runtime of runtimes) {
  const how = servers[runtime]();
  if (how.missing) {
    console.log(`${runtime}: FAILED, cannot run: ${how.missing}`);
    total.failed += scenarios.length;
    continue;
  }
  console.log(`\n=== ${runtime}: ${how.command} ${how.args.join(" ")}${options.quick ? " (quick)" : ""}`);
  const config = { runtime, how, scenarios, quick: options.quick, cert, key, ...options };
  const child = spawn(machineNode, [driverBundle, JSON.stringify(config)], { stdio: ["ignore", "pipe", "inherit"] });
  const seen = new Set();
  for await (const line of createInterface({ input: child.stdout })) {
    if (!line.startsWith("RESULT ")) {
      console.log(`  ${line}`);
      continue;
    }
    const result = { runtime, ...JSON.parse(line.slice(7)) };
    seen.add(result.name);
    results.push(result);
    const pass = result.failures.length === 0 && result.lost === 0;
    total[pass ? "passed" : "failed"]++;
    const p99 = result.p99 === undefined ? "" : `, p99 ${result.p99.toFixed(1)} ms`;
    console.log(
      `${pass ? "ok  " : "FAIL"} ${runtime} ${result.name} (${result.seconds.toFixed(1)} s): offered ${result.offered}; ` +
        `held ${result.served}${p99}; lost ${result.lost}; fds ${result.fds[0]} -> ${result.fds[1]}; ` +
        `RSS ${mib(result.rss[0])} -> ${mib(result.rss[1])} MiB${result.notes ? `; ${result.notes}` : ""}`,
    );
    for (const failure of result.failures) console.log(`       ${failure.split("\n").join("\n       ")}`);
  }
  const code = await new Promise((resolve) => child.once("exit", resolve));
  for (const name of scenarios.filter((name) => !seen.has(name))) {
    console.log(`FAIL ${runtime} ${name}: the driver exited (${code}) before reporting it`);
    total.failed++;
  }
}
if (options.json) writeFileSync(options.json, JSON.stringify({ quick: options.quick, results }, null, 2));
console.log(`\n(${((performance.now() - started) / 1000).toFixed(0)} s)`);
console.log(`${total.passed} passed, ${total.failed} failed`);
process.exitCode = total.failed > 0 ? 1 : 0;
