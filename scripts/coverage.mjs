#!/usr/bin/env node
/**
 * `npm run coverage`: runs the suite (test/main.ts) on Node.js 24 with V8
 * coverage on, then prints line and branch coverage of src/, transports/
 * and testing/ with c8: the per-file table, one row per top folder, and the
 * totals.
 *
 * Node.js 24 runs the .ts files natively; its type stripping replaces types
 * with blanks, so V8's offsets are the .ts files' own and c8 needs no source
 * maps. Every file under the three folders counts (c8 --all), so a file the
 * suite never loads shows as 0%, except files that hold only types (nothing
 * left once types are stripped), which have nothing to run. The adapters in
 * src/runtime/bun/ and src/runtime/deno/ run only on Bun and Deno: the
 * totals are given with and without them. c8 counts every line of a loaded
 * file (comments and blank lines too) as covered unless V8 saw the code
 * around it skipped.
 *
 * Usage: node scripts/coverage.mjs [--out DIR] [test name filter]
 *   --out DIR   also writes c8's HTML and lcov reports into DIR
 * Exits 1 when the suite failed (the figures are printed anyway).
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { transformSync } from "esbuild";
import { node24Binary } from "./_node24.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const node24 = node24Binary();
const c8 = join(root, "node_modules", "c8", "bin", "c8.js");
const folders = ["src", "transports", "testing"];
/** Code only Bun or Deno runs: reported, and left out of the "Node.js code" total. */
const otherRuntimes = { "src/runtime/bun/": "Bun only", "src/runtime/deno/": "Deno only" };

const args = process.argv.slice(2);
let out;
const filters = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === "--out") out = resolve(args[++i]);
  else filters.push(args[i]);
}
for (const path of [node24, c8]) {
  if (!existsSync(path)) fail(`${path} is missing; run npm install`);
}

const tmp = mkdtempSync(join(tmpdir(), "corral-coverage-"));
process.once("exit", () => rmSync(tmp, { recursive: true, force: true }));
const v8Dir = join(tmp, "v8");
const reportDir = out ?? join(tmp, "report");

// 1. The suite on Node.js 24, every process (the suite's children too) writing V8 coverage.
console.log(`=== suite on Node.js 24 with V8 coverage: ${node24} test/main.ts ${filters.join(" ")}`);
const started = performance.now();
const suite = spawnSync(node24, ["--disable-warning=ExperimentalWarning", join(root, "test", "main.ts"), ...filters], {
  cwd: root,
  env: { ...process.env, NODE_V8_COVERAGE: v8Dir },
  encoding: "utf8",
  stdio: ["ignore", "pipe", "inherit"],
  maxBuffer: 64 * 1024 * 1024,
  timeout: 10 * 60 * 1000,
});
const summaryLine = /^\d+ passed, \d+ failed(?:, \d+ skipped)?$/m.exec(suite.stdout ?? "")?.[0];
// The per-test lines are the suite's business (npm test); keep its failures and summary.
const suiteLines = (suite.stdout ?? "").split("\n");
const failures = suiteLines.flatMap((line, i) => (line.startsWith("not ok") ? [line, suiteLines[i + 1] ?? ""] : []));
if (failures.length > 0) console.log(failures.slice(0, 40).join("\n"));
const seconds = ((performance.now() - started) / 1000).toFixed(0);
console.log(`suite: ${summaryLine ?? `did not finish (exit ${suite.status ?? suite.signal})`} in ${seconds} s`);
if (!existsSync(v8Dir) || readdirSync(v8Dir).length === 0) fail("no V8 coverage was written");

// 2. c8 over the three folders; files with nothing left after type stripping are left out.
const typeOnly = folders.flatMap((folder) => walk(join(root, folder))).filter(isTypeOnly);
const c8Args = [
  c8,
  "report",
  "--temp-directory",
  v8Dir,
  "--reports-dir",
  reportDir,
  "--all",
  ...folders.flatMap((folder) => ["--include", `${folder}/**`]),
  ...["test/**", "bench/**", "examples/**", "scripts/**", "**/*_test.ts", "**/*.d.ts"].flatMap((g) => ["--exclude", g]),
  ...typeOnly.flatMap((file) => ["--exclude", relative(root, file)]),
  "--reporter",
  "text",
  "--reporter",
  "json-summary",
  ...(out ? ["--reporter", "html", "--reporter", "lcov"] : []),
];
const report = spawnSync(process.execPath, c8Args, { cwd: root, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
process.stdout.write(report.stdout ?? "");
process.stderr.write(report.stderr ?? "");
const summaryFile = join(reportDir, "coverage-summary.json");
if (report.status !== 0 || !existsSync(summaryFile)) fail(`c8 report failed (exit ${report.status})`);

// 3. Rows per top folder and totals, from c8's json-summary.
const perFile = Object.entries(JSON.parse(readFileSync(summaryFile, "utf8")))
  .filter(([file]) => file !== "total")
  .map(([file, data]) => ({ file: relative(root, file).split("\\").join("/"), ...data }));
const sum = (files) => {
  const total = { lines: [0, 0], branches: [0, 0], files: files.length };
  for (const f of files) {
    for (const key of ["lines", "branches"]) {
      total[key][0] += f[key].covered;
      total[key][1] += f[key].total;
    }
  }
  return total;
};
const pct = ([covered, total]) => (total === 0 ? "   -   " : `${((100 * covered) / total).toFixed(2).padStart(6)}%`);
const row = (name, t) =>
  `${name.padEnd(32)} ${pct(t.lines)} ${`${t.lines[0]}/${t.lines[1]}`.padStart(11)}   ${pct(t.branches)} ${
    `${t.branches[0]}/${t.branches[1]}`.padStart(9)
  }   ${String(t.files).padStart(5)}`;
const onNode = perFile.filter((f) => !Object.keys(otherRuntimes).some((prefix) => f.file.startsWith(prefix)));
console.log(`\n=== coverage of the Node.js 24 run (${typeOnly.length} type-only files left out)`);
console.log(
  `${"".padEnd(32)} ${"lines".padStart(7)} ${"".padStart(11)}   ${"branches".padStart(8)} ${"".padStart(8)}  files`,
);
for (const folder of folders) {
  console.log(row(`${folder}/`, sum(onNode.filter((f) => f.file.startsWith(`${folder}/`)))));
}
for (const [prefix, only] of Object.entries(otherRuntimes)) {
  console.log(row(`${prefix} (${only})`, sum(perFile.filter((f) => f.file.startsWith(prefix)))));
}
const node = sum(onNode);
const all = sum(perFile);
console.log(row("total, Node.js code", node));
console.log(row("total, every file", all));
if (out) console.log(`HTML report: ${join(reportDir, "index.html")}; lcov: ${join(reportDir, "lcov.info")}`);
console.log(
  `lines ${pct(node.lines).trim()}, branches ${pct(node.branches).trim()} (Node.js code); ` +
    `lines ${pct(all.lines).trim()}, branches ${pct(all.branches).trim()} (every file)`,
);
process.exitCode = suite.status === 0 && summaryLine !== undefined ? 0 : 1;

function walk(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return walk(path);
    return entry.name.endsWith(".ts") && !entry.name.endsWith(".d.ts") ? [path] : [];
  });
}

/** True when nothing but types is in the file: esbuild leaves no code (or only `export {};`). */
function isTypeOnly(file) {
  const { code } = transformSync(readFileSync(file, "utf8"), { loader: "ts", format: "esm" });
  return code.replace(/^export\s*\{\s*\};?\s*$/m, "").trim() === "";
}

function fail(message) {
  console.error(`coverage: ${message}`);
  process.exit(1);
}
