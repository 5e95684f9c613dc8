#!/usr/bin/env node
/**
 * Turns the JSON a stress run wrote (`node reliability/run.mjs --json=FILE`)
 * into RELIABILITY.md's tables: one per runtime, one row per scenario.
 *
 * Usage: node reliability/table.mjs FILE
 */
import { readFileSync } from "node:fs";

const [file] = process.argv.slice(2);
if (!file) throw new Error("usage: node reliability/table.mjs FILE");
const { quick, results } = JSON.parse(readFileSync(file, "utf8"));
const runtimes = [...new Set(results.map((r) => r.runtime))];
const cell = (text) => String(text).replaceAll("|", "\\|");
for (const runtime of runtimes) {
  console.log(`\n### ${runtime}${quick ? " (--quick)" : ""}\n`);
  console.log("| # | scenario | offered | held (served, p99) | lost | fds before → after | RSS MiB before → after | result | s |");
  console.log("|---|---|---|---|---|---|---|---|---|");
  results.filter((r) => r.runtime === runtime).forEach((r, i) => {
    const p99 = r.p99 === undefined ? "" : `, p99 ${r.p99.toFixed(1)} ms`;
    const pass = r.failures.length === 0 && r.lost === 0 ? "pass" : `FAIL: ${r.failures.join("; ")}`;
    console.log(
      `| ${i + 1} | ${r.name} | ${cell(r.offered)} | ${r.served}${p99} | ${r.lost} | ${r.fds[0]} → ${r.fds[1]} | ` +
        `${Math.round(r.rss[0])} → ${Math.round(r.rss[1])} | ${cell(pass)} | ${r.seconds.toFixed(0)} |`,
    );
  });
  console.log("\nNotes:\n");
  for (const r of results.filter((r) => r.runtime === runtime)) if (r.notes) console.log(`- ${r.name}: ${cell(r.notes)}`);
}
