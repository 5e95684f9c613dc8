/**
 * The redeploy the handover tests run: examples/handover.ts on this
 * runtime, a client loop of `concurrency` connections for `duration` ms,
 * SIGHUP at `switchAt` ms, then the old generation's drain and exit, and
 * the new one stopped. Each client connects, sends 4 bytes, reads them back
 * and closes; every failure is counted by kind.
 *
 * Run as a program (`--handover-scenario --via reusePort`), it prints
 * `SCENARIO <json>`: the reusePort test runs it so inside `unshare -n`,
 * where the client loop must run too (the namespace has its own loopback).
 *
 * @module
 */
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { ClosedError, tcp, TimeoutError } from "../mod.ts";
import { runtimeCommand } from "./_runtime.ts";

/** What one run saw. */
export interface ScenarioResult {
  ok: number;
  refused: number;
  reset: number;
  other: number;
  /** The first few failures, for the assertion message. */
  failures: string[];
  /** The two generations in order: pid and the connections each accepted. */
  generations: { pid: number; accepted: number }[];
  /** `ready pid=<new>` came before `drained pid=<old>`. */
  readyBeforeDrained: boolean;
  /** How the old generation ended (it prints `drained` right before it exits with 0). */
  oldExit: { status: number | null; signal: string | null };
}

/** Ms any one step may take: a scenario that hangs fails (and kills its processes) before the test times out. */
const WAIT_LIMIT = 30_000;

/** `promise`, or a rejection naming `what` after `WAIT_LIMIT` ms. */
function within<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no ${what} within ${WAIT_LIMIT} ms`)), WAIT_LIMIT);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/** Lines of a child's stdout, each matched against patterns as it arrives (or from those seen already). */
class Lines {
  readonly seen: string[] = [];
  #waiters: { pattern: RegExp; resolve: (match: RegExpExecArray) => void }[] = [];
  readonly ended: Promise<void>;

  constructor(input: NodeJS.ReadableStream) {
    const reader = createInterface({ input });
    reader.on("line", (line) => {
      this.seen.push(line);
      this.#waiters = this.#waiters.filter((waiter) => {
        const match = waiter.pattern.exec(line);
        if (match) waiter.resolve(match);
        return !match;
      });
    });
    this.ended = new Promise((resolve) => reader.once("close", () => resolve()));
  }

  /** The first line (seen or to come) matching `pattern`; rejects after `WAIT_LIMIT` ms. */
  next(pattern: RegExp): Promise<RegExpExecArray> {
    for (const line of this.seen) {
      const match = pattern.exec(line);
      if (match) return Promise.resolve(match);
    }
    return within(new Promise((resolve) => this.#waiters.push({ pattern, resolve })), `a line ${pattern}`);
  }

  indexOf(pattern: RegExp): number {
    return this.seen.findIndex((line) => pattern.test(line));
  }
}

/** One client after another until `deadline`, each counted into `result`. */
async function clientLoop(port: number, deadline: number, result: ScenarioResult): Promise<void> {
  const fail = (kind: "refused" | "reset" | "other", what: unknown) => {
    result[kind]++;
    if (result.failures.length < 5) result.failures.push(`${kind}: ${what}`);
  };
  while (performance.now() < deadline) {
    let client;
    try {
      client = await tcp().connect({ host: "127.0.0.1", port });
    } catch (error) {
      const code = (error as { code?: string }).code;
      fail(code === "ECONNREFUSED" ? "refused" : code === "ECONNRESET" ? "reset" : "other", error);
      continue;
    }
    try {
      await client.send("ping");
      const reply = await client.recv(4, { timeout: 15_000 });
      if (reply === null || new TextDecoder().decode(reply) !== "ping") fail("other", `reply ${reply}`);
      else result.ok++;
    } catch (error) {
      const code = error instanceof ClosedError ? error.code : undefined;
      if (code === "ECONNRESET" || code === "EPIPE") fail("reset", error);
      else fail("other", error instanceof TimeoutError ? "no reply in 15 s" : error);
    } finally {
      await client.close().catch(() => {});
    }
  }
}

/** Runs the redeploy once; every child is gone when it returns or throws. */
export async function runHandoverScenario(
  via: "descriptor" | "reusePort",
  { concurrency = 16, duration = 2000, switchAt = 500 } = {},
): Promise<ScenarioResult> {
  const [command, args] = runtimeCommand("examples/handover.ts");
  const old = spawn(command, [...args, "--port", "0", "--via", via], { stdio: ["ignore", "pipe", "inherit"] });
  const oldExit = new Promise<{ status: number | null; signal: string | null }>((resolve) =>
    old.once("exit", (status, signal) => resolve({ status, signal }))
  );
  const lines = new Lines(old.stdout!);
  const pids = new Set<number>([old.pid!]);
  try {
    const port = Number((await lines.next(/ listening on 127\.0\.0\.1:(\d+)$/))[1]);
    const oldPid = Number((await lines.next(/^ready pid=(\d+)$/))[1]);
    const result: ScenarioResult = {
      ok: 0,
      refused: 0,
      reset: 0,
      other: 0,
      failures: [],
      generations: [],
      readyBeforeDrained: false,
      oldExit: { status: null, signal: null },
    };
    const deadline = performance.now() + duration;
    // process.kill, not old.kill: Deno 2.9's ChildProcess then reports the
    // signal it sent as the cause of the exit, even when the child exits 0.
    const hangUp = setTimeout(() => globalThis.process.kill(oldPid, "SIGHUP"), switchAt);
    await within(
      Promise.all(Array.from({ length: concurrency }, () => clientLoop(port, deadline, result))),
      "end of the client loop",
    );
    clearTimeout(hangUp);
    const newPid = Number((await lines.next(new RegExp(`^ready pid=(?!${oldPid}$)(\\d+)$`)))[1]);
    pids.add(newPid);
    const oldDrained = await lines.next(new RegExp(`^drained pid=${oldPid} accepted=(\\d+)$`));
    result.oldExit = await within(oldExit, "exit of the old generation");
    result.readyBeforeDrained =
      lines.indexOf(new RegExp(`^ready pid=${newPid}$`)) < lines.indexOf(new RegExp(`^drained pid=${oldPid} `));
    globalThis.process.kill(newPid, "SIGTERM");
    const newDrained = await lines.next(new RegExp(`^drained pid=${newPid} accepted=(\\d+)$`));
    await within(lines.ended, "end of output"); // the new generation held the pipe too: it is gone once the pipe ends
    pids.clear();
    result.generations = [
      { pid: oldPid, accepted: Number(oldDrained[1]) },
      { pid: newPid, accepted: Number(newDrained[1]) },
    ];
    return result;
  } finally {
    for (const pid of pids) {
      try {
        globalThis.process.kill(pid, "SIGKILL");
      } catch {
        // Already gone.
      }
    }
  }
}

if (globalThis.process.argv.includes("--handover-scenario")) {
  const via = globalThis.process.argv.includes("reusePort") ? "reusePort" : "descriptor";
  console.log(`SCENARIO ${JSON.stringify(await runHandoverScenario(via))}`);
  globalThis.process.exit(0);
}
