/**
 * 7. Fuzz: random and mutated PROXY headers through `parseProxyHeader` (in
 * the server process, on the runtime under test) and through a live
 * `proxyHeader` listener; random, mutated and truncated TLS ClientHellos at
 * a `tls` listener. Only typed errors, no hang, and the listeners keep
 * serving well-behaved clients throughout.
 */
import { Buffer } from "node:buffer";
import net from "node:net";
import tlsClient from "node:tls";
import { corpus, mutate, prng } from "../_fuzz_parse.ts";
import { checkFds, connect, ending, fdBaseline, type Infos, pool, type ScenarioResult, settle, startServer } from "../_lib.ts";
import type { Context } from "./_context.ts";
import { politeProxy, politeTls } from "./slowloris.ts";

const TYPED = /^(TimeoutError|HandshakeError|ClosedError|ProxyHeaderError)/;

/** A real ClientHello, as node:tls sends it, caught by a plain TCP server. */
async function clientHello(): Promise<Buffer> {
  const caught = new Promise<Buffer>((resolve) => {
    const catcher = net.createServer((socket) => {
      socket.once("data", (chunk) => {
        resolve(chunk);
        socket.destroy();
        catcher.close();
      });
    }).listen(0, "127.0.0.1", () => {
      const port = (catcher.address() as net.AddressInfo).port;
      tlsClient.connect({ host: "127.0.0.1", port, servername: "localhost", rejectUnauthorized: false }).on("error", () => {});
    });
  });
  return await caught;
}

/** Sends `bytes`, half-closes, and waits for the server to close; "hung" if it does not within `limit` ms. */
async function throwAt(port: number, bytes: Uint8Array, limit: number): Promise<string> {
  const socket = await connect(port);
  const end = ending(socket);
  socket.on("error", () => {});
  socket.end(bytes);
  const guard = setTimeout(() => socket.destroy(new Error("hung")), limit);
  const { how } = await end;
  clearTimeout(guard);
  return how;
}

export async function fuzz(ctx: Context): Promise<ScenarioResult> {
  const parses = ctx.quick ? 50_000 : 1_000_000, live = ctx.quick ? 2000 : 20_000;
  const hellos = ctx.quick ? 2000 : ctx.hellos;
  const handshakeTimeout = 1000;
  const server = await startServer(ctx.how, "fuzz", { handshakeTimeout, cert: ctx.cert, key: ctx.key });
  const failures: string[] = [];
  const { proxy: proxyPort, tls: tlsPort } = server.ready.ports as { proxy: number; tls: number };
  try {
    await politeTls(tlsPort);
    await politeProxy(proxyPort);
    await settle(server);
    await server.ask({ cmd: "gc" });
    const fds0 = fdBaseline(server), rss0 = server.rssMiB();
    const seed = 17;
    const parsed = await server.ask({ cmd: "parse", iterations: parses, seed }, 15 * 60_000) as {
      bad: { rule: string }[];
      maxMs: number;
      parsed: number;
      rejected: number;
      incomplete: number;
    };
    for (const bad of parsed.bad) failures.push(`parseProxyHeader: ${JSON.stringify(bad)}`);
    let hung = 0, politeOk = 0;
    const polite = async (i: number, port: number) => {
      if (i % 100 !== 0) return;
      try {
        await (port === tlsPort ? politeTls(port) : politeProxy(port));
        politeOk++;
      } catch (error) {
        failures.push(`a well-behaved client failed during the fuzz: ${error}`);
      }
    };
    // PROXY headers, mutated, on the wire.
    const valid = corpus(), random = prng(seed + 1);
    await pool(live, 100, async (i) => {
      const bytes = mutate(valid[i % valid.length]!, random);
      if ((await throwAt(proxyPort, bytes, handshakeTimeout + 5000)) === "error") hung++;
      await polite(i, proxyPort);
    });
    // ClientHellos: truncated, mutated, or random records.
    const hello = await clientHello(), helloRandom = prng(seed + 2);
    await pool(hellos, 100, async (i) => {
      let bytes: Uint8Array;
      const kind = i % 3;
      if (kind === 0) bytes = hello.subarray(0, Math.floor(helloRandom() * hello.length));
      else if (kind === 1) bytes = mutate(hello, helloRandom);
      else bytes = Uint8Array.from({ length: 1 + Math.floor(helloRandom() * 600) }, (_, j) => j === 0 ? 0x16 : Math.floor(helloRandom() * 256));
      if ((await throwAt(tlsPort, bytes, handshakeTimeout + 5000)) === "error") hung++;
      await polite(i, tlsPort);
    });
    const last = await settle(server);
    const stats = last.stats as Record<string, { errors: Record<string, number> }>;
    for (const [name, { errors }] of Object.entries(stats)) {
      for (const kind of Object.keys(errors)) if (!TYPED.test(kind)) failures.push(`${name}: untyped error ${kind} x${errors[kind]}`);
    }
    const infos = last.listeners as Infos;
    for (const [name, info] of Object.entries(infos)) {
      if (info.accepted !== info.terminated) failures.push(`${name}: accepted ${info.accepted} !== terminated ${info.terminated}`);
    }
    if (last.unhandled !== 0) failures.push(`unhandled rejections: ${last.unhandled} ${(last.firstUnhandled as string[])[0]}`);
    await server.ask({ cmd: "gc" });
    const fds1 = await checkFds(server, fds0, failures), rss1 = server.rssMiB();
    const typed = (name: string) => {
      const byClass: Record<string, number> = {};
      for (const [kind, n] of Object.entries(stats[name]!.errors)) byClass[kind.split(":")[0]!] = (byClass[kind.split(":")[0]!] ?? 0) + n;
      const codes = Object.keys(stats[name]!.errors).length;
      return `${Object.entries(byClass).map(([k, n]) => `${k} ${n}`).join(", ")} (${codes} codes)`;
    };
    return {
      offered: `${parses} parses, ${live} PROXY headers and ${hellos} ClientHellos on the wire`,
      served: politeOk,
      lost: hung,
      fds: [fds0.count, fds1],
      rss: [rss0, rss1],
      failures: failures.slice(0, 8),
      notes: `parse: ${parsed.parsed} parsed, ${parsed.rejected} ProxyHeaderError, ${parsed.incomplete} incomplete, slowest ` +
        `${parsed.maxMs.toFixed(2)} ms; wire proxy: ${typed("proxy")}; wire tls: ${typed("tls")}; held = well-behaved clients served meanwhile`,
    };
  } finally {
    await server.close();
  }
}
