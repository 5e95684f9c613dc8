/**
 * The load side's tools (run on Node.js): start a scenario's server process
 * on the runtime under test, talk to it, read its descriptors, RSS and CPU
 * from /proc/<pid>/, and the small socket helpers the scenarios share.
 *
 * @module
 */
import { spawn } from "node:child_process";
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import net from "node:net";
import { createInterface } from "node:readline";

/** How to start a server process on the runtime under test. */
export interface ServerCommand {
  command: string;
  args: string[];
}

/** What a scenario reports, one row of the table. */
export interface ScenarioResult {
  offered: string;
  served: number;
  p99?: number;
  lost: number;
  fds: [number, number];
  rss: [number, number];
  failures: string[];
  notes?: string;
}

/** One running scenario server. */
export interface Server {
  pid: number;
  ready: { ports: Record<string, number> } & Record<string, unknown>;
  /** Sends one command, resolves with its reply (rejects after `timeout` ms). */
  ask(command: Record<string, unknown>, timeout?: number): Promise<Record<string, unknown>>;
  /** Open descriptors; `fds()`, `rssMiB()` and `cpuSeconds()` are NaN once the process is gone (see `exited`). */
  fds(): number;
  /** What each descriptor is (`socket:[...]`, `anon_inode:[eventpoll]`, a path), by number. */
  fdTargets(): Record<string, string>;
  rssMiB(): number;
  /** CPU seconds (user + system) the process has used. */
  cpuSeconds(): number;
  /** Asks the server to exit; kills it if it has not within 10 s. */
  close(): Promise<void>;
  /** Lines it wrote to stderr (for failures). */
  stderr: string[];
  /** Settles with the exit code once the process has exited (a crash under load, or after close()). */
  exited: Promise<number | null>;
}

const CLOCK_TICKS = 100;

/**
 * A reading of /proc/<pid>/, or NaN once the process is gone: a server that dies under load (Deno 2.9.6 can panic at
 * EMFILE) must fail its scenario through `exited`, not throw from a sampling timer and end the driver.
 */
function fromProc(read: () => number): number {
  try {
    return read();
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === "ENOENT" || code === "ESRCH") return NaN;
    throw error;
  }
}

/** Starts `scenario`'s server with `params`; `fdLimit` runs it under `ulimit -n`. */
export async function startServer(
  how: ServerCommand,
  scenario: string,
  params: Record<string, unknown>,
  fdLimit?: number,
): Promise<Server> {
  const args = [...how.args, scenario, JSON.stringify(params)];
  const child = fdLimit === undefined
    ? spawn(how.command, args, { stdio: ["pipe", "pipe", "pipe"] })
    : spawn("sh", ["-c", `ulimit -n ${fdLimit} && exec "$0" "$@"`, how.command, ...args], {
      stdio: ["pipe", "pipe", "pipe"],
    });
  const stderr: string[] = [];
  createInterface({ input: child.stderr! }).on("line", (line) => stderr.length < 200 && stderr.push(line));
  const waiting: ((line: string) => void)[] = [];
  let readyLine: (line: string) => void = () => {};
  const ready = new Promise<string>((resolve) => (readyLine = resolve));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  createInterface({ input: child.stdout! }).on("line", (line) => {
    if (line.startsWith("READY ")) readyLine(line.slice(6));
    else if (line.startsWith("REPLY ")) waiting.shift()?.(line.slice(6));
  });
  const first = await Promise.race([
    ready,
    exited.then((code) => Promise.reject(new Error(`server exited (${code}) before READY: ${stderr.join("\n")}`))),
    delay(60_000).then(() => Promise.reject(new Error(`server not READY in 60 s: ${stderr.join("\n")}`))),
  ]);
  const pid = child.pid!;
  const server: Server = {
    pid,
    ready: JSON.parse(first),
    stderr,
    exited,
    ask(command, timeout = 120_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no reply to ${JSON.stringify(command)} in ${timeout} ms`)), timeout);
        waiting.push((line) => {
          clearTimeout(timer);
          const reply = JSON.parse(line);
          if (reply.error) reject(new Error(`server: ${reply.error}`));
          else resolve(reply);
        });
        child.stdin!.write(`${JSON.stringify(command)}\n`);
      });
    },
    fds: () => fromProc(() => readdirSync(`/proc/${pid}/fd`).length),
    fdTargets: () =>
      Object.fromEntries(readdirSync(`/proc/${pid}/fd`).map((fd) => {
        try {
          return [fd, describeFd(readlinkSync(`/proc/${pid}/fd/${fd}`))];
        } catch {
          return [fd, "gone"];
        }
      })),
    rssMiB: () => fromProc(() => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]) / 1024),
    cpuSeconds: () =>
      fromProc(() => {
        const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
        return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
      }),
    async close() {
      child.stdin!.end(`${JSON.stringify({ cmd: "exit" })}\n`);
      const code = await Promise.race([exited, delay(10_000).then(() => "timeout" as const)]);
      if (code === "timeout") {
        child.kill("SIGKILL");
        await exited;
      }
    },
  };
  return server;
}

export const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The q-quantile (0..1) of `values`, in their unit; 0 for none. */
export function quantile(values: number[], q: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

/** Connects to 127.0.0.1:port; rejects on error. */
export function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.off("error", reject);
      resolve(socket);
    });
    socket.once("error", reject);
  });
}

/**
 * How a client connection ended, and when: `end` (the server's FIN), `reset`
 * or another error. Resolves once the socket is closed; collects the bytes read.
 */
export function ending(socket: net.Socket): Promise<{ how: string; at: number; bytes: Buffer }> {
  const chunks: Buffer[] = [];
  let how = "close";
  socket.on("data", (chunk) => chunks.push(chunk));
  socket.on("end", () => (how = "end"));
  socket.on("error", (error: NodeJS.ErrnoException) => (how = error.code === "ECONNRESET" ? "reset" : error.code ?? "error"));
  return new Promise((resolve) =>
    socket.once("close", () => resolve({ how, at: performance.now(), bytes: Buffer.concat(chunks) }))
  );
}

/** Sends `data` and resolves with exactly `data.length` bytes read back, or rejects. */
export function roundTrip(socket: net.Socket, data: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let got = 0;
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      got += chunk.length;
      if (got >= data.length) done(undefined);
    };
    const onEnd = () => done(new Error("closed before the echo"));
    const done = (error: Error | undefined) => {
      socket.off("data", onData).off("error", done).off("end", onEnd).off("close", onEnd);
      if (error) reject(error);
      else resolve(Buffer.concat(chunks));
    };
    socket.on("data", onData).on("error", done).on("end", onEnd).on("close", onEnd);
    socket.write(data);
  });
}

/** Runs `task(i)` for i in [0, count) with at most `concurrency` at once. */
export async function pool(count: number, concurrency: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count) await task(next++);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
}

/** Polls `condition` every 50 ms until true or `timeout` ms pass; returns whether it held. */
export async function until(condition: () => boolean | Promise<boolean>, timeout: number): Promise<boolean> {
  const deadline = performance.now() + timeout;
  for (;;) {
    if (await condition()) return true;
    if (performance.now() > deadline) return false;
    await delay(50);
  }
}

/** The listeners' info() from the server's `info` reply. */
export type Infos = Record<string, ListenerCounts>;

/** The parts of a listener's info() (plus `all`: connections("all")) the scenarios read. */
export interface ListenerCounts {
  accepted: number;
  terminated: number;
  failed: number;
  all: number;
  bytesSent: number;
  acceptErrors: Record<string, number>;
}

/** Waits until no listener of `server` holds a connection; returns the last info reply. */
export async function settle(server: Server, timeout = 15_000): Promise<Record<string, unknown>> {
  let last: Record<string, unknown> = {};
  await until(async () => {
    last = await server.ask({ cmd: "info" });
    return Object.values(last.listeners as Infos).every((l) => l.all === 0);
  }, timeout);
  return last;
}


/** Which kinds of descriptor `after` has more of than `before` ("socket:[N] +3"), for a failure message. */
export function fdGrowth(before: Record<string, string>, after: Record<string, string>): string {
  const count = (targets: Record<string, string>) => {
    const kinds: Record<string, number> = {};
    for (const kind of Object.values(targets)) kinds[kind] = (kinds[kind] ?? 0) + 1;
    return kinds;
  };
  const b = count(before), a = count(after);
  return Object.entries(a).filter(([k, n]) => n > (b[k] ?? 0)).map(([k, n]) => `${k} +${n - (b[k] ?? 0)}`).join(", ");
}

/**
 * Warm-up before a baseline: `count` connections to `port` that each send
 * `data` and read until the server closes or `hold` ms pass, then close. The
 * runtimes open a few descriptors of their own on first use (Deno: a socket
 * pair, and duplicates of a listen socket once accepts run concurrently), which
 * a baseline must not count as a leak.
 */
export async function warmUp(port: number, count: number, data = "warm-up\n", hold = 200): Promise<void> {
  // All at once: Deno's extra descriptors come with concurrent accepts.
  await Promise.all(Array.from({ length: count }, async () => {
    const socket = await connect(port);
    const end = ending(socket);
    socket.on("error", () => {});
    socket.write(data);
    const timer = setTimeout(() => socket.end(), hold);
    await end;
    clearTimeout(timer);
  }));
}

const TCP_STATES: Record<string, string> = { "01": "ESTABLISHED", "06": "TIME_WAIT", "07": "CLOSE", "08": "CLOSE_WAIT", "0A": "LISTEN" };

/** `socket:[123]` as `tcp LISTEN` / `tcp CLOSE_WAIT` / `unix`; other targets with digits as N. */
function describeFd(target: string): string {
  const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
  if (inode === undefined) return target.replace(/\d+/g, "N");
  for (const table of ["tcp", "tcp6"]) {
    for (const line of readFileSync(`/proc/net/${table}`, "utf8").split("\n")) {
      const fields = line.trim().split(/\s+/);
      if (fields[9] === inode) return `tcp ${TCP_STATES[fields[3]!] ?? fields[3]}`;
    }
  }
  return readFileSync("/proc/net/unix", "utf8").includes(` ${inode}`) ? "unix socket" : "socket";
}

/** A descriptor baseline: the count and what each one is. */
export interface FdBaseline {
  count: number;
  targets: Record<string, string>;
}

export function fdBaseline(server: Server): FdBaseline {
  return { count: server.fds(), targets: server.fdTargets() };
}

/**
 * Descriptors after the load, against `before`: waits (up to 5 s) for the
 * count to come back, then fails when any TCP socket is left over, or more
 * than RUNTIME_SLACK other descriptors appeared (a runtime's own lazily
 * opened ones: Deno opens two or three Unix sockets under load, once, not per
 * connection: as many after 2,000 connections as after 30,000).
 */
export async function checkFds(server: Server, before: FdBaseline, failures: string[]): Promise<number> {
  const settled = () => {
    const after = server.fdTargets();
    return Object.keys(after).length - before.count <= RUNTIME_SLACK && !/tcp /.test(fdGrowth(before.targets, after));
  };
  await until(settled, 5000);
  const after = server.fdTargets();
  const count = Object.keys(after).length;
  const growth = fdGrowth(before.targets, after);
  const tcp = /tcp /.test(growth);
  if (tcp || count - before.count > RUNTIME_SLACK) failures.push(`descriptors ${before.count} -> ${count}: ${growth}`);
  return count;
}

const RUNTIME_SLACK = 3;
