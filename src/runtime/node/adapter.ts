/**
 * The Node.js adapter: `node:net` servers and sockets behind the
 * `RuntimeAdapter` interface.
 *
 * @module
 */
import * as net from "node:net";
import { StreamSocket } from "../../socket/stream_socket.ts";
import type { ListenSocket, Socket } from "../../transport.ts";
import type {
  RuntimeAdapter,
  SuccessorConfig,
  TcpConnectConfig,
  TcpListenConfig,
  TlsConnectConfig,
  TlsListenConfig,
  TlsUpgradeConfig,
  UnixListenConfig,
} from "../adapter.ts";
import { processInfo } from "../shared/process_info.ts";
import { HIGH_WATER_MARK, listening, netFdListenSocket, netTcpListenSocket, serve } from "../shared/net_listen.ts";
import { unixListenError } from "./node_errors.ts";
import { checkReusePort, runtimeName } from "./node_version.ts";
import { NodeSocketChannel } from "../shared/net_socket_channel.ts";
import { readTextFile, removeSocketFile } from "../shared/socket_files.ts";

async function listenTcp(config: TcpListenConfig): Promise<ListenSocket> {
  checkReusePort(config.reusePort);
  return await netTcpListenSocket(config);
}

async function listenUnix(config: UnixListenConfig): Promise<ListenSocket> {
  const server = net.createServer({ allowHalfOpen: true, highWaterMark: HIGH_WATER_MARK });
  await listening(server, { path: config.path, backlog: config.backlog }).catch(async (error: unknown) => {
    throw await unixListenError(error, config.path);
  });
  const unix = { local: config.path, remote: "" };
  return serve(server, { path: config.path }, (socket) => new StreamSocket(new NodeSocketChannel(socket, unix)));
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

// node:tls is loaded on first use: a plain TCP server never pays for it.
const listenTls = (config: TlsListenConfig) => import("./tls_sockets.ts").then((m) => m.listenTls(config));
const connectTls = (config: TlsConnectConfig) => import("./tls_sockets.ts").then((m) => m.connectTls(config));
const upgradeTls = (socket: Socket, config: TlsUpgradeConfig) =>
  import("../shared/tls_upgrade.ts").then((m) => m.upgradeTls(socket, config));

// node:child_process and node:fs are loaded for a handover only.
const successor = () => import("../shared/successor.ts");
const spawnSuccessor = (config: SuccessorConfig) =>
  successor().then((m) => m.spawnSuccessor(config, runtimeName, false));
const writeAndClose = (fd: number, text: string) => successor().then((m) => m.writeAndClose(fd, text));

// The file reader is loaded by the first sendfile().
const openFileRange = (file: string | URL, offset: number, length: number | undefined) =>
  import("./file_range.ts").then((m) => m.openFileRange(file, offset, length));

/** The adapter the runtime detector loads on Node.js. */
export const nodeAdapter: RuntimeAdapter = {
  name: runtimeName,
  listenTcp,
  connectTcp,
  listenFd: netFdListenSocket,
  listenUnix,
  connectUnix,
  removeSocketFile,
  readTextFile,
  openFileRange,
  processInfo,
  spawnSuccessor,
  writeAndClose,
  listenTls,
  connectTls,
  upgradeTls,
};
