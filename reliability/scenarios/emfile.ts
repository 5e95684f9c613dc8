/**
 * 2. Descriptor exhaustion: the server runs under `ulimit -n 256` and many
 * more clients than that connect at once; each sends a line, waits for its
 * echo, holds the connection a while, closes, and retries after 100 ms
 * whenever it is refused, reset or left unanswered. The listener must warn
 * at most once per exhaustion episode, never spin (the server's CPU while
 * exhausted is bounded), and in the end serve every client.
 *
 * How accept's EMFILE shows differs (see test/emfile_test.ts): Deno reports
 * it and Corral backs off; Node.js's libuv accepts and closes the excess
 * itself (clients see a reset); Bun's native loop retries by itself.
 */
import { Buffer } from "node:buffer";
import {
  checkFds,
  connect,
  delay,
  fdBaseline,
  type Infos,
  quantile,
  roundTrip,
  type ScenarioResult,
  settle,
  startServer,
  warmUp,
} from "../_lib.ts";
import type { Context } from "./_context.ts";

const FD_LIMIT = 256;

export async function emfile(ctx: Context): Promise<ScenarioResult> {
  const clients = ctx.quick ? 400 : 1000, hold = ctx.quick ? 300 : 1000, limit = ctx.quick ? 30_000 : 120_000;
  const server = await startServer(ctx.how, "emfile", {}, FD_LIMIT);
  const failures: string[] = [];
  try {
    const port = server.ready.ports.echo!;
    await warmUp(port, 20);
    await settle(server);
    await server.ask({ cmd: "gc" });
    const fds0 = fdBaseline(server), rss0 = server.rssMiB();
    const deadline = performance.now() + limit;
    const latencies: number[] = [];
    let attempts = 0, served = 0, peakFds = 0;
    const client = async (i: number) => {
      const data = Buffer.from(`client ${i}\n`);
      while (performance.now() < deadline) {
        attempts++;
        const started = performance.now();
        try {
          const socket = await connect(port);
          socket.on("error", () => {});
          const timer = setTimeout(() => socket.destroy(new Error("no echo in 2 s")), 2000);
          try {
            if (!(await roundTrip(socket, data)).equals(data)) throw new Error("echo differs");
          } finally {
            clearTimeout(timer);
          }
          latencies.push(performance.now() - started);
          await delay(hold);
          await new Promise((resolve) => socket.once("close", resolve).end());
          served++;
          return;
        } catch {
          await delay(100);
        }
      }
    };
    // The server's CPU while the clients outnumber its descriptors.
    const cpu0 = server.cpuSeconds(), wall0 = performance.now();
    let cpuExhausted = 0;
    const watch = (async () => {
      await delay(Math.min(2000, hold * 4));
      cpuExhausted = (server.cpuSeconds() - cpu0) / ((performance.now() - wall0) / 1000);
    })();
    const sampler = setInterval(() => (peakFds = Math.max(peakFds, server.fds())), 100);
    // A server that dies under the limit (Deno 2.9.6 can panic registering a signal handler at EMFILE)
    // fails this scenario with its stderr, instead of leaving the clients retrying into the scenario limit.
    const died = server.exited.then((code) => {
      throw new Error(`the server exited (${code}) under the load:\n${server.stderr.slice(0, 16).join("\n")}`);
    });
    died.catch(() => {}); // it also settles at close(), after a pass
    try {
      await Promise.race([Promise.all(Array.from({ length: clients }, (_, i) => client(i))), died]);
    } finally {
      clearInterval(sampler);
    }
    await watch;
    const last = await settle(server);
    const info = (last.listeners as Infos).echo!;
    const warned = Object.entries((last.logged as { warn: Record<string, number> }).warn);
    const warnings = warned.filter(([shape]) => /EMFILE|ENFILE/.test(shape)).reduce((n, [, times]) => n + times, 0);
    const episodes = (info.acceptErrors.EMFILE ?? 0) + (info.acceptErrors.ENFILE ?? 0);
    if (warnings > Math.max(1, episodes)) failures.push(`${warnings} EMFILE warnings for ${episodes} errors`);
    if (cpuExhausted > 0.9) failures.push(`server CPU ${(cpuExhausted * 100).toFixed(0)} % while exhausted (spinning?)`);
    if (last.unhandled !== 0) failures.push(`unhandled rejections: ${last.unhandled}`);
    if (info.accepted !== info.terminated) failures.push(`accepted ${info.accepted} !== terminated ${info.terminated}`);
    const fds1 = await checkFds(server, fds0, failures), rss1 = server.rssMiB();
    return {
      offered: `${clients} clients at once, ulimit -n ${FD_LIMIT}, retrying`,
      served,
      p99: quantile(latencies, 0.99),
      lost: clients - served,
      fds: [fds0.count, fds1],
      rss: [rss0, rss1],
      failures,
      notes: `${attempts} attempts; peak ${peakFds} fds; CPU ${(cpuExhausted * 100).toFixed(0)} % of a core while exhausted; ` +
        `accept EMFILE ${episodes}, warnings ${warnings}`,
    };
  } finally {
    await server.close();
  }
}
