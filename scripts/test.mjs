#!/usr/bin/env node
/**
 * `npm test`: runs the one test suite (test/main.ts) on Node.js 20 (the
 * machine's, through an esbuild bundle since it cannot strip types),
 * Node.js 24, Deno 2 and Bun 1 (all three from npm dev dependencies), then
 * the consumer tests (scripts/test_consumers.mjs: the same protocol tests
 * under vitest, node:test, bun test and deno test), and prints one row per
 * runtime and one total line `N passed, N failed[, N skipped]` over all of
 * them.
 *
 * Usage: node scripts/test.mjs [--runtime NAME[,NAME]]... [FILTER]...
 *
 * - `--runtime NAME` or `--runtime=NAME` (repeatable, or a comma list) picks
 *   runtimes among node20, node24, deno, bun and consumers. Without it every
 *   runtime runs, and the consumer tests too, when no filter is given.
 * - Every other argument is a name filter: a test runs when its name contains
 *   any of them. A filter that matches no test on a runtime fails that
 *   runtime (a typo never passes as "0 tests, all green"). Filters do not
 *   apply to the consumer tests, which run only when asked for by name.
 * - A runtime whose binary is missing (Node.js 24 comes from the npm package
 *   for this platform, and npm has none for every platform) is skipped with
 *   the reason, counted as one skipped; under CI (CI=true) it is a failure.
 */
import { existsSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { bundleForNode } from "./_bundle.mjs";
import { findNode24 } from "./_node24.mjs";
import { runGroup } from "./_run_group.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const ci = /^(1|true)$/i.test(process.env.CI ?? "");
const bin = (name) => join(root, "node_modules", ".bin", process.platform === "win32" ? `${name}.cmd` : name);
// npm puts node_modules/.bin (with Node.js 24's `node`) first on PATH, so the
// machine's Node.js is the one running npm: npm_node_execpath, or this process.
const machineNode = process.env.npm_node_execpath ?? process.execPath;
const consumersScript = join(root, "scripts", "test_consumers.mjs");

/** Each runtime: the command that runs test/main.ts, or why it cannot run here. */
const runtimes = {
  node20: async () => {
    // One bundle per run, so concurrent runs never read each other's half-written file.
    const outfile = join(root, ".test-build", `main-${process.pid}.mjs`);
    process.once("exit", () => rmSync(outfile, { force: true }));
    await bundleForNode(join(root, "test", "main.ts"), outfile);
    return { command: machineNode, args: [outfile] };
  },
  node24: () => {
    const { binary, missing } = findNode24();
    if (missing) return { missing };
    return { command: binary, args: ["--disable-warning=ExperimentalWarning", join(root, "test", "main.ts")] };
  },
  deno: () => ({ command: bin("deno"), args: ["run", "-A", "--quiet", join(root, "test", "main.ts")] }),
  bun: () => ({ command: bin("bun"), args: ["run", join(root, "test", "main.ts")] }),
  consumers: () => {
    if (!existsSync(consumersScript)) return { missing: "scripts/test_consumers.mjs does not exist" };
    return { command: machineNode, args: [consumersScript], consumers: true };
  },
};
const known = Object.keys(runtimes);

function usage(message) {
  console.error(`test.mjs: ${message}`);
  console.error(`usage: node scripts/test.mjs [--runtime NAME[,NAME]]... [FILTER]...  (NAME: ${known.join(", ")})`);
  process.exit(2);
}

const args = process.argv.slice(2);
const picked = [];
const filters = [];
for (let i = 0; i < args.length; i++) {
  const arg = args[i];
  let value;
  if (arg === "--runtime") {
    if (i + 1 >= args.length) usage("--runtime needs a name");
    value = args[++i];
  } else if (arg.startsWith("--runtime=")) {
    value = arg.slice("--runtime=".length);
  } else if (arg === "--help" || arg === "-h") {
    console.log(`usage: node scripts/test.mjs [--runtime NAME[,NAME]]... [FILTER]...  (NAME: ${known.join(", ")})`);
    process.exit(0);
  } else if (arg.startsWith("-")) {
    usage(`unknown option ${arg}`);
  } else {
    filters.push(arg);
    continue;
  }
  for (const name of value.split(",").map((part) => part.trim()).filter(Boolean)) {
    if (!known.includes(name)) usage(`unknown runtime ${JSON.stringify(name)}`);
    if (!picked.includes(name)) picked.push(name);
  }
  if (value.split(",").every((part) => part.trim() === "")) usage(`--runtime needs a name`);
}

// By default: every runtime, then the consumer tests (when the script exists).
// With filters or --runtime, the consumer tests run only when named.
let names = picked;
if (names.length === 0) {
  names = known.filter((name) => name !== "consumers");
  if (filters.length === 0 && existsSync(consumersScript)) names.push("consumers");
}

const total = { passed: 0, failed: 0, skipped: 0 };
const rows = [];
for (const name of names) {
  const runtime = await runtimes[name]();
  const missing = runtime.missing ??
    (existsSync(runtime.command) ? undefined : `${runtime.command} is missing: run npm ci`);
  if (missing !== undefined) {
    // Outside CI a runtime this machine lacks is skipped, and said so; under CI it is a failure.
    if (ci) {
      console.log(`\n=== ${name}: FAILED, cannot run: ${missing}`);
      rows.push(`${name}: FAILED, cannot run (CI=true): ${missing}`);
      total.failed++;
    } else {
      console.log(`\n=== ${name}: skipped: ${missing}`);
      rows.push(`${name}: skipped: ${missing}`);
      total.skipped++;
    }
    continue;
  }
  const commandArgs = runtime.consumers ? runtime.args : [...runtime.args, ...filters];
  if (runtime.consumers && filters.length > 0) {
    console.log(`\n(${name}: name filters do not apply to the consumer tests; running all of them)`);
  }
  console.log(`\n=== ${name}: ${runtime.command} ${commandArgs.join(" ")}`);
  // Each runtime in a process group of its own, killed whole when it ends (scripts/_run_group.mjs says why).
  const result = await runGroup(runtime.command, commandArgs, { cwd: root, timeoutMs: 15 * 60 * 1000 });
  // The last summary line is the runtime's own total (the consumer script prints per-runner rows before it).
  const summaries = [...result.stdout.matchAll(/^(\d+) passed, (\d+) failed(?:, (\d+) skipped)?$/gm)];
  const summary = summaries.at(-1);
  if (summary === undefined || result.status !== (Number(summary[2]) > 0 ? 1 : 0)) {
    // A runtime that crashed or hung counts as one failure, never as silence.
    const how = result.timedOut ? "timed out after 15 min" : `exit ${result.status}`;
    rows.push(`${name}: FAILED, did not finish (${how}${result.signal ? `, ${result.signal}` : ""})`);
    total.failed++;
    continue;
  }
  const [passed, failed, skipped] = [Number(summary[1]), Number(summary[2]), Number(summary[3] ?? 0)];
  if (passed + failed + skipped === 0) {
    const why = filters.length > 0 && !runtime.consumers
      ? ` matching ${filters.map((f) => JSON.stringify(f)).join(" or ")}`
      : "";
    rows.push(`${name}: FAILED, ran no tests${why}`);
    total.failed++;
    continue;
  }
  total.passed += passed;
  total.failed += failed;
  total.skipped += skipped;
  rows.push(`${name}: ${summary[0]}`);
}
console.log(`\n${rows.join("\n")}`);
const skipped = total.skipped > 0 ? `, ${total.skipped} skipped` : "";
console.log(`${total.passed} passed, ${total.failed} failed${skipped}`);
process.exitCode = total.failed > 0 ? 1 : 0;
