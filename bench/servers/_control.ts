/**
 * The control protocol between `bench/run.mjs` and a benchmark server, the
 * same on every runtime: the server prints `ready PORT` once it listens;
 * each `gc` line on stdin runs a full garbage collection and is answered
 * with `gc ok` and the heap figures as JSON (so idle memory is measured on
 * live objects only, and split into heap and the rest); `snapshot PATH`
 * writes a heap snapshot and answers `snapshot ok`; `count` is answered
 * with `count N`, the connections the server itself says it holds (-1 when
 * it keeps no count: the raw servers, whose count the bench reads from
 * /proc instead); the end of stdin stops the server.
 *
 * Only this control path uses `node:process` (Deno and Bun provide it); the
 * servers' sockets use each runtime's own API.
 *
 * @module
 */
import process from "node:process";

type Collect = () => void;

const bun = (globalThis as { Bun?: { gc(force: boolean): void } }).Bun;
const v8gc = (globalThis as { gc?: Collect }).gc;
const collect: Collect | undefined = bun !== undefined ? () => bun.gc(true) : v8gc;

type HeapSpaces = () => { space_name: string; physical_space_size: number }[];
let spaces: HeapSpaces | undefined;
void import("node:v8").then((v8) => (spaces = v8.getHeapSpaceStatistics), () => {});

/** Reads `--name value` from the command line. */
export function flag(name: string, fallback: string): string {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 && at + 1 < process.argv.length ? process.argv[at + 1]! : fallback;
}

/**
 * Announces `port` and serves control lines until stdin ends, then calls `stop` and exits; `count`, when
 * given, tells how many connections the server holds.
 */
export function control(port: number, stop: () => unknown, count?: () => number): void {
  if (collect === undefined) {
    console.error("bench server: no gc() (run Node.js with --expose-gc, Deno with --v8-flags=--expose-gc)");
  }
  process.stdout.write(`ready ${port}\n`);
  let pending = "";
  process.stdin.setEncoding("utf8");
  process.stdin.on("data", (text: string) => {
    pending += text;
    let end;
    while ((end = pending.indexOf("\n")) >= 0) {
      const line = pending.slice(0, end).trim();
      pending = pending.slice(end + 1);
      if (line.startsWith("snapshot ")) {
        // For bench/heap_profile.mjs: what the live objects are.
        void import("node:v8").then((v8) => {
          v8.writeHeapSnapshot(line.slice(9));
          process.stdout.write("snapshot ok\n");
        });
      } else if (line === "count") {
        process.stdout.write(`count ${count?.() ?? -1}\n`);
      } else if (line === "gc") {
        collect?.();
        collect?.(); // a second pass frees what the first one's finalizers released
        // The heap figures split an idle connection's cost into live JavaScript objects, the
        // young generation V8 grew meanwhile (resident, though empty after the collection),
        // buffers, and the rest.
        const { heapUsed, heapTotal, external } = process.memoryUsage();
        const newSpace = spaces?.().find((space) => space.space_name === "new_space")?.physical_space_size ?? 0;
        process.stdout.write(`gc ok ${JSON.stringify({ heapUsed, heapTotal, newSpace, external })}\n`);
      }
    }
  });
  process.stdin.on("end", async () => {
    await stop();
    process.exit(0);
  });
}
