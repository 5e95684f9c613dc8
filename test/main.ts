/**
 * Runs the whole suite on whichever runtime executes this file, and ends
 * with the line `N passed, N failed[, N skipped]`. `scripts/test.mjs` runs it
 * on every runtime. An argument filters tests by name.
 *
 * @module
 */
import { run } from "./_harness.ts";
import { runtimeLabel } from "./_runtime.ts";
import { runEmfileChild } from "./_emfile_child.ts";
import "./all_tests.ts";

if (globalThis.process.argv.includes("--emfile-child")) await runEmfileChild();

console.log(`# corral test suite on ${runtimeLabel}`);
const summary = await run(globalThis.process?.argv?.[2] ?? "");
const skipped = summary.skipped > 0 ? `, ${summary.skipped} skipped` : "";
console.log(`${summary.passed} passed, ${summary.failed} failed${skipped}`);
globalThis.process.exitCode = summary.failed > 0 ? 1 : 0;
// Open handles a failed test left behind must not keep the runner alive.
setTimeout(() => globalThis.process.exit(), 50).unref?.();
