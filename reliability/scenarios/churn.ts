/**
 * 5. Churn soak: connect / send / receive / close cycles, 64 at a time, for a
 * count (after the warm-up) or a time, whichever comes first. RSS after the run is within 10 %
 * of RSS after the warm-up (both read after a memory-reducing full GC: a plain
 * one leaves V8's free heap pages in RSS, ±10 MiB with the heap's sizing at the
 * time, RELIABILITY.md 2), descriptors come back, and every accepted connection
 * is terminated.
 */
import { Buffer } from "node:buffer";
import { checkFds, connect, fdBaseline, type Infos, quantile, roundTrip, type ScenarioResult, settle, startServer } from "../_lib.ts";
import type { Context } from "./_context.ts";

const CONCURRENCY = 64;
// Deno's RSS (its raw Deno.listen echo server's too) climbs in steps for the first 30,000-40,000
// cycles, then stays flat: rounds of 10,000 see the steps that rounds of 5,000 took for a plateau.
const WARM_ROUND = 10_000, WARM_ROUNDS = 10, WARM_LIMIT_S = 120;

const mib = (bytes: number) => (bytes / 1048576).toFixed(1);

export async function churn(ctx: Context): Promise<ScenarioResult> {
  const cycles = ctx.quick ? 50_000 : 1_000_000;
  const seconds = ctx.quick ? 60 : ctx.soakSeconds;
  const server = await startServer(ctx.how, "churn", {});
  const failures: string[] = [];
  const port = server.ready.ports.echo!;
  const payload = Buffer.alloc(64, "churn-");
  const latencies: number[] = [];
  let done = 0, lost = 0;
  const run = async (count: number, deadline: number) => {
    let next = 0;
    await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
      while (next < count && performance.now() < deadline) {
        next++;
        const started = performance.now();
        try {
          const socket = await connect(port);
          const back = await roundTrip(socket, payload);
          if (!back.equals(payload)) throw new Error("echo differs");
          await new Promise((resolve) => socket.once("close", resolve).end());
          done++;
          if (latencies.length < 200_000) latencies.push(performance.now() - started);
        } catch (error) {
          if (lost++ < 5) failures.push(`cycle: ${error}`);
        }
      }
    }));
  };
  try {
    // Warm-up until RSS stops growing: V8 (Node.js, Deno) sizes its young generation to the
    // allocation rate and keeps the pages, so RSS climbs for the first tens of thousands of
    // cycles while the live heap stays flat. Rounds of WARM_ROUND cycles until two in a row add < 3 %.
    const deadline = performance.now() + seconds * 1000 + WARM_LIMIT_S * 1000;
    let rss0 = server.rssMiB(), warmed = 0, heap0 = 0, steadyRounds = 0;
    for (let round = 0; round < WARM_ROUNDS; round++) {
      await run(WARM_ROUND, deadline);
      warmed += WARM_ROUND;
      await settle(server);
      heap0 = (await server.ask({ cmd: "gc", reduce: true })).heapUsed as number;
      const rss = server.rssMiB();
      steadyRounds = round > 0 && rss < rss0 * 1.03 ? steadyRounds + 1 : 0;
      rss0 = Math.max(rss0, rss);
      if (steadyRounds === 2) break;
    }
    const fds0 = fdBaseline(server);
    done = 0;
    lost = 0;
    latencies.length = 0;
    const measured = performance.now() + seconds * 1000;
    await run(cycles, measured);
    const last = await settle(server);
    const heap1 = (await server.ask({ cmd: "gc", reduce: true })).heapUsed as number;
    const rss1 = server.rssMiB();
    const fds1 = await checkFds(server, fds0, failures);
    const info = (last.listeners as Infos).echo!, stats = last.stats as { started: number; ended: number };
    if (info.accepted !== info.terminated) failures.push(`accepted ${info.accepted} !== terminated ${info.terminated}`);
    if (info.accepted !== warmed + done + lost) failures.push(`accepted ${info.accepted}, cycles ${warmed + done + lost}`);
    if (stats.ended !== stats.started) failures.push(`conn.ended resolved ${stats.ended} of ${stats.started}`);
    if (heap1 > heap0 * 1.1 + 1048576) failures.push(`live JS heap grew: ${heap0} -> ${heap1} bytes`);
    if (rss1 > rss0 * 1.1) failures.push(`RSS grew more than 10 %: ${rss0.toFixed(1)} -> ${rss1.toFixed(1)} MiB`);
    if (last.unhandled !== 0) failures.push(`unhandled rejections: ${last.unhandled}`);
    const bound = done + lost < cycles ? ` (time bound ${seconds} s reached)` : "";
    done += warmed;
    return {
      offered: `${done + lost} cycles${bound}, ${CONCURRENCY} concurrent`,
      served: done,
      p99: quantile(latencies, 0.99),
      lost,
      fds: [fds0.count, fds1],
      rss: [rss0, rss1],
      failures,
      notes: `RSS and p99 after warm-up (${warmed} cycles) -> after; live heap ${mib(heap0)} -> ${mib(heap1)} MiB`,
    };
  } finally {
    await server.close();
  }
}
