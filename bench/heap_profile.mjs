#!/usr/bin/env node
/**
 * What an idle connection is made of: holds N idle connections on one
 * server (raw, floor, or Corral: `corral` the pull-shaped echo, `handler`
 * the handler() one; any runtime), takes a heap snapshot before and after
 * (through the servers' control protocol), and prints the objects added
 * per connection, by kind and constructor, largest first.
 *
 *   node bench/heap_profile.mjs --runtime node20|node24|deno|bun --impl raw|floor|corral|handler [--conns 2000]
 *     [--top 30]
 *
 * Snapshots go to bench/build/. Sizes are V8's (or JavaScriptCore's, on
 * Bun) shallow object sizes; memory outside the heap (socket buffers,
 * runtime resources) is not in them.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  collectGarbage,
  descriptorLimit,
  expectLine,
  loadgen,
  out,
  prepare,
  rssKiB,
  runtimes,
  spawnPinned,
  startServer,
  stopProcess,
} from "./_servers.mjs";

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const at = args.indexOf(name);
  return at >= 0 && at + 1 < args.length ? args[at + 1] : fallback;
};
const runtimeName = option("--runtime", "node20");
const impl = option("--impl", "corral");
const conns = Number(option("--conns", "2000"));
const top = Number(option("--top", "30"));
if (!(conns >= 1 && conns <= 10_000)) throw new RangeError("--conns: 1 to 10000");
const runtime = runtimes()[runtimeName];
if (runtime?.[impl] === undefined || runtimeName === "c") throw new TypeError(`no ${impl} server on ${runtimeName}`);

/** Counts and shallow sizes by "kind:name" in one snapshot file. */
function summarize(file) {
  const snapshot = JSON.parse(readFileSync(file, "utf8"));
  const { node_fields: fields, node_types: [types] } = snapshot.snapshot.meta;
  const width = fields.length;
  const [typeAt, nameAt, sizeAt] = ["type", "name", "self_size"].map((field) => fields.indexOf(field));
  const { nodes, strings } = snapshot;
  const totals = new Map();
  for (let i = 0; i < nodes.length; i += width) {
    const type = types[nodes[i + typeAt]];
    // Strings and code are named by their contents: count them as one kind each.
    const name = type.includes("string") || type === "code" ? "" : String(strings[nodes[i + nameAt]]).slice(0, 50);
    const key = `${type}:${name}`;
    const entry = totals.get(key) ?? { count: 0, size: 0 };
    entry.count++;
    entry.size += nodes[i + sizeAt];
    totals.set(key, entry);
  }
  return totals;
}

await prepare();
const limit = descriptorLimit();
const server = await startServer(runtime[impl], limit);
const proc = spawnPinned(1, [loadgen, ["idle", "--port", String(server.port), "--conns", String(conns)]], limit);
const snapshot = async (file) => {
  server.child.stdin.write(`snapshot ${file}\n`);
  await expectLine(server, "snapshot ok", 120_000);
};
const before = join(out, `${runtimeName}-${impl}-before.heapsnapshot`);
const after = join(out, `${runtimeName}-${impl}-after.heapsnapshot`);
try {
  await expectLine(proc, "warm", 30_000);
  await collectGarbage(server);
  await snapshot(before);
  const rssBefore = rssKiB(server.child.pid);
  proc.child.stdin.write("go\n");
  await expectLine(proc, `holding ${conns}`, 60_000);
  await collectGarbage(server);
  const rssAfter = rssKiB(server.child.pid);
  await snapshot(after);
  proc.child.stdin.write("done\n");
  await proc.exited;
  const [a, b] = [summarize(before), summarize(after)];
  const rows = [...b].map(([key, { count, size }]) => {
    const base = a.get(key) ?? { count: 0, size: 0 };
    return { key, count: (count - base.count) / conns, size: (size - base.size) / conns };
  }).filter((row) => Math.abs(row.size) >= 0.5).sort((x, y) => y.size - x.size);
  const total = rows.reduce((sum, row) => sum + row.size, 0);
  console.log(`${runtime.label} ${runtime.version}, ${impl}, ${conns} idle connections`);
  console.log(
    `RSS ${((rssAfter - rssBefore) / conns).toFixed(2)} KiB/conn; heap objects ${total.toFixed(0)} bytes/conn:\n`,
  );
  console.log("bytes/conn  objects/conn  kind:name");
  for (const row of rows.slice(0, top)) {
    console.log(`${row.size.toFixed(0).padStart(10)}  ${row.count.toFixed(2).padStart(12)}  ${row.key}`);
  }
} finally {
  proc.child.kill("SIGKILL");
  await stopProcess(server);
}
