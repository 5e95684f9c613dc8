/**
 * 8. Half-open and reset: for a while, clients in a mix half-close after
 * sending (and must get their whole echo), reset mid-write (SO_LINGER 0:
 * node:net's resetAndDestroy()), reset at once after connecting, vanish in
 * the middle of a TLS handshake, or reset mid-echo after one. Afterwards: no
 * unhandled rejection, no connection record left, `conn.ended` resolved for
 * every connection, accepted === terminated.
 *
 * The load side is Node.js for every runtime under test: it is the client
 * with SO_LINGER 0 resets (resetAndDestroy); the server is the runtime under test.
 */
import { Buffer } from "node:buffer";
import tlsClient from "node:tls";
import { checkFds, connect, delay, ending, fdBaseline, type Infos, type ScenarioResult, settle, startServer } from "../_lib.ts";
import type { Context } from "./_context.ts";

type Mode = (ports: { tcp: number; tls: number }) => Promise<"served" | "aborted">;

const PAYLOAD = Buffer.alloc(4096, "half-open ");
const BIG = Buffer.alloc(1 << 20, "reset me ");

const modes: Record<string, Mode> = {
  async halfClose({ tcp }) {
    const socket = await connect(tcp);
    const end = ending(socket);
    socket.end(PAYLOAD);
    const { bytes, how } = await end;
    if (!bytes.equals(PAYLOAD)) throw new Error(`half-closed client got ${bytes.length} of ${PAYLOAD.length} bytes (${how})`);
    return "served";
  },
  async resetMidWrite({ tcp }) {
    const socket = await connect(tcp);
    socket.on("error", () => {});
    socket.write(BIG);
    await new Promise((resolve) => socket.once("data", resolve));
    socket.resetAndDestroy();
    return "aborted";
  },
  async resetAtOnce({ tcp }) {
    const socket = await connect(tcp);
    socket.on("error", () => {});
    socket.resetAndDestroy();
    return "aborted";
  },
  async vanishMidHandshake({ tls }) {
    const socket = await connect(tls);
    socket.on("error", () => {});
    socket.write(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03]));
    await delay(5);
    socket.resetAndDestroy();
    return "aborted";
  },
  async resetAfterTls({ tls }) {
    // TLS over a TCP socket of our own, which is the one reset with SO_LINGER 0.
    const raw = await connect(tls);
    raw.on("error", () => {});
    const socket = await new Promise<tlsClient.TLSSocket>((resolve, reject) => {
      const s = tlsClient.connect({ socket: raw, rejectUnauthorized: false }, () => resolve(s));
      s.once("error", reject);
    });
    socket.on("error", () => {});
    socket.write(BIG.subarray(0, 65536));
    await new Promise((resolve) => socket.once("data", resolve));
    raw.resetAndDestroy();
    return "aborted";
  },
};

export async function halfopen(ctx: Context): Promise<ScenarioResult> {
  const seconds = ctx.quick ? 3 : 60, concurrency = 50;
  const server = await startServer(ctx.how, "halfopen", { handshakeTimeout: 2000, cert: ctx.cert, key: ctx.key });
  const failures: string[] = [];
  const ports = server.ready.ports as { tcp: number; tls: number };
  try {
    await modes.halfClose!(ports);
    await modes.resetAfterTls!(ports);
    await settle(server);
    const heap0 = (await server.ask({ cmd: "gc" })).heapUsed as number;
    const fds0 = fdBaseline(server), rss0 = server.rssMiB();
    const names = Object.keys(modes), counts: Record<string, number> = {};
    let served = 0, aborted = 0, lost = 0, turn = 0;
    const deadline = performance.now() + seconds * 1000;
    await Promise.all(Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) {
        const name = names[turn++ % names.length]!;
        counts[name] = (counts[name] ?? 0) + 1;
        try {
          if ((await modes[name]!(ports)) === "served") served++;
          else aborted++;
        } catch (error) {
          if (name === "halfClose") lost++;
          if (failures.length < 5) failures.push(`${name}: ${error}`);
        }
      }
    }));
    const last = await settle(server);
    const infos = last.listeners as Infos;
    const stats = last.stats as Record<string, { started: number; ended: number; errors: Record<string, number> }>;
    for (const name of ["tcp", "tls"]) {
      const info = infos[name]!, tally = stats[name]!;
      if (info.accepted !== info.terminated) failures.push(`${name}: accepted ${info.accepted} !== terminated ${info.terminated}`);
      if (info.all !== 0) failures.push(`${name}: ${info.all} connection records left`);
      if (tally.ended !== tally.started) failures.push(`${name}: conn.ended resolved for ${tally.ended} of ${tally.started}`);
      for (const kind of Object.keys(tally.errors)) {
        if (!/^(TimeoutError|HandshakeError|ClosedError)/.test(kind)) failures.push(`${name}: untyped error ${kind}`);
      }
    }
    if (last.unhandled !== 0) failures.push(`unhandled rejections: ${last.unhandled} ${(last.firstUnhandled as string[])[0]}`);
    const heap1 = (await server.ask({ cmd: "gc" })).heapUsed as number;
    const fds1 = await checkFds(server, fds0, failures), rss1 = server.rssMiB();
    const errors = Object.entries({ ...stats.tcp!.errors, ...stats.tls!.errors }).map(([k, n]) => `${k} ${n}`).join(", ");
    return {
      offered: `${seconds} s of ${Object.entries(counts).map(([k, n]) => `${n} ${k}`).join(", ")}`,
      served,
      lost,
      fds: [fds0.count, fds1],
      rss: [rss0, rss1],
      failures,
      notes: `${aborted} aborted by the client; server saw ${errors || "no errors"}; live heap ` +
        `${(heap0 / 1048576).toFixed(1)} -> ${(heap1 / 1048576).toFixed(1)} MiB`,
    };
  } finally {
    await server.close();
  }
}
