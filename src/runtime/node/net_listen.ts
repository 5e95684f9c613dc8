/**
 * Opening a `node:net` server and handing its connections to the
 * acceptors: what the TCP, Unix and TLS listeners on Node.js share.
 *
 * @module
 */
import * as net from "node:net";
import { AcceptQueue } from "../../socket/accept_queue.ts";
import { UnsupportedError } from "../../errors.ts";
import type { Address, ListenSocket, Socket } from "../../transport.ts";
import type { TcpListenConfig } from "../adapter.ts";
import { inetAddress } from "../shared/inet_address.ts";

/** The runtime, as `UnsupportedError` and the adapter name it. */
export const runtimeName = `node ${process.versions.node}`;

const [major = 0, minor = 0] = process.versions.node.split(".").map(Number);
/** `server.listen({ reusePort })` arrived in Node.js 22.12 and 23.1. */
const hasReusePort = major > 23 || (major === 23 && minor >= 1) || (major === 22 && minor >= 12);

/** Socket buffers sized like the core's read high-water mark. */
export const HIGH_WATER_MARK = 64 * 1024;

/**
 * A listening TCP server for `config` and its bound address.
 * `pauseOnConnect` leaves accepted sockets unread (TLS handshakes them later).
 */
export async function listenNetTcp(
  config: TcpListenConfig,
  pauseOnConnect: boolean,
): Promise<{ server: net.Server; address: Address }> {
  if (config.reusePort && !hasReusePort) {
    throw new UnsupportedError("reusePort", runtimeName, "it needs Node.js 22.12 or later");
  }
  const server = net.createServer({
    allowHalfOpen: true,
    pauseOnConnect,
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
  await listening(server, listenOptions);
  const info = server.address() as net.AddressInfo;
  return { server, address: inetAddress(info.address, info.port, info.family) };
}

/** Resolves once `server` listens, or rejects with its listen error. */
export function listening(server: net.Server, options: net.ListenOptions): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(options, () => {
      server.off("error", reject);
      resolve();
    });
  });
}

/** Feeds a listening server's connections (and accept errors) to the acceptors. */
export function serve(
  server: net.Server,
  address: Address,
  wrap: (socket: net.Socket, queue: AcceptQueue) => Socket,
): ListenSocket {
  // server.close() releases the port at once, but its callback waits for
  // every accepted connection to end: those belong to the supervisor now.
  const queue = new AcceptQueue(address, () => {
    server.close();
    return Promise.resolve();
  });
  server.on("connection", (socket: net.Socket) => queue.push(wrap(socket, queue)));
  // Node reports accept(2) failures such as EMFILE as server errors.
  server.on("error", (error) => queue.fail(error));
  return queue;
}
