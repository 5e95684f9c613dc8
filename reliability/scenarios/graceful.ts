/**
 * 4. Graceful stop under load: connections each in the middle of a
 * request/response exchange (the protocol answers after 0 to 4 s) when
 * `stop()` is called with `shutdownTimeout: 2000`. Every response the
 * protocol finished within the timeout reaches its client whole; the rest are
 * cut at the timeout; no client is left without either the whole response or
 * a close.
 */
import { connect, ending, fdBaseline, checkFds, quantile, type ScenarioResult, settle, startServer, until, warmUp } from "../_lib.ts";
import type { Context } from "./_context.ts";

const SHUTDOWN = 2000, RESPONSE = 65536, MARGIN = 150;

export async function graceful(ctx: Context): Promise<ScenarioResult> {
  const count = ctx.quick ? 200 : 500;
  const server = await startServer(ctx.how, "graceful", { shutdownTimeout: SHUTDOWN, responseSize: RESPONSE });
  const failures: string[] = [];
  try {
    const port = server.ready.ports.work!;
    await warmUp(port, 10, "REQ 99999 00000\n", 1000);
    await settle(server);
    const warm = ((await server.ask({ cmd: "info" })).stats as { received: number }).received;
    await server.ask({ cmd: "gc" });
    const fds0 = fdBaseline(server), rss0 = server.rssMiB();
    // Delays spread over 0..2*SHUTDOWN: half finish before the cut, half after.
    const delays = Array.from({ length: count }, (_, i) => Math.floor((i * 2 * SHUTDOWN) / count));
    const clients = await Promise.all(delays.map(async (ms, id) => {
      const socket = await connect(port);
      const end = ending(socket);
      socket.write(`REQ ${String(id).padStart(5, "0")} ${String(ms).padStart(5, "0")}\n`);
      return { id, ms, socket, end };
    }));
    if (!(await until(async () => ((await server.ask({ cmd: "info" })).stats as { received: number }).received >= count + warm, 10_000))) {
      failures.push("not every request reached the server");
    }
    const stopAt = performance.now();
    const stopped = server.ask({ cmd: "stop" });
    // A client that has the whole response closes (as a real one would); the rest wait for the server.
    for (const client of clients) {
      client.socket.on("data", () => {
        if (client.socket.bytesRead >= RESPONSE + 10) client.socket.end();
      });
    }
    const ends = await Promise.all(clients.map(async (client) => {
      const timer = setTimeout(() => client.socket.destroy(new Error("hung")), SHUTDOWN + 10_000);
      const result = await client.end;
      clearTimeout(timer);
      return { ...client, ...result };
    }));
    const reply = await stopped;
    const finished = new Set((reply.stats as { finished: number[] }).finished);
    let whole = 0, cut = 0, lost = 0;
    const cutTimes: number[] = [];
    for (const e of ends) {
      const complete = e.bytes.length === RESPONSE + 10 && e.bytes.subarray(RESPONSE).toString() === `END ${String(e.id).padStart(5, "0")}\n`;
      if (complete) whole++;
      else if (e.how === "error") lost++; // neither the response nor a close from the server
      else {
        cut++;
        cutTimes.push(e.at - stopAt);
      }
      if (finished.has(e.id) && !complete) {
        lost++;
        if (failures.length < 5) failures.push(`request ${e.id} (${e.ms} ms): finished by the protocol, client got ${e.bytes.length} bytes`);
      }
      if (!complete && e.ms < SHUTDOWN - MARGIN) failures.push(`request ${e.id} (${e.ms} ms) was cut though due before the timeout`);
      if (complete && e.ms > SHUTDOWN + MARGIN) failures.push(`request ${e.id} (${e.ms} ms) finished after the timeout`);
    }
    const earliestCut = Math.min(...cutTimes, Infinity), latestCut = Math.max(...cutTimes, 0);
    if (cut > 0 && (earliestCut < SHUTDOWN - MARGIN || latestCut > SHUTDOWN + 1000)) {
      failures.push(`cuts at ${earliestCut.toFixed(0)}..${latestCut.toFixed(0)} ms after stop(), expected ~${SHUTDOWN}`);
    }
    const stoppedAfter = reply.stoppedAfter as number;
    if (stoppedAfter > SHUTDOWN + 1000) failures.push(`stop() took ${stoppedAfter.toFixed(0)} ms`);
    if (reply.unhandled !== 0) failures.push(`unhandled rejections: ${reply.unhandled}`);
    const fds1 = await checkFds(server, fds0, failures), rss1 = server.rssMiB();
    return {
      offered: `${count} mid-exchange at stop(), shutdownTimeout ${SHUTDOWN}`,
      served: whole,
      p99: quantile(cutTimes, 0.99),
      lost,
      fds: [fds0.count, fds1],
      rss: [rss0, rss1],
      failures: failures.slice(0, 8),
      notes: `${whole} whole, ${cut} cut (${earliestCut.toFixed(0)}..${latestCut.toFixed(0)} ms after stop; p99 is the cut time), stop() took ${stoppedAfter.toFixed(0)} ms`,
    };
  } finally {
    await server.close();
  }
}
