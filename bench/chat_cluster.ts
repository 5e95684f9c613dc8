/**
 * Chat fan-out over two nodes: lines delivered per second with 1,000
 * members in one room, half on each of two examples/chat.ts processes joined
 * by a NATS or Redis server, next to the one-process figure of
 * bench/chat_fanout.ts measured in the same run, on whichever runtime runs
 * this file (the chat processes and the clients run on it too).
 *
 * This process starts the broker (`nats-server` or `redis-server` on a free
 * loopback port), the two chat processes (`--cluster URL`) and holds the
 * clients: member 0, on node A, sends `size`-byte lines, `batch` lines per
 * write; the others (half on A, half on B) count what they receive. As in
 * chat_fanout.ts the sender stays at most 100 lines (`--ahead`, passed to
 * chat_fanout.ts too) ahead of the slowest member, so the figure is the
 * sustained rate. The two-node path is one hop longer (node A, the broker,
 * node B), so with a small window the sender waits on latency, not CPU. The broker's own counters
 * tell how many messages it carried per line: NATS `/varz` (`in_msgs`,
 * `out_msgs`), Redis `INFO commandstats` (`PUBLISH` calls) — one publish per
 * line, one delivery per node, whatever the number of members.
 *
 *   node scripts/run.mjs bench/chat_cluster.ts | deno run -A bench/chat_cluster.ts | bun run bench/chat_cluster.ts
 *     [--broker nats,redis] [--members 1000] [--seconds 3] [--warmup 1] [--size 64] [--batch 50] [--ahead 100]
 *
 * Prints one JSON line per broker: `{"runtime","broker","members","size","batch","seconds","lines",
 * "deliveries","deliveriesPerSecond","oneNodeDeliveriesPerSecond","ratio","brokerPublishesPerLine",
 * "brokerDeliveriesPerLine"}`. Each cell is killed if it lasts a minute longer than asked.
 *
 * @module
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join as joinPath } from "node:path";
import process from "node:process";
import { createInterface } from "node:readline";
import { type InetAddress, type Socket, tcp } from "../mod.ts";
import { knobArgs, knobs, runtime } from "./_bench_cli.ts";

const ROOM = "bench";
const DEFAULTS = { members: 1000, seconds: 3, warmup: 1, size: 64, batch: 50, ahead: 100 };

const option = knobs(DEFAULTS);

declare const Deno: { version: { deno: string } } | undefined;
declare const Bun: { version: string } | undefined;

/** The command that runs a TypeScript file of this repository on this same runtime. */
function runCommand(file: string): [string, string[]] {
  if (typeof Deno !== "undefined") return [process.execPath, ["run", "-A", "--quiet", file]];
  if (typeof Bun !== "undefined") return [process.execPath, ["run", file]];
  return [process.execPath, ["scripts/run.mjs", file]];
}

/** A child process and its output lines; killed (SIGKILL) by `kill()`, which waits for the exit. */
function child(command: string, args: string[]) {
  const proc: ChildProcess = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] });
  // "close": after the exit and the end of its output, so every line is in `output`.
  const exited = new Promise<void>((resolve) => proc.once("close", () => resolve()));
  const output: string[] = [];
  let waiter: { pattern: RegExp; resolve: (match: RegExpMatchArray) => void } | undefined;
  const onLine = (line: string) => {
    output.push(line);
    const match = waiter && line.match(waiter.pattern);
    if (match) waiter!.resolve(match);
  };
  createInterface({ input: proc.stdout! }).on("line", onLine);
  createInterface({ input: proc.stderr! }).on("line", onLine);
  return {
    output,
    exited,
    /** The first line from now on matching `pattern` (at most `ms`). */
    until(pattern: RegExp, ms = 20_000): Promise<RegExpMatchArray> {
      const seen = output.map((line) => line.match(pattern)).find((match) => match);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`${command}: no ${pattern} in ${ms} ms:\n${output.join("\n")}`)),
          ms,
        );
        exited.then(() => reject(new Error(`${command} exited:\n${output.join("\n")}`)));
        waiter = { pattern, resolve: (match) => (clearTimeout(timer), resolve(match)) };
      });
    },
    async kill(): Promise<void> {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGKILL");
      await exited;
    },
  };
}

async function freePort(): Promise<number> {
  const listener = await tcp({ host: "127.0.0.1", port: 0 }).listen();
  const port = (listener.address as InetAddress).port;
  await listener.close();
  return port;
}

/** A broker on free ports, and how to read how many messages it carried. */
async function startBroker(kind: string) {
  const port = await freePort();
  if (kind === "nats") {
    const monitor = await freePort();
    const proc = child("nats-server", ["-a", "127.0.0.1", "-p", `${port}`, "-m", `${monitor}`]);
    await proc.until(/Server is ready/);
    return {
      url: `nats://127.0.0.1:${port}`,
      async counters() {
        const varz = await (await fetch(`http://127.0.0.1:${monitor}/varz`)).json() as Record<string, number>;
        return { publishes: varz.in_msgs!, deliveries: varz.out_msgs! };
      },
      stop: () => proc.kill(),
    };
  }
  const dir = mkdtempSync(joinPath(tmpdir(), "corral-bench-redis-"));
  const proc = child("redis-server", [
    "--bind",
    "127.0.0.1",
    "--port",
    `${port}`,
    "--save",
    "",
    "--appendonly",
    "no",
    "--dir",
    dir,
  ]);
  await proc.until(/Ready to accept connections/);
  const info = async (section: string) => {
    const cli = child("redis-cli", ["-h", "127.0.0.1", "-p", `${port}`, "INFO", section]);
    await cli.exited;
    return cli.output.join("\n");
  };
  return {
    url: `redis://127.0.0.1:${port}`,
    async counters() {
      const publishes = Number(/cmdstat_publish:calls=(\d+)/.exec(await info("commandstats"))?.[1] ?? 0);
      // Redis counts no pub/sub deliveries; every PUBLISH here reaches both nodes' subscriptions.
      return { publishes, deliveries: NaN };
    },
    async stop() {
      await proc.kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function join(socket: Socket): Promise<void> {
  await socket.send(`JOIN ${ROOM}\n`);
  const want = `OK joined ${ROOM}\n`;
  let got = "";
  while (got.length < want.length) {
    const chunk = await socket.recv(0, { timeout: 10_000 });
    if (chunk === null) throw new Error("closed while joining");
    got += new TextDecoder().decode(chunk);
  }
  if (got !== want) throw new Error(`unexpected join reply ${JSON.stringify(got)}`);
}

/** Sends lines from a member on `ports[0]` to `members` spread over `ports`; counts deliveries. */
async function fanOut(ports: number[], counters: () => Promise<{ publishes: number; deliveries: number }>) {
  const members = option("members"), seconds = option("seconds"), warmup = option("warmup"), size = option("size");
  const perWrite = option("batch");
  const ahead = Math.max(2, Math.ceil(option("ahead") / perWrite));
  const batchDone: number[] = [];
  let waitingFor = -1;
  let wake: (() => void) | undefined;
  const received: number[] = [];
  const sockets: Socket[] = [];
  for (let i = 0; i < members; i++) {
    const socket = await tcp().connect({ host: "127.0.0.1", port: ports[i % ports.length]! });
    await join(socket);
    sockets.push(socket);
  }
  const reading = sockets.slice(1).map(async (socket, index) => {
    received[index] = 0;
    for await (const chunk of socket) {
      let count = 0;
      for (let at = chunk.indexOf(10); at >= 0; at = chunk.indexOf(10, at + 1)) count++;
      const before: number = received[index]!;
      received[index] = before + count;
      for (let b = Math.floor(before / perWrite); b < Math.floor((before + count) / perWrite); b++) {
        batchDone[b] = (batchDone[b] ?? 0) + 1;
        if (b === waitingFor && batchDone[b] === members - 1) wake?.();
      }
    }
  }).map((done) => done.catch(() => {}));
  const line = new TextEncoder().encode(`${"x".repeat(size - 1)}\n`);
  const batch = new Uint8Array(line.length * perWrite);
  for (let i = 0; i < perWrite; i++) batch.set(line, i * line.length);
  const delivered = () => received.reduce((sum, n) => sum + n, 0);
  const waitFor = (b: number) =>
    new Promise<void>((resolve) => {
      waitingFor = b;
      wake = resolve;
      setTimeout(resolve, 1000); // re-check at least every second, so the loop ends in time
    });

  const brokerBefore = await counters();
  const measureFrom = performance.now() + warmup * 1000, measureTo = measureFrom + seconds * 1000;
  let base: { at: number; deliveries: number } | undefined;
  let sent = 0;
  while (performance.now() < measureTo) {
    if (base === undefined && performance.now() >= measureFrom) {
      base = { at: performance.now(), deliveries: delivered() };
    }
    if (sent >= ahead && (batchDone[sent - ahead] ?? 0) < members - 1) {
      await waitFor(sent - ahead);
      continue;
    }
    await sockets[0]!.send(batch);
    sent++;
  }
  const elapsed = (performance.now() - base!.at) / 1000;
  const deliveries = delivered() - base!.deliveries;
  // Let the last batches arrive everywhere (bounded), so the broker's counters cover every line sent.
  for (let tries = 0; tries < 10 && (batchDone[sent - 1] ?? 0) < members - 1; tries++) await waitFor(sent - 1);
  const brokerAfter = await counters();
  for (const socket of sockets) socket.destroy();
  await Promise.all(reading);
  const lines = sent * perWrite;
  return {
    members,
    size,
    batch: perWrite,
    seconds: Math.round(elapsed * 100) / 100,
    lines,
    deliveries,
    deliveriesPerSecond: Math.round(deliveries / elapsed),
    brokerPublishesPerLine: round((brokerAfter.publishes - brokerBefore.publishes) / lines),
    brokerDeliveriesPerLine: round((brokerAfter.deliveries - brokerBefore.deliveries) / lines),
  };
}

function round(value: number): number | null {
  return Number.isFinite(value) ? Math.round(value * 1000) / 1000 : null;
}

/** bench/chat_fanout.ts with the same knobs: the one-process figure. */
async function oneNode(): Promise<number> {
  const [command, args] = runCommand("bench/chat_fanout.ts");
  const proc = child(command, [...args, ...knobArgs(DEFAULTS, option)]);
  try {
    const [line] = await proc.until(
      /^\{.*"deliveriesPerSecond".*\}$/,
      (option("warmup") + option("seconds") + 60) * 1000,
    );
    return JSON.parse(line).deliveriesPerSecond;
  } finally {
    await proc.kill();
  }
}

/** Two chat processes on one broker, the clients here. */
async function twoNodes(kind: string) {
  const broker = await startBroker(kind);
  const [command, args] = runCommand("examples/chat.ts");
  const nodes = [0, 1].map(() => child(command, [...args, "--port", "0", "--cluster", broker.url]));
  const limit = setTimeout(() => {
    console.error(`chat_cluster: ${kind} cell over time, killing it`);
    for (const node of nodes) void node.kill();
  }, (option("warmup") + option("seconds") + 60) * 1000);
  try {
    const ports: number[] = [];
    for (const node of nodes) {
      ports.push(Number((await node.until(/^chat listening on 127\.0\.0\.1:(\d+)/))[1]));
      await node.until(/^chat: rooms joined over /);
    }
    return await fanOut(ports, () => broker.counters());
  } finally {
    clearTimeout(limit);
    await Promise.all(nodes.map((node) => node.kill()));
    await broker.stop();
  }
}

const brokerAt = process.argv.indexOf("--broker");
const brokers = (brokerAt >= 0 ? process.argv[brokerAt + 1]! : "nats,redis").split(",");
const single = await oneNode();
for (const kind of brokers) {
  const result = await twoNodes(kind);
  console.log(JSON.stringify({
    runtime,
    broker: kind,
    ...result,
    ahead: option("ahead"),
    oneNodeDeliveriesPerSecond: single,
    ratio: round(result.deliveriesPerSecond / single),
  }));
}
