/**
 * Opening a `node:net` server and handing its connections to the
 * acceptors: what the TCP, Unix and TLS listeners on Node.js share, and the
 * listen path Deno takes where `Deno.listen` falls short (`reusePort`
 * without `--unstable-net`, an inherited descriptor) and Bun takes for
 * nothing (its own `Bun.listen` does all of it).
 *
 * @module
 */
import * as net from "node:net";
import { AcceptQueue } from "../../socket/accept_queue.ts";
import { StreamSocket } from "../../socket/stream_socket.ts";
import type { Address, ListenSocket, Socket } from "../../transport.ts";
import type { FdListenConfig, TcpListenConfig } from "../adapter.ts";
import { inetAddress } from "./inet_address.ts";
import { NodeSocketChannel } from "./net_socket_channel.ts";

/** Socket buffers sized like the core's read high-water mark. */
export const HIGH_WATER_MARK = 64 * 1024;

/**
 * A listening TCP server for `config` and its bound address.
 * `pauseOnConnect` leaves accepted sockets unread (TLS handshakes them later).
 * Whether the runtime honours `reusePort` is the caller's check.
 */
export async function listenNetTcp(
  config: TcpListenConfig,
  pauseOnConnect: boolean,
): Promise<{ server: net.Server; address: Address }> {
  const server = createNetServer(config, pauseOnConnect);
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

/**
 * A server accepting on a descriptor that is already bound and listening
 * (inherited through socket activation or a handover), and its address.
 */
export async function listenNetFd(config: FdListenConfig): Promise<{ server: net.Server; address: Address }> {
  const server = createNetServer(config, false);
  // listen(2) again on a listening socket only sets its backlog: Node.js
  // would otherwise shrink it to 511.
  await listening(server, { fd: config.fd, backlog: config.backlog } as net.ListenOptions);
  const info = server.address();
  if (config.kind === "unix") return { server, address: { path: typeof info === "string" ? info : "" } };
  if (info === null || typeof info === "string") {
    server.close();
    throw Object.assign(new Error(`descriptor ${config.fd} is not a TCP listen socket`), { code: "ENOTSOCK" });
  }
  return { server, address: inetAddress(info.address, info.port, info.family) };
}

function createNetServer(config: { noDelay: boolean; keepAlive: boolean }, pauseOnConnect: boolean): net.Server {
  return net.createServer({
    allowHalfOpen: true,
    pauseOnConnect,
    noDelay: config.noDelay,
    keepAlive: config.keepAlive,
    highWaterMark: HIGH_WATER_MARK,
  });
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

/** Finds the descriptor of a listen socket where the runtime's `node:net` does not tell it (Deno). */
export type DescriptorFinder = (address: Address) => number | undefined;

/** An `AcceptQueue` that also tells its server's descriptor, for a handover. */
class NetAcceptQueue extends AcceptQueue {
  readonly #server: net.Server;
  readonly #find: DescriptorFinder | undefined;

  constructor(server: net.Server, address: Address, find: DescriptorFinder | undefined) {
    // server.close() releases the port at once, but its callback waits for
    // every accepted connection to end: those belong to the supervisor now.
    super(address, () => {
      server.close();
      return Promise.resolve();
    });
    this.#server = server;
    this.#find = find;
  }

  /**
   * Node.js and Bun keep the descriptor on the server's handle. Deno's
   * `node:net` does not; its `fdForIpc()` returns a new duplicate on every
   * call, which Deno can never close (its `closeSync` knows only its own
   * resources), so it would keep the socket listening after `close()`: the
   * adapter's finder is asked instead.
   */
  get fd(): number | undefined {
    if (this.isClosed) return undefined;
    const fd = (this.#server as unknown as { _handle?: { fd?: unknown } | null })._handle?.fd;
    if (typeof fd === "number") return fd >= 0 ? fd : undefined;
    return this.#find?.(this.address);
  }
}

/** Feeds a listening server's connections (and accept errors) to the acceptors. */
export function serve(
  server: net.Server,
  address: Address,
  wrap: (socket: net.Socket, queue: AcceptQueue) => Socket,
  find?: DescriptorFinder,
): ListenSocket {
  const queue = new NetAcceptQueue(server, address, find);
  server.on("connection", (socket: net.Socket) => queue.push(wrap(socket, queue)));
  // Node reports accept(2) failures such as EMFILE as server errors.
  server.on("error", (error) => queue.fail(error));
  return queue;
}

/** A plain TCP listen socket over `node:net`. */
export async function netTcpListenSocket(config: TcpListenConfig, find?: DescriptorFinder): Promise<ListenSocket> {
  const { server, address } = await listenNetTcp(config, false);
  return serve(server, address, (socket) => new StreamSocket(new NodeSocketChannel(socket)), find);
}

/** A listen socket over `node:net` on an inherited descriptor, TCP or Unix. */
export async function netFdListenSocket(config: FdListenConfig, find?: DescriptorFinder): Promise<ListenSocket> {
  const { server, address } = await listenNetFd(config);
  const unix = "path" in address ? { local: address.path, remote: "" } : undefined;
  return serve(server, address, (socket) => new StreamSocket(new NodeSocketChannel(socket, unix)), find);
}
