/**
 * The server side of one reliability scenario, run in a child process on the
 * runtime under test, so that the descriptors and RSS the driver reads from
 * /proc/<pid>/ are this process's alone (the load comes from another one).
 *
 * Usage: server.ts SCENARIO PARAMS_JSON
 *
 * It prints `READY {json}` (ports and such) once listening, then answers one
 * JSON command per stdin line with one `REPLY {json}` line: `info` (the
 * listeners' info() and the scenario's own counts), `gc` (`reduce: true`: one that
 * also hands V8's free heap pages back), `stop` (stops every
 * listener, replies when done), any scenario command, and `exit`.
 *
 * @module
 */
import { createInterface } from "node:readline";
import { type Listener, type Logger } from "../mod.ts";
import { servers } from "./_servers.ts";

declare const Bun: { gc(force: boolean): void } | undefined;
declare const Deno: unknown;

/** What a scenario's server set-up returns. */
export interface ScenarioServer {
  /** Listeners by name, reported by `info`, stopped by `stop`. */
  listeners: Record<string, Listener<unknown>>;
  /** Whatever the driver needs to connect (ports). */
  ready?: Record<string, unknown>;
  /** The scenario's own counters, reported by `info`. */
  stats?: () => Record<string, unknown>;
  /** Extra commands: name → reply. */
  commands?: Record<string, (command: Record<string, unknown>) => unknown>;
}

/** What every scenario's set-up gets: its parameters and a logger that counts. */
export interface ServerContext {
  params: Record<string, unknown>;
  logger: Logger;
}

const proc = globalThis.process;
const say = (line: string) => proc.stdout.write(`${line}\n`);
let unhandled = 0;
const firstUnhandled: string[] = [];
const onUnhandled = (reason: unknown) => {
  unhandled++;
  if (firstUnhandled.length < 5) firstUnhandled.push(String((reason as Error)?.stack ?? reason));
};
if (typeof Deno !== "undefined") {
  globalThis.addEventListener("unhandledrejection", (event) => {
    event.preventDefault();
    onUnhandled(event.reason);
  });
} else {
  proc.on("unhandledRejection", onUnhandled);
}
proc.on("uncaughtException", (error) => {
  unhandled++;
  if (firstUnhandled.length < 5) firstUnhandled.push(`uncaught: ${error.stack ?? error}`);
});
// Ended with SIGTERM as a deployed server is, and registered at start as such a server's handler is. On Deno this
// also sets up the runtime's signal handling (a thread and a socket pair, made on the first listener) while
// descriptors are free: Deno 2.9.6 made it lazily during the emfile scenario, at EMFILE, and panicked
// (ext/signals/lib.rs, `Signals::new(..).unwrap()` in `init()`), intermittently.
proc.on("SIGTERM", () => proc.exit(0));

/**
 * What the logger was told, as counts by the message's shape (digits as N, so "connection N from
 * N.N.N.N:N: ..." is one key) up to MAX_SHAPES keys. Not the messages themselves: a fuzz or a
 * slowloris run logs one warning per failed handshake, and keeping 100,000 of them (and sending them
 * all in every `info` reply) grew the server's heap by ~220 bytes a handshake (RELIABILITY.md 7).
 */
const MAX_SHAPES = 100;
const logged = { warn: {} as Record<string, number>, error: {} as Record<string, number> };
const count = (tally: Record<string, number>, message: string) => {
  let shape = message.replace(/\d+/g, "N");
  if (!(shape in tally) && Object.keys(tally).length >= MAX_SHAPES) shape = "(other shapes)";
  tally[shape] = (tally[shape] ?? 0) + 1;
};
const logger: Logger = {
  debug() {},
  info() {},
  warn: (message: string) => count(logged.warn, message),
  error: (message: string) => count(logged.error, message),
};

/** V8's gc() from --expose-gc; it takes options (v8/src/extensions/gc-extension.h). */
type V8Gc = (options?: { type: "major"; execution: "sync"; flavor: "last-resort" }) => void;

/**
 * Two full collections (the second finds what the first's finalizers freed). With `reduce`, the first is V8's
 * memory-reducing one (the "last-resort" flavor, what V8 runs before it gives up on an allocation): it also hands
 * the heap's free pages back and shrinks the young generation. A plain full GC keeps them, so RSS after it swings by
 * ±10 MiB with how the heap was sized at the time (Deno's churn soak, RELIABILITY.md 2), while the live heap is the
 * same. The second is always plain: Node.js 20's V8 (11.3) takes the options object for a lighter collection that
 * left 14-20 MiB of dead objects in the live heap (CI saw the heap check fail on it).
 */
function collectGarbage(reduce: boolean): void {
  if (typeof Bun !== "undefined") {
    Bun.gc(true);
    Bun.gc(true);
    return;
  }
  const gc = (globalThis as { gc?: V8Gc }).gc;
  if (gc === undefined) return;
  if (reduce) gc({ type: "major", execution: "sync", flavor: "last-resort" });
  else gc();
  gc();
}

const [name, paramsJson] = proc.argv.slice(2).filter((arg) => !arg.endsWith(".ts") && !arg.endsWith(".mjs"));
const setUp = servers[name ?? ""];
if (setUp === undefined) throw new Error(`server.ts: unknown scenario ${name}`);
const server = await setUp({ params: JSON.parse(paramsJson ?? "{}"), logger });
const ports = Object.fromEntries(Object.entries(server.listeners).map(([key, l]) => [key, l.port]));
say(`READY ${JSON.stringify({ pid: proc.pid, ports, ...server.ready })}`);

function info(): Record<string, unknown> {
  const listeners = Object.fromEntries(
    Object.entries(server.listeners).map(([key, l]) => [key, { ...l.info(), all: l.connections("all") }]),
  );
  return { listeners, stats: server.stats?.() ?? {}, unhandled, firstUnhandled, logged };
}

const commands: Record<string, (command: Record<string, unknown>) => unknown> = {
  info,
  gc: (command) => {
    collectGarbage(command.reduce === true);
    const { heapUsed, heapTotal, external, arrayBuffers } = proc.memoryUsage();
    return { heapUsed, heapTotal, external, arrayBuffers };
  },
  stop: async () => {
    const started = performance.now();
    await Promise.all(Object.values(server.listeners).map((l) => l.stop()));
    return { stoppedAfter: performance.now() - started, ...info() };
  },
  ...server.commands,
};

for await (const line of createInterface({ input: proc.stdin })) {
  if (line.trim() === "") continue;
  const command = JSON.parse(line) as { cmd: string };
  if (command.cmd === "exit") break;
  const run = commands[command.cmd];
  try {
    if (run === undefined) throw new Error(`unknown command ${command.cmd}`);
    say(`REPLY ${JSON.stringify(await run(command))}`);
  } catch (error) {
    say(`REPLY ${JSON.stringify({ error: String((error as Error).stack ?? error) })}`);
  }
}
await Promise.all(Object.values(server.listeners).map((l) => l.stop()));
proc.exit(0);
