/**
 * A Corral echo server for measuring what telemetry costs: the same pull
 * echo with nobody subscribed (`--subscribe none`), or with one no-op
 * subscriber on every Corral channel (`--subscribe all`: both tracing
 * channels' five channels and the seven point channels). Run two of them
 * side by side, with a raw server, under bench/build/loadgen, which
 * alternates its load between the ports and reports each server's CPU:
 *
 *   node bench/telemetry_echo.ts --subscribe none|all [--port 0]   (Node.js 24, Deno, Bun run it as is)
 *
 * Prints `ready PORT` once it listens; stops at the end of stdin.
 *
 * @module
 */
import diagnostics from "node:diagnostics_channel";
import process from "node:process";
import { listen, type Protocol, tcp, telemetryChannels } from "../mod.ts";

const args = process.argv.slice(2);
const flag = (name: string, fallback: string) => {
  const at = args.indexOf(`--${name}`);
  return at >= 0 && at + 1 < args.length ? args[at + 1]! : fallback;
};
const subscribe = flag("subscribe", "none");
if (subscribe !== "none" && subscribe !== "all") throw new TypeError(`--subscribe none|all, got ${subscribe}`);

let messages = 0;
if (subscribe === "all") {
  const count = () => void messages++;
  for (const name of [telemetryChannels.connection, telemetryChannels.handshake]) {
    diagnostics.tracingChannel(name).subscribe({
      start: count,
      end: count,
      asyncStart: count,
      asyncEnd: count,
      error: count,
    });
  }
  for (const name of Object.values(telemetryChannels)) {
    if (name !== telemetryChannels.connection && name !== telemetryChannels.handshake) {
      diagnostics.subscribe(name, count);
    }
  }
}

const echo: Protocol = async (conn) => {
  const socket = await conn.handshake();
  for await (const chunk of socket) await socket.send(chunk);
};

const listener = await listen({
  transport: tcp({ host: "127.0.0.1", port: Number(flag("port", "0")), noDelay: true }),
  protocol: echo,
  maxConnections: Infinity,
  logger: { debug() {}, info() {}, warn() {}, error: console.error },
});
console.log(`ready ${listener.port}`);
process.stdin.resume();
process.stdin.on("end", async () => {
  await listener.stop();
  console.error(`telemetry_echo --subscribe ${subscribe}: ${messages} messages`);
  process.exit(0);
});
