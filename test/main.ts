/**
 * Runs the whole suite on whichever runtime executes this file, and ends
 * with the line `N passed, N failed[, N skipped]`. `scripts/test.mjs` runs it
 * on every runtime. Arguments filter tests by name: a test runs when its
 * name contains any of them, and a filter that matches no test fails the run.
 *
 * @module
 */
import { readdirSync } from "node:fs";
import { run } from "./_harness.ts";
import { runtimeLabel } from "./_runtime.ts";
import { runEmfileChild } from "./_emfile_child.ts";

if (globalThis.process.argv.includes("--emfile-child")) await runEmfileChild();

// Every test/*_test.ts file, found at run time. The template import lets
// esbuild bundle them all for Node.js 20; "../test/" resolves to this folder
// both from test/main.ts and from the bundle in .test-build/.
const testDir = new URL("../test/", import.meta.url);
for (const file of readdirSync(testDir).filter((name) => name.endsWith("_test.ts")).sort()) {
  await import(`../test/${file.slice(0, -"_test.ts".length)}_test.ts`);
}

console.log(`# corral test suite on ${runtimeLabel}`);
// Every argument is a name filter: a test runs when its name contains any of them.
const filters = globalThis.process.argv.slice(2).filter((arg) => !arg.startsWith("--"));
const summary = await run(filters);
// A filter that names no test is a failure, not an empty success.
for (const filter of summary.unmatched) {
  summary.failed++;
  console.log(`not ok - filter ${JSON.stringify(filter)} matches no test name`);
}
const skipped = summary.skipped > 0 ? `, ${summary.skipped} skipped` : "";
console.log(`${summary.passed} passed, ${summary.failed} failed${skipped}`);
globalThis.process.exitCode = summary.failed > 0 ? 1 : 0;
// Open handles a failed test left behind must not keep the runner alive.
setTimeout(() => globalThis.process.exit(), 50).unref?.();
