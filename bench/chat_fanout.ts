/**
 * Chat fan-out: lines delivered per second with 1,000 members in one room,
 * on whichever runtime runs this file.
 *
 * This process runs the chat server (examples/chat_protocol.ts over tcp on
 * 127.0.0.1) and starts a second process of the same runtime for the
 * clients, so the server has a core of its own on a two-core machine. The
 * clients: `members` connections join one room; one of them sends `size`-byte
 * lines, `batch` lines per write, and the others count the lines they
 * receive. The sender keeps at most 100 lines (`--ahead`; and at least two writes)
 * ahead of the slowest member, so no member falls behind far enough to be
 * disconnected as too slow and the figure is the sustained rate, not a
 * burst into buffers.
 * After `warmup` seconds it counts deliveries for `seconds` seconds; the
 * whole run is killed if it lasts a minute longer than that.
 *
 *   node scripts/run.mjs bench/chat_fanout.ts | deno run -A bench/chat_fanout.ts | bun run bench/chat_fanout.ts
 *     [--members 1000] [--seconds 5] [--warmup 1] [--size 64] [--batch 50] [--ahead 100]
 *
 * Prints one JSON line: `{"runtime","members","size","batch","seconds","messages","deliveries",
 * "deliveriesPerSecond","messagesPerSecond"}` (a message is one line sent,
 * delivered to every other member).
 *
 * @module
 */
import { spawn } from "node:child_process";
import process from "node:process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { listen, type Socket, tcp } from "../mod.ts";
import { knobArgs, knobs, runtime } from "./_bench_cli.ts";
import { chat } from "../examples/chat_protocol.ts";

const ROOM = "bench";
const DEFAULTS = { members: 1000, seconds: 5, warmup: 1, size: 64, batch: 50, ahead: 100 };

const option = knobs(DEFAULTS);

declare const Deno: { version: { deno: string } } | undefined;
declare const Bun: { version: string } | undefined;

/** The command that runs this same file on this same runtime. */
function selfCommand(): [string, string[]] {
  const file = fileURLToPath(import.meta.url); // the bundle, when Node.js 20 runs it via scripts/run.mjs
  if (typeof Deno !== "undefined") return [process.execPath, ["run", "-A", file]];
  if (typeof Bun !== "undefined") return [process.execPath, ["run", file]];
  return [process.execPath, [file]];
}

async function server(): Promise<void> {
  const listener = await listen({
    ref: "chat-fanout",
    transport: tcp({ host: "127.0.0.1", port: 0 }),
    protocol: chat(),
    maxConnections: Infinity,
    logger: { debug() {}, info() {}, warn: console.warn, error: console.error },
  });
  const [command, args] = selfCommand();
  const flags = knobArgs(DEFAULTS, option);
  const child = spawn(command, [...args, "--clients", String(listener.port), ...flags], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  // A hard bound, whatever happens to the clients.
  const limit = (option("warmup") + option("seconds") + 60) * 1000;
  const killer = setTimeout(() => child.kill("SIGKILL"), limit);
  try {
    for await (const line of createInterface({ input: child.stdout! })) {
      const result = JSON.parse(line);
      console.log(JSON.stringify({ runtime, ...result }));
    }
  } finally {
    clearTimeout(killer);
    await listener.stop();
  }
}

/** A member that counts the lines it receives. */
class Counter {
  received = 0;
  readonly socket: Socket;
  readonly onLines: (before: number, after: number) => void;

  constructor(socket: Socket, onLines: (before: number, after: number) => void) {
    this.socket = socket;
    this.onLines = onLines;
  }

  async run(): Promise<void> {
    for await (const chunk of this.socket) {
      let count = 0;
      for (let at = chunk.indexOf(10); at >= 0; at = chunk.indexOf(10, at + 1)) count++;
      const before = this.received;
      this.received += count;
      this.onLines(before, this.received);
    }
  }
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

async function clients(port: number): Promise<void> {
  const members = option("members"), seconds = option("seconds"), warmup = option("warmup"), size = option("size");
  const perWrite = option("batch");
  const ahead = Math.max(2, Math.ceil(option("ahead") / perWrite)); // writes in flight beyond the slowest member
  // batchDone[b]: receivers that have every line of batch b.
  const batchDone: number[] = [];
  let wake: (() => void) | undefined;
  const onLines = (before: number, after: number) => {
    for (let b = Math.floor(before / perWrite); b < Math.floor(after / perWrite); b++) {
      batchDone[b] = (batchDone[b] ?? 0) + 1;
      if (b === waitingFor && batchDone[b] === members - 1) wake?.();
    }
  };
  let waitingFor = -1;
  const sockets: Socket[] = [];
  const counters: Counter[] = [];
  for (let i = 0; i < members; i++) {
    const socket = await tcp().connect({ host: "127.0.0.1", port });
    await join(socket);
    sockets.push(socket);
    if (i > 0) counters.push(new Counter(socket, onLines));
  }
  const reading = counters.map((counter) => counter.run().catch(() => {}));
  const sender = sockets[0]!;
  const line = new TextEncoder().encode(`${"x".repeat(size - 1)}\n`);
  const batch = new Uint8Array(line.length * perWrite);
  for (let i = 0; i < perWrite; i++) batch.set(line, i * line.length);

  const delivered = () => counters.reduce((sum, counter) => sum + counter.received, 0);
  const startAt = performance.now();
  const measureFrom = startAt + warmup * 1000, measureTo = measureFrom + seconds * 1000;
  let base: { at: number; deliveries: number } | undefined;
  let sentBatches = 0;
  while (performance.now() < measureTo) {
    if (base === undefined && performance.now() >= measureFrom) {
      base = { at: performance.now(), deliveries: delivered() };
    }
    if (sentBatches >= ahead && (batchDone[sentBatches - ahead] ?? 0) < members - 1) {
      waitingFor = sentBatches - ahead;
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, 1000); // re-check at least every second, so the loop ends in time
      });
      continue;
    }
    await sender.send(batch);
    sentBatches++;
  }
  const elapsed = (performance.now() - base!.at) / 1000;
  const deliveries = delivered() - base!.deliveries;
  console.log(JSON.stringify({
    members,
    size,
    batch: perWrite,
    seconds: Math.round(elapsed * 100) / 100,
    messages: Math.round(deliveries / (members - 1)),
    deliveries,
    deliveriesPerSecond: Math.round(deliveries / elapsed),
    messagesPerSecond: Math.round(deliveries / (members - 1) / elapsed),
  }));
  for (const socket of sockets) socket.destroy();
  await Promise.all(reading);
}

const at = process.argv.indexOf("--clients");
if (at >= 0) await clients(Number(process.argv[at + 1]));
else await server();
