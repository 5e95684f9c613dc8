/**
 * The Node.js adapter: `node:net` servers and sockets behind the
 * `RuntimeAdapter` interface.
 *
 * @module
 */
import { lstat, readFile, unlink } from "node:fs/promises";
import * as net from "node:net";
import { AcceptQueue } from "../../accept_queue.ts";
import { UnsupportedError } from "../../errors.ts";
import { StreamSocket } from "../../stream_socket.ts";
import type { Address, ListenSocket, Socket } from "../../transport.ts";
import type { RuntimeAdapter, TcpConnectConfig, TcpListenConfig, UnixListenConfig } from "../adapter.ts";
import { NodeSocketChannel } from "./socket_channel.ts";
import type { TlsConnectConfig, TlsListenConfig, TlsUpgradeConfig } from "../adapter.ts";

const name = `node ${process.versions.node}`;
const [major = 0, minor = 0] = process.versions.node.split(".").map(Number);
/** `server.listen({ reusePort })` arrived in Node.js 22.12 and 23.1. */
const hasReusePort = major > 23 || (major === 23 && minor >= 1) || (major === 22 && minor >= 12);

/** Socket buffers sized like the core's read high-water mark. */
const HIGH_WATER_MARK = 64 * 1024;

async function listenTcp(config: TcpListenConfig): Promise<ListenSocket> {
  if (config.reusePort && !hasReusePort) {
    throw new UnsupportedError("reusePort", name, "it needs Node.js 22.12 or later");
  }
  const server = net.createServer({
    allowHalfOpen: true,
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
  const address: Address = { address: info.address, port: info.port, family: info.family === "IPv6" ? "IPv6" : "IPv4" };
  return serve(server, address, (socket) => new StreamSocket(new NodeSocketChannel(socket)));
}

async function listenUnix(config: UnixListenConfig): Promise<ListenSocket> {
  const server = net.createServer({ allowHalfOpen: true, highWaterMark: HIGH_WATER_MARK });
  await listening(server, { path: config.path, backlog: config.backlog });
  const unix = { local: config.path, remote: "" };
  return serve(server, { path: config.path }, (socket) => new StreamSocket(new NodeSocketChannel(socket, unix)));
}

function listening(server: net.Server, options: net.ListenOptions): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(options, () => {
      server.off("error", reject);
      resolve();
    });
  });
}

/** Feeds a listening server's connections (and accept errors) to the acceptors. */
function serve(server: net.Server, address: Address, wrap: (socket: net.Socket) => Socket): ListenSocket {
  // server.close() releases the port at once, but its callback waits for
  // every accepted connection to end: those belong to the supervisor now.
  const queue = new AcceptQueue(address, () => {
    server.close();
    return Promise.resolve();
  });
  server.on("connection", (socket: net.Socket) => queue.push(wrap(socket)));
  // Node reports accept(2) failures such as EMFILE as server errors.
  server.on("error", (error) => queue.fail(error));
  return queue;
}

function connectTcp(config: TcpConnectConfig): Promise<Socket> {
  const socket = net.connect({
    host: config.host,
    port: config.port,
    allowHalfOpen: true,
    noDelay: config.noDelay,
    keepAlive: config.keepAlive,
  });
  return connected(socket, "connect", () => new StreamSocket(new NodeSocketChannel(socket)));
}

function connectUnix(path: string): Promise<Socket> {
  const socket = net.connect({ path, allowHalfOpen: true });
  return connected(
    socket,
    "connect",
    () => new StreamSocket(new NodeSocketChannel(socket, { local: "", remote: path })),
  );
}

function connected(socket: net.Socket, event: string, wrap: () => Socket): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const fail = (error: Error) => reject(error);
    socket.once("error", fail);
    socket.once(event, () => {
      socket.off("error", fail);
      resolve(wrap());
    });
  });
}

async function removeSocketFile(path: string): Promise<void> {
  try {
    if ((await lstat(path)).isSocket()) await unlink(path);
  } catch (error) {
    if ((error as { code?: string }).code !== "ENOENT") throw error;
  }
}

function readTextFile(path: string): Promise<string> {
  return readFile(path, "utf8");
}

// node:tls is loaded on first use: a plain TCP server never pays for it.
const listenTls = (config: TlsListenConfig) => import("./tls_sockets.ts").then((m) => m.listenTls(config));
const connectTls = (config: TlsConnectConfig) => import("./tls_sockets.ts").then((m) => m.connectTls(config));
const upgradeTls = (socket: Socket, config: TlsUpgradeConfig) =>
  import("./tls_upgrade.ts").then((m) => m.upgradeTls(socket, config));

/** The adapter the runtime detector loads on Node.js. */
export const nodeAdapter: RuntimeAdapter = {
  name,
  listenTcp,
  connectTcp,
  listenUnix,
  connectUnix,
  removeSocketFile,
  readTextFile,
  listenTls,
  connectTls,
  upgradeTls,
};
