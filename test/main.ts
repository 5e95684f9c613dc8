/**
 * Runs the whole suite on whichever runtime executes this file, and ends
 * with the line `N passed, N failed[, N skipped]`. `scripts/test.mjs` runs it
 * on every runtime. An argument filters tests by name.
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
const summary = await run(globalThis.process?.argv?.[2] ?? "");
const skipped = summary.skipped > 0 ? `, ${summary.skipped} skipped` : "";
console.log(`${summary.passed} passed, ${summary.failed} failed${skipped}`);
globalThis.process.exitCode = summary.failed > 0 ? 1 : 0;
// Open handles a failed test left behind must not keep the runner alive.
setTimeout(() => globalThis.process.exit(), 50).unref?.();
