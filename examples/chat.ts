/**
 * The chat server (what `npm start` runs): `JOIN room`, then every line
 * goes to the room's other members. See chat_protocol.ts.
 *
 *   node scripts/run.mjs examples/chat.ts [--port 4040] [--host 127.0.0.1] [--idle-timeout ms] [--tls]
 *     [--cluster nats://127.0.0.1:4222 | --cluster redis://127.0.0.1:6379] [--proxy-header]
 *   deno run -A examples/chat.ts
 *   bun run examples/chat.ts
 *
 * `--cluster URL` joins the rooms of every chat process on that NATS or
 * Redis server: a line reaches the room's members on all of them, once
 * (the broker client is a dev dependency: `npm install` first). While the
 * broker is down, rooms keep working within each process, lines for the
 * other processes are dropped (counted, and logged once per outage), and
 * the client reconnects and subscribes again by itself.
 * `--proxy-header` expects a PROXY v1/v2 header on every connection (behind
 * HAProxy with `send-proxy-v2`) and logs each client's real address when it
 * joins a room: `chat: client 203.0.113.7:51234 joined lobby`.
 * `--idle-timeout 0` keeps silent clients forever (default: 10 minutes).
 * `--tls` serves TLS with a self-signed certificate for localhost made at
 * start with the `openssl` command (the first line printed names its file,
 * for clients that verify). Ctrl-C stops the server: every client gets
 * `BYE server shutting down` first.
 */
import diagnostics from "node:diagnostics_channel";
import { type ClusterStatusEvent, type Connection, listen, tcp, tls, type Transport } from "../mod.ts";
import { telemetryChannels } from "../mod.ts";
import { flag, numberFlag, startOrExit, stopOnSignal } from "./_args.ts";
import { selfSignedCertificate } from "./_certificate.ts";
import { connectCluster } from "./_cluster.ts";
import { chat, chatRooms } from "./chat_protocol.ts";

const host = flag("host", "127.0.0.1");
const port = numberFlag("chat", "port", 4040);
const idleTimeout = numberFlag("chat", "idle-timeout", 600000);
const overTls = globalThis.process.argv.includes("--tls");
const proxyHeader = globalThis.process.argv.includes("--proxy-header");
const clusterUrl = flag("cluster", "");
const certificate = overTls ? selfSignedCertificate("chat") : undefined;

const cluster = clusterUrl === "" ? undefined : await startOrExit("chat", () => connectCluster(clusterUrl));
const rooms = chatRooms(cluster?.pubsub);
const listener = await startOrExit("chat", () => {
  const transport: Transport = certificate ? tls({ host, port, ...certificate }) : tcp({ host, port });
  const protocol = chat({
    rooms,
    idleTimeout: idleTimeout > 0 ? idleTimeout : undefined,
    onJoin: proxyHeader ? (conn, room) => console.log(`chat: client ${clientAddress(conn)} joined ${room}`) : undefined,
  });
  return listen({ ref: "chat", transport, protocol, proxyHeader });
});
const how = certificate ? ` over TLS (self-signed certificate for localhost: ${certificate.cert})` : "";
console.log(`chat listening on ${host}:${listener.port}${how}`);
if (cluster) {
  console.log(`chat: rooms joined over ${clusterUrl} as node ${rooms.clusterStatus!.node}`);
  // One message when lines for the other processes start being dropped, one when they go out again.
  diagnostics.subscribe(telemetryChannels.clusterStatus, (message) => {
    const { state, dropped } = message as ClusterStatusEvent;
    console.log(
      state === "dropping"
        ? `chat: broker unreachable, lines for other nodes are dropped (${dropped} so far)`
        : `chat: broker back, lines reach other nodes again (${dropped} dropped in all)`,
    );
  });
}
stopOnSignal(async () => {
  await listener.stop();
  await cluster?.close();
});

/** The client's own address: from the PROXY header behind a load balancer, else the socket's peer. */
function clientAddress(conn: Connection): string {
  const header = conn.proxyHeader;
  if (header?.sourceAddress !== undefined) return hostPort(header.sourceAddress, header.sourcePort);
  const peer = conn.peer;
  return peer !== undefined && "address" in peer ? hostPort(peer.address, peer.port) : "(unknown)";
}

function hostPort(address: string, port: number | undefined): string {
  return `${address.includes(":") ? `[${address}]` : address}:${port}`;
}
