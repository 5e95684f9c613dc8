/**
 * The listeners each reliability scenario runs in the server process, and
 * the counts they keep (see server.ts for how the driver talks to them).
 *
 * @module
 */
import { readFileSync } from "node:fs";
import { type Connection, listen, type Protocol, tcp, tls } from "../mod.ts";
import { chat } from "../examples/chat_protocol.ts";
import { fuzzParse } from "./_fuzz_parse.ts";
import type { ScenarioServer, ServerContext } from "./server.ts";

const host = "127.0.0.1";
const num = (params: Record<string, unknown>, key: string, fallback: number) =>
  typeof params[key] === "number" ? params[key] as number : fallback;

/** Counts kept for every tracked protocol: starts, `conn.ended` resolutions, errors by class and code. */
class Tally {
  started = 0;
  ended = 0;
  errors: Record<string, number> = {};
  error(error: unknown): void {
    const e = error as { name?: string; code?: string };
    const key = `${e?.name ?? typeof error}${e?.code ? `:${e.code}` : ""}`;
    this.errors[key] = (this.errors[key] ?? 0) + 1;
  }
  /** Wraps `protocol`: counts the start and the end of each connection and what it threw. */
  track<P>(protocol: Protocol<P>): Protocol<P> {
    return async (conn, options) => {
      this.started++;
      void conn.ended.then(() => this.ended++);
      try {
        await protocol(conn, options);
      } catch (error) {
        this.error(error);
        throw error;
      }
    };
  }
  snapshot() {
    return { started: this.started, ended: this.ended, errors: this.errors };
  }
}

async function echo(conn: Connection): Promise<void> {
  const socket = await conn.handshake();
  for await (const chunk of socket) await socket.send(chunk);
}

function tlsFiles(params: Record<string, unknown>) {
  return { cert: readFileSync(params.cert as string, "utf8"), key: readFileSync(params.key as string, "utf8") };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The crash protocol's failure points, picked per connection in turn (so each is hit as often). */
const crashes: Protocol[] = [
  () => {
    throw new Error("sync throw before handshake");
  },
  async (conn) => {
    await conn.handshake();
    throw new Error("async throw after handshake");
  },
  async (conn) => {
    const socket = await conn.handshake();
    await socket.recv();
    return Promise.reject(new Error("rejected after a read"));
  },
  async (conn) => {
    const socket = await conn.handshake();
    const chunk = await socket.recv();
    if (chunk) await socket.send(chunk);
    throw new RangeError("throw after a partial echo");
  },
  async (conn) => {
    const socket = await conn.handshake();
    await sleep(conn.id % 20);
    void socket.recv().catch(() => {});
    await Promise.resolve();
    throw new TypeError("throw with a read pending, after a timer");
  },
];

/** Scenario name → its server set-up. */
export const servers: Record<string, (context: ServerContext) => Promise<ScenarioServer>> = {
  async crash({ params, logger }) {
    const tally = new Tally();
    const modes = (params.modes as number[] | undefined) ?? crashes.map((_, i) => i);
    let turn = 0;
    const live = await listen({ transport: tcp({ host, port: 0 }), protocol: echo, logger, maxConnections: Infinity });
    const crash = await listen({
      transport: tcp({ host, port: 0 }),
      logger,
      maxConnections: Infinity,
      // Not wrapped in an async function: the first crash must throw synchronously at the supervisor.
      protocol: (conn, options) => {
        tally.started++;
        void conn.ended.then(() => tally.ended++);
        return crashes[modes[turn++ % modes.length]!]!(conn, options);
      },
    });
    return { listeners: { live, crash }, stats: () => tally.snapshot() };
  },

  async emfile({ logger }) {
    const echoes = await listen({ transport: tcp({ host, port: 0 }), protocol: echo, logger, maxConnections: Infinity });
    return { listeners: { echo: echoes } };
  },

  async slowloris({ params, logger }) {
    const handshakeTimeout = num(params, "handshakeTimeout", 5000);
    const tlsTally = new Tally(), proxyTally = new Tally();
    const common = { logger, handshakeTimeout, maxConnections: Infinity };
    const secure = await listen({
      ...common,
      transport: tls({ host, port: 0, ...tlsFiles(params) }),
      protocol: tlsTally.track(echo),
    });
    const proxy = await listen({
      ...common,
      transport: tcp({ host, port: 0 }),
      proxyHeader: true,
      protocol: proxyTally.track(echo),
    });
    return { listeners: { tls: secure, proxy }, stats: () => ({ tls: tlsTally.snapshot(), proxy: proxyTally.snapshot() }) };
  },

  async graceful({ params, logger }) {
    const size = num(params, "responseSize", 65536);
    const body = new Uint8Array(size).fill(0x61);
    const received = new Set<number>(), finished: number[] = [];
    const work = await listen({
      transport: tcp({ host, port: 0 }),
      logger,
      shutdownTimeout: num(params, "shutdownTimeout", 2000),
      maxConnections: Infinity,
      protocol: async (conn) => {
        const socket = await conn.handshake();
        const line = new TextDecoder().decode((await socket.recv(16))!); // "REQ iiiii ddddd\n"
        const [, id, delay] = line.trim().split(" ").map(Number) as [number, number, number];
        received.add(id);
        await sleep(delay);
        await socket.send(body);
        await socket.send(`END ${String(id).padStart(5, "0")}\n`);
        finished.push(id);
        await socket.recv(); // the client closes once it has the whole response
      },
    });
    return { listeners: { work }, stats: () => ({ received: received.size, finished }) };
  },

  async churn({ logger }) {
    const tally = new Tally();
    const echoes = await listen({
      transport: tcp({ host, port: 0 }),
      protocol: tally.track(echo),
      logger,
      maxConnections: Infinity,
    });
    return { listeners: { echo: echoes }, stats: () => tally.snapshot() };
  },

  async slowreader({ params, logger }) {
    const total = num(params, "total", 1 << 30), chunkSize = 64 * 1024;
    const chunk = new Uint8Array(chunkSize).fill(0x62);
    let handed = 0, done = 0;
    const sender = await listen({
      transport: tcp({ host, port: 0 }),
      logger,
      protocol: async (conn) => {
        const socket = await conn.handshake();
        for (let sent = 0; sent < total; sent += chunkSize) {
          handed += chunkSize;
          await socket.send(chunk);
        }
        done++;
        await socket.recv();
      },
    });
    // The slow member reads only after the chat (up to ~25 s): a closeTimeout shorter than that
    // would drop its farewell, still queued behind the bytes it has not read, with its socket.
    const room = await listen({ transport: tcp({ host, port: 0 }), logger, protocol: chat({ closeTimeout: 60_000 }) });
    return { listeners: { sender, chat: room }, stats: () => ({ handed, done }) };
  },

  async fuzz({ params, logger }) {
    const tlsTally = new Tally(), proxyTally = new Tally();
    const handshakeTimeout = num(params, "handshakeTimeout", 5000);
    const common = { logger, handshakeTimeout, maxConnections: Infinity };
    const proxy = await listen({
      ...common,
      transport: tcp({ host, port: 0 }),
      proxyHeader: true,
      protocol: proxyTally.track(echo),
    });
    const secure = await listen({
      ...common,
      transport: tls({ host, port: 0, ...tlsFiles(params) }),
      protocol: tlsTally.track(echo),
    });
    return {
      listeners: { proxy, tls: secure },
      stats: () => ({ proxy: proxyTally.snapshot(), tls: tlsTally.snapshot() }),
      commands: { parse: (command) => fuzzParse(command.iterations as number, command.seed as number) },
    };
  },

  async halfopen({ params, logger }) {
    const tcpTally = new Tally(), tlsTally = new Tally();
    const common = { logger, handshakeTimeout: num(params, "handshakeTimeout", 2000), maxConnections: Infinity };
    const plain = await listen({ ...common, transport: tcp({ host, port: 0 }), protocol: tcpTally.track(echo) });
    const secure = await listen({
      ...common,
      transport: tls({ host, port: 0, ...tlsFiles(params) }),
      protocol: tlsTally.track(echo),
    });
    return { listeners: { tcp: plain, tls: secure }, stats: () => ({ tcp: tcpTally.snapshot(), tls: tlsTally.snapshot() }) };
  },
};
