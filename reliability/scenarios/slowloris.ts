/**
 * 3. Slowloris: clients that connect and send nothing, and clients that send
 * one byte a second, on a `tls` listener (a ClientHello's first bytes) and a
 * `proxyHeader` listener (a PROXY line's), while well-behaved clients connect,
 * handshake and get their echo throughout. Each attacker is closed at
 * `handshakeTimeout` (the PROXY timeout defaults to it), descriptors come
 * back, and the well-behaved clients' p99 is reported.
 */
import { Buffer } from "node:buffer";
import net from "node:net";
import tlsClient from "node:tls";
import { buildProxyHeader } from "../../mod.ts";
import {
  checkFds,
  connect,
  delay,
  ending,
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

const HELLO_START = Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03]);
const PROXY_LINE = Buffer.from("PROXY TCP4 192.0.2.1 192.0.2.2 4000 80\r\n");
const HEADER = Buffer.from(buildProxyHeader({
  family: "inet",
  protocol: "stream",
  sourceAddress: "192.0.2.1",
  sourcePort: 4000,
  destinationAddress: "192.0.2.2",
  destinationPort: 80,
}));

/** One well-behaved exchange on a new connection: handshake (TLS or PROXY header), echo, close. */
export async function politeTls(port: number): Promise<void> {
  const socket = await new Promise<tlsClient.TLSSocket>((resolve, reject) => {
    const s = tlsClient.connect({ host: "127.0.0.1", port, rejectUnauthorized: false }, () => resolve(s));
    s.once("error", reject);
  });
  const data = Buffer.from("hello over tls\n");
  if (!(await roundTrip(socket as unknown as net.Socket, data)).equals(data)) throw new Error("tls echo differs");
  await new Promise((resolve) => socket.once("close", resolve).end());
}

export async function politeProxy(port: number): Promise<void> {
  const socket = await connect(port);
  socket.write(HEADER);
  const data = Buffer.from("hello behind a proxy\n");
  if (!(await roundTrip(socket, data)).equals(data)) throw new Error("proxy echo differs");
  await new Promise((resolve) => socket.once("close", resolve).end());
}

export async function slowloris(ctx: Context): Promise<ScenarioResult> {
  const timeout = ctx.quick ? 1500 : 5000;
  const silent = ctx.quick ? 200 : 1000, dribblers = ctx.quick ? 100 : 500, polite = ctx.quick ? 20 : 100;
  const server = await startServer(ctx.how, "slowloris", { handshakeTimeout: timeout, cert: ctx.cert, key: ctx.key });
  const failures: string[] = [];
  const { tls: tlsPort, proxy: proxyPort } = server.ready.ports as { tls: number; proxy: number };
  try {
    await warmUp(tlsPort, 10, "x", 50);
    await warmUp(proxyPort, 10, "x", 50);
    await settle(server);
    const warm = server.ask({ cmd: "info" });
    const before = (await warm).listeners as Infos;
    await server.ask({ cmd: "gc" });
    const fds0 = fdBaseline(server), rss0 = server.rssMiB();
    let attacking = true;
    const latencies: number[] = [];
    let served = 0, politeFailed = 0;
    const politeLoops = Array.from({ length: polite }, async (_, i) => {
      while (attacking) {
        const started = performance.now();
        try {
          await (i % 2 === 0 ? politeTls(tlsPort) : politeProxy(proxyPort));
          latencies.push(performance.now() - started);
          served++;
        } catch (error) {
          if (politeFailed++ < 3) failures.push(`well-behaved client: ${error}`);
        }
      }
    });
    const attack = async (i: number) => {
      const port = i % 2 === 0 ? tlsPort : proxyPort;
      // Timed from the connect call: the server's clock starts at its accept, which comes after it,
      // while this process may see the connect event late with a thousand others pending.
      const opened = performance.now();
      const socket = await connect(port);
      const end = ending(socket);
      let timer: ReturnType<typeof setInterval> | undefined;
      if (i >= silent) {
        const bytes = port === tlsPort ? HELLO_START : PROXY_LINE;
        let at = 0;
        socket.write(bytes.subarray(at, ++at));
        timer = setInterval(() => socket.writable && socket.write(bytes.subarray(at, ++at)), 1000);
      }
      const guard = setTimeout(() => socket.destroy(new Error("hung")), timeout + 5000);
      const result = await end;
      clearTimeout(guard);
      clearInterval(timer);
      return { held: result.at - opened, how: result.how };
    };
    const attacks = await Promise.all(Array.from({ length: silent + dribblers }, (_, i) => attack(i)));
    attacking = false;
    await Promise.all(politeLoops);
    let lost = politeFailed;
    const held = attacks.map((a) => a.held);
    for (const a of attacks) {
      if (a.how === "error") lost++;
      else if (a.held < timeout - 20 || a.held > timeout + 1500) {
        if (failures.length < 6) failures.push(`an attacker was closed after ${a.held.toFixed(0)} ms, not ~${timeout}`);
      }
    }
    const last = await settle(server);
    const infos = last.listeners as Infos;
    const attackersFailed = infos.tls!.failed + infos.proxy!.failed - before.tls!.failed - before.proxy!.failed;
    if (attackersFailed !== silent + dribblers) failures.push(`failed handshakes ${attackersFailed}, attackers ${silent + dribblers}`);
    const stats = last.stats as Record<string, { errors: Record<string, number> }>;
    for (const [name, { errors }] of Object.entries(stats)) {
      for (const kind of Object.keys(errors)) {
        if (!/^(TimeoutError|HandshakeError|ClosedError|ProxyHeaderError)/.test(kind)) failures.push(`${name}: untyped error ${kind}`);
      }
    }
    if (last.unhandled !== 0) failures.push(`unhandled rejections: ${last.unhandled}`);
    await server.ask({ cmd: "gc" });
    await delay(100);
    const fds1 = await checkFds(server, fds0, failures), rss1 = server.rssMiB();
    return {
      offered: `${silent} silent + ${dribblers} at 1 B/s (tls and proxy), ${polite} well-behaved`,
      served,
      p99: quantile(latencies, 0.99),
      lost,
      fds: [fds0.count, fds1],
      rss: [rss0, rss1],
      failures,
      notes: `attackers closed after ${quantile(held, 0).toFixed(0)}..${quantile(held, 1).toFixed(0)} ms (handshakeTimeout ${timeout}); p99 of well-behaved connect+handshake+echo`,
    };
  } finally {
    await server.close();
  }
}
