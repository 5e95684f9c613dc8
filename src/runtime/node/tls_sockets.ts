/**
 * TLS listen sockets and client connections on Node.js.
 *
 * The listener is a plain `net.Server` with `pauseOnConnect`: an accepted
 * connection is not read at all until its protocol calls
 * `conn.handshake()`, which wraps it in a server-side `tls.TLSSocket`. So
 * the acceptors never wait on a handshake, and a silent or hostile client
 * costs one descriptor until the listener's `handshakeTimeout`. A
 * `tls.Server` would run handshakes before `accept` and hide the failures
 * from the supervisor's counters.
 *
 * @module
 */
import * as net from "node:net";
import * as tls from "node:tls";
import { AcceptQueue } from "../../accept_queue.ts";
import { UnsupportedError } from "../../errors.ts";
import { StreamSocket } from "../../stream_socket.ts";
import type { Address, ListenSocket, Socket } from "../../transport.ts";
import type { TlsConnectConfig, TlsListenConfig } from "../adapter.ts";
import { PendingTls } from "../tls_pending_socket.ts";
import { NodeSocketChannel } from "./socket_channel.ts";
import { clientTls, serverTls } from "./tls_options.ts";
import { secureClientSide, secureServerSide } from "./tls_session.ts";

const runtime = `node ${process.versions.node}`;
const [major = 0, minor = 0] = process.versions.node.split(".").map(Number);
/** `server.listen({ reusePort })` arrived in Node.js 22.12 and 23.1. */
const hasReusePort = major > 23 || (major === 23 && minor >= 1) || (major === 22 && minor >= 12);

/** Socket buffers sized like the core's read high-water mark. */
const HIGH_WATER_MARK = 64 * 1024;

/** Opens a `net.Server` whose connections wait, unread, for their handshake. */
export async function listenTls(config: TlsListenConfig): Promise<ListenSocket> {
  if (config.reusePort && !hasReusePort) {
    throw new UnsupportedError("reusePort", runtime, "it needs Node.js 22.12 or later");
  }
  const options = serverTls(config.tls);
  const server = net.createServer({
    allowHalfOpen: true,
    pauseOnConnect: true,
    noDelay: config.noDelay,
    keepAlive: config.keepAlive,
    highWaterMark: HIGH_WATER_MARK,
  });
  const listenOptions: net.ListenOptions & { reusePort?: boolean } = {
    host: config.host ?? "0.0.0.0",
    port: config.port,
    backlog: config.backlog,
  };
  if (config.reusePort) listenOptions.reusePort = true;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(listenOptions, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const info = server.address() as net.AddressInfo;
  const queue = new AcceptQueue(inet(info.address, info.port, info.family), () => {
    // Accepted connections belong to the supervisor: only the port is released here.
    server.close();
    return Promise.resolve();
  });
  server.on("connection", (raw: net.Socket) => {
    const wrap = (socket: tls.TLSSocket, tlsInfo: Socket["tls"]) =>
      new StreamSocket(new NodeSocketChannel(socket), { secure: true, tls: tlsInfo });
    queue.push(
      new PendingTls(inet(raw.remoteAddress, raw.remotePort, raw.remoteFamily), queue.address, {
        handshake: () => secureServerSide(raw, options, wrap),
        destroy: () => raw.destroy(),
      }),
    );
  });
  server.on("error", (error) => queue.fail(error));
  return queue;
}

/** Connects and resolves once the server's certificate is verified (unless told not to). */
export function connectTls(config: TlsConnectConfig): Promise<Socket> {
  // allowHalfOpen reaches the TLSSocket (it is missing from @types/node): our reading side stays open after the peer's end.
  const options: tls.ConnectionOptions & { allowHalfOpen: boolean } = {
    ...clientTls(config.tls, config.host),
    host: config.host,
    port: config.port,
    allowHalfOpen: true,
  };
  const socket = tls.connect(options);
  socket.setNoDelay(config.noDelay);
  if (config.keepAlive) socket.setKeepAlive(true);
  return secureClientSide(
    socket,
    config.tls.serverName ?? (net.isIP(config.host) === 0 ? config.host : undefined),
    (secure, info) => new StreamSocket(new NodeSocketChannel(secure), { secure: true, tls: info }),
  );
}

function inet(address: string | undefined, port: number | undefined, family: string | undefined): Address {
  return {
    address: address ?? "",
    port: port ?? 0,
    family: family === "IPv6" || address?.includes(":") ? "IPv6" : "IPv4",
  };
}
