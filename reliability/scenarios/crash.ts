/**
 * 1. Crash storm: live echo clients stream and check every byte while other
 * connections hit a protocol that throws (synchronously, after the
 * handshake, after a read, after a partial echo, with a read pending): no live
 * client is disturbed, every crashing connection is closed, the counters are
 * exact and descriptors come back.
 */
import { Buffer } from "node:buffer";
import { checkFds, connect, ending, fdBaseline, type Infos, pool, quantile, roundTrip, type ScenarioResult, settle, startServer, warmUp } from "../_lib.ts";
import type { Context } from "./_context.ts";

export async function crash(ctx: Context): Promise<ScenarioResult> {
  const crashes = ctx.quick ? 2000 : 10_000, lives = ctx.quick ? 50 : 200;
  const server = await startServer(ctx.how, "crash", {});
  const failures: string[] = [];
  try {
    const warm = 20;
    await warmUp(server.ready.ports.crash!, warm);
    await warmUp(server.ready.ports.live!, 10);
    await settle(server);
    await server.ask({ cmd: "gc" });
    const fds0 = fdBaseline(server), rss0 = server.rssMiB();
    let storming = true, disturbed = 0, checked = 0;
    const latencies: number[] = [];
    const live = Array.from({ length: lives }, async (_, n) => {
      const socket = await connect(server.ready.ports.live!);
      try {
        for (let seq = 0; storming; seq++) {
          const chunk = Buffer.alloc(1024, `${n}:${seq};`);
          const started = performance.now();
          const back = await roundTrip(socket, chunk);
          latencies.push(performance.now() - started);
          if (!back.equals(chunk)) throw new Error(`live client ${n}: bytes out of order at ${seq}`);
          checked += chunk.length;
        }
      } catch (error) {
        disturbed++;
        if (failures.length < 5) failures.push(String(error));
      } finally {
        socket.end();
      }
    });
    let closed = 0, hung = 0;
    await pool(crashes, 100, async () => {
      const socket = await connect(server.ready.ports.crash!);
      const end = ending(socket);
      socket.on("error", () => {});
      socket.write("crash me please\n");
      const timer = setTimeout(() => socket.destroy(new Error("hung")), 10_000);
      const { how } = await end;
      clearTimeout(timer);
      if (how === "hung" || how === "error") hung++;
      else closed++;
    });
    storming = false;
    await Promise.all(live);
    const last = await settle(server);
    const infos = last.listeners as Infos, stats = last.stats as { started: number; ended: number };
    const expect = (what: string, actual: unknown, wanted: unknown) =>
      actual !== wanted && failures.push(`${what}: ${actual}, expected ${wanted}`);
    expect("crash accepted", infos.crash!.accepted, crashes + warm);
    expect("crash failed", infos.crash!.failed, crashes + warm);
    expect("crash terminated", infos.crash!.terminated, crashes + warm);
    expect("crash conn.ended resolved", stats.ended, crashes + warm);
    expect("live accepted", infos.live!.accepted, lives + 10);
    expect("live failed", infos.live!.failed, 0);
    expect("live terminated", infos.live!.terminated, lives + 10);
    expect("connections left", infos.crash!.all + infos.live!.all, 0);
    expect("unhandled rejections", last.unhandled, 0);
    await server.ask({ cmd: "gc" });
    const fds1 = await checkFds(server, fds0, failures), rss1 = server.rssMiB();
    return {
      offered: `${crashes} crashing conns + ${lives} live streams`,
      served: closed + lives - disturbed,
      p99: quantile(latencies, 0.99),
      lost: disturbed + hung,
      fds: [fds0.count, fds1],
      rss: [rss0, rss1],
      failures,
      notes: `${(checked / 1048576).toFixed(1)} MiB echoed and checked during the storm`,
    };
  } finally {
    await server.close();
  }
}
