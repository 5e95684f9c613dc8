/**
 * 6. Slow reader: (a) a protocol sends 1 GiB with `send()` to a peer that
 * does not read; once the peer reads it all, the server's RSS has grown less
 * than 64 MiB at its peak. (b) The chat example with one member that never
 * reads while the others chat: the slow member gets `ERR too slow` (and is
 * closed), the others get every line, with their p99 reported, and RSS
 * grows less than 64 MiB.
 */
import { Buffer } from "node:buffer";
import net from "node:net";
import { checkFds, connect, delay, fdBaseline, type Infos, quantile, type ScenarioResult, settle, startServer, until } from "../_lib.ts";
import type { Context } from "./_context.ts";

const RSS_BUDGET_MIB = 64;
const debug = (...args: unknown[]) => process.env.STRESS_DEBUG && console.error("slowreader:", ...args);

export async function slowreader(ctx: Context): Promise<ScenarioResult> {
  const total = ctx.quick ? 256 << 20 : 1 << 30;
  // Each fast member sends `rate` lines a second: a chat, not a flood the server cannot fan out. At
  // 8 members x 500 lines/s of 1 KiB (28 MB/s of fan-out on a 2-core machine that also runs the load),
  // the server's sends fall behind and fast members get `ERR too slow` as well: the chat example
  // measures a member's backlog, which a saturated server cannot tell from a slow reader.
  const members = ctx.quick ? 4 : 8, lines = ctx.quick ? 3000 : 4000, rate = ctx.quick ? 1000 : 200;
  const server = await startServer(ctx.how, "slowreader", { total });
  const failures: string[] = [];
  try {
    await server.ask({ cmd: "gc" });
    const fds0 = fdBaseline(server), rss0 = server.rssMiB();
    let peak = rss0;
    const sampler = setInterval(() => (peak = Math.max(peak, server.rssMiB())), 50);
    // (a) 1 GiB to a peer that reads nothing until the server's sends stall.
    const sink = await connect(server.ready.ports.sender!);
    sink.pause();
    let last = -1;
    await until(async () => {
      const sent = ((await server.ask({ cmd: "info" })).listeners as Infos).sender!.bytesSent;
      const stalled = sent === last && sent > 0;
      last = sent;
      return stalled;
    }, 10_000);
    await delay(300);
    const stalledAt = last, rssStalled = server.rssMiB();
    let received = 0;
    sink.on("data", (chunk: Buffer) => {
      received += chunk.length;
      if (received >= total) sink.end();
    });
    sink.resume();
    await new Promise((resolve) => sink.once("close", resolve));
    const peakSend = peak - rss0;
    if (received !== total) failures.push(`received ${received} of ${total} bytes`);
    if (peakSend >= RSS_BUDGET_MIB) failures.push(`RSS grew ${peakSend.toFixed(0)} MiB sending to a slow reader`);
    // (b) the chat example with one member that never reads.
    debug("sent", received);
    const chatPeak0 = server.rssMiB();
    peak = chatPeak0;
    const port = server.ready.ports.chat!;
    // With `onread`, pause() stops reading from the kernel (a plain paused socket keeps reading
    // into its own buffer), so the server's sends really back up.
    let slowText = "";
    const slow = net.connect({
      host: "127.0.0.1",
      port,
      onread: {
        buffer: Buffer.alloc(65536),
        callback: (n: number, buf: Uint8Array) => {
          slowText += Buffer.from(buf.subarray(0, n)).toString();
          return true;
        },
      },
    });
    await new Promise((resolve, reject) => slow.once("connect", resolve).once("error", reject));
    slow.pause();
    slow.on("error", () => {});
    slow.write("JOIN lobby\n");
    const fast = await Promise.all(Array.from({ length: members }, () => connect(port)));
    const latencies: number[] = [];
    let delivered = 0;
    const others: string[] = [];
    const joined = fast.map((socket, n) => readLines(socket, (line) => {
      const stamp = /^m (\d+\.\d+) /.exec(line);
      if (stamp) {
        latencies.push(performance.now() - Number(stamp[1]));
        delivered++;
      } else if (!line.startsWith("OK ")) {
        others.push(line);
        debug(`member ${n} got "${line}" after ${delivered} lines delivered in all, slow member read ${slow.bytesRead}`);
      }
    }));
    for (const socket of fast) socket.write("JOIN lobby\n");
    await delay(200);
    // Long lines, so the slow member falls more behind than the kernel's buffers on both ends hold.
    const pad = "x".repeat(1000);
    await Promise.all(fast.map(async (socket) => {
      for (let i = 0; i < lines; i++) {
        if (socket.destroyed) return;
        if (!socket.write(`m ${performance.now().toFixed(3)} ${pad}\n`)) {
          await new Promise((r) => socket.once("drain", r).once("close", r));
        }
        // Two lines at a time: bursts of ten lines from each of 7 senders at once are 70 KiB for every
        // receiver within one turn, more than the chat's 64 KiB outbox, and the first receiver is dropped.
        if (i % 2 === 1) await delay(2000 / rate);
      }
    }));
    debug("chatted", delivered, slow.bytesRead);
    const expected = members * (members - 1) * lines;
    await until(() => delivered >= expected, 30_000);
    for (const socket of fast) socket.end();
    await Promise.all(joined);
    // Now the slow member reads what it was sent: the last line must be the farewell.
    debug("fast members gone", slow.bytesRead);
    const slowDone = new Promise((resolve) => slow.once("close", resolve));
    slow.resume();
    const guard = setTimeout(() => slow.destroy(), 15_000);
    await slowDone;
    clearTimeout(guard);
    const slowLines = slowText.split("\n").filter((line) => line !== "");
    clearInterval(sampler);
    const peakChat = peak - chatPeak0;
    if (slowLines.at(-1) !== "ERR too slow") failures.push(`the slow member's last line: ${slowLines.at(-1)}`);
    if (delivered !== expected) failures.push(`fast members got ${delivered} of ${expected} lines`);
    if (others.length > 0) failures.push(`fast members were sent ${others.slice(0, 3).join(", ")}`);
    if (peakChat >= RSS_BUDGET_MIB) failures.push(`RSS grew ${peakChat.toFixed(0)} MiB in the chat`);
    const after = await settle(server);
    if (after.unhandled !== 0) failures.push(`unhandled rejections: ${after.unhandled}`);
    await server.ask({ cmd: "gc" });
    const fds1 = await checkFds(server, fds0, failures), rss1 = server.rssMiB();
    return {
      offered: `${total >> 20} MiB to a non-reader; chat: ${members} members x ${lines} lines at ${rate}/s + 1 never reading`,
      served: delivered,
      p99: quantile(latencies, 0.99),
      lost: expected - delivered + (received === total ? 0 : 1),
      fds: [fds0.count, fds1],
      rss: [rss0, rss1],
      failures,
      notes: `send stalled at ${(stalledAt / 1048576).toFixed(1)} MiB (RSS ${rssStalled.toFixed(0)} MiB), peak RSS growth ` +
        `${peakSend.toFixed(1)} MiB over ${total >> 20} MiB; chat peak growth ${peakChat.toFixed(1)} MiB, slow member ` +
        `read ${slowLines.length} lines then "${slowLines.at(-1)}"; p99 is the chat line latency`,
    };
  } finally {
    await server.close();
  }
}

/** Calls `onLine` for each LF-ended line `socket` reads; resolves when it closes. */
function readLines(socket: net.Socket, onLine: (line: string) => void): Promise<void> {
  let buffered = "";
  socket.setEncoding("utf8");
  socket.on("data", (text: string) => {
    buffered += text;
    let at;
    while ((at = buffered.indexOf("\n")) >= 0) {
      onLine(buffered.slice(0, at));
      buffered = buffered.slice(at + 1);
    }
  });
  socket.on("error", () => {});
  return new Promise((resolve) => socket.once("close", () => resolve()));
}
