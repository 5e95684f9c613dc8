/**
 * The Deno runtime adapter: TCP and Unix domain sockets over Deno's own
 * `Deno.listen` / `Deno.connect`, and over Deno's `node:net` (loaded on first
 * use) only for what `Deno.listen` cannot do.
 *
 * - An undefined `host` binds `"0.0.0.0"` (IPv4 only), Deno's own default;
 *   dual-stack `"::"` depends on the system's `IPV6_V6ONLY` setting, so
 *   listening on IPv6 is left to an explicit `host: "::"`.
 * - `backlog` is passed as `tcpBacklog` (Deno 2.9+; older versions ignore
 *   it). Unix listen sockets take no backlog option: Deno's default applies.
 * - `reusePort` needs Linux (elsewhere Deno silently ignores it, so it is
 *   rejected with `UnsupportedError`). `Deno.listen` takes it only with
 *   `--unstable-net` (without it, Deno exits the process instead of
 *   throwing), so without that flag the listen socket is Deno's `node:net`
 *   server, which sets SO_REUSEPORT with no flag.
 * - An inherited descriptor (`tcp({ fd })`, `unix({ fd })`) is listened on
 *   through Deno's `node:net` too: `Deno.listen` has no `fd` option and,
 *   given one, silently binds a random port instead.
 * - Errors are Deno's own, which carry a system `code` (`"EADDRINUSE"`,
 *   `"ECONNREFUSED"`, `"ENOENT"` for a missing socket file ...).
 *
 * @module
 */
import type {
  FdListenConfig,
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
import { systemErrorCode, UnsupportedError } from "../../errors.ts";
import { StreamSocket } from "../../socket/stream_socket.ts";
import type { Address, ListenSocket, Socket } from "../../transport.ts";
import { ConnChannel } from "./conn_channel.ts";
import { withSystemCode } from "./deno_errors.ts";
import { deno } from "./deno_types.ts";
import type { DenoConn, DenoTcpConn, DenoTcpListenOptions } from "./deno_types.ts";
import { DenoListenSocket } from "./listen_socket.ts";
import { soleListeningDescriptor } from "./listener_fd.ts";
import { denoTls } from "./tls_types.ts";

const name = `deno ${deno.version.deno}`;

/**
 * Whether `Deno.listen({ reusePort: true })` works here: Deno gates it
 * behind the `net` unstable feature and exits the process when that is off;
 * `Deno.listenDatagram` exists exactly when it is on. Throws
 * `UnsupportedError` off Linux, where no path honours SO_REUSEPORT.
 */
function denoListenHasReusePort(): boolean {
  if (deno.build.os !== "linux") {
    throw new UnsupportedError("reusePort", name, `Deno supports SO_REUSEPORT on Linux only, not ${deno.build.os}`);
  }
  return typeof deno.listenDatagram === "function";
}

/** Deno's `node:net`, loaded only for what `Deno.listen` cannot do. */
const netListen = () => import("../shared/net_listen.ts");

async function listenWithNodeNet(open: (m: Awaited<ReturnType<typeof netListen>>) => Promise<ListenSocket>) {
  try {
    return await open(await netListen());
  } catch (error) {
    throw withSystemCode(error);
  }
}

/** Deno's `node:net` does not tell a server's descriptor: it is found through `/proc`. */
const findDescriptor = (address: Address) => "port" in address ? soleListeningDescriptor(address.port) : undefined;

function listenFd(config: FdListenConfig): Promise<ListenSocket> {
  return listenWithNodeNet((m) => m.netFdListenSocket(config, findDescriptor));
}

function listenTcp(config: TcpListenConfig): Promise<ListenSocket> {
  const options: DenoTcpListenOptions = {
    transport: "tcp",
    hostname: config.host ?? "0.0.0.0",
    port: config.port,
    tcpBacklog: config.backlog,
  };
  try {
    if (config.reusePort) {
      if (!denoListenHasReusePort()) return listenWithNodeNet((m) => m.netTcpListenSocket(config, findDescriptor));
      options.reusePort = true;
    }
    const listener = deno.listen(options);
    return Promise.resolve(
      new DenoListenSocket(listener, (conn) => {
        // Set explicitly: whether Deno enables TCP_NODELAY on accepted sockets is not documented.
        conn.setNoDelay(config.noDelay);
        // Off is the kernel's default for accepted sockets, so only turning it on costs a syscall.
        if (config.keepAlive) conn.setKeepAlive(true);
        return new StreamSocket(new ConnChannel(conn, true));
      }),
    );
  } catch (error) {
    return Promise.reject(withSystemCode(error));
  }
}

async function connectTcp(config: TcpConnectConfig): Promise<Socket> {
  let conn: DenoTcpConn;
  try {
    conn = await deno.connect({ transport: "tcp", hostname: config.host, port: config.port });
  } catch (error) {
    throw withSystemCode(error);
  }
  try {
    conn.setNoDelay(config.noDelay);
    if (config.keepAlive) conn.setKeepAlive(true);
  } catch (error) {
    conn.close();
    throw withSystemCode(error);
  }
  return new StreamSocket(new ConnChannel(conn, true));
}

function listenUnix(config: UnixListenConfig): Promise<ListenSocket> {
  // config.backlog is ignored: Deno.listen has no backlog option for Unix sockets.
  try {
    const listener = deno.listen({ transport: "unix", path: config.path });
    return Promise.resolve(new DenoListenSocket(listener, (conn) => new StreamSocket(new ConnChannel(conn, false))));
  } catch (error) {
    return Promise.reject(withSystemCode(error));
  }
}

async function connectUnix(path: string): Promise<Socket> {
  let conn: DenoConn;
  try {
    conn = await deno.connect({ transport: "unix", path });
  } catch (error) {
    throw withSystemCode(error);
  }
  return new StreamSocket(new ConnChannel(conn, false));
}

async function removeSocketFile(path: string): Promise<void> {
  try {
    const info = await deno.lstat(path);
    if (info.isSocket === true) await deno.remove(path);
  } catch (error) {
    // Missing (or removed between lstat and remove): nothing to do.
    if (systemErrorCode(error) !== "ENOENT") throw withSystemCode(error);
  }
}

function readTextFile(path: string): Promise<string> {
  return denoTls.readTextFile(path);
}

// TLS code is loaded on first use. STARTTLS runs Deno's node:tls (see tls_upgrade.ts).
const listenTls = (config: TlsListenConfig) => import("./tls_sockets.ts").then((m) => m.listenTls(config));
const connectTls = (config: TlsConnectConfig) => import("./tls_sockets.ts").then((m) => m.connectTls(config));
const upgradeTls = (socket: Socket, config: TlsUpgradeConfig) =>
  import("../shared/tls_upgrade.ts").then((m) => m.upgradeTls(socket, config));

// node:child_process and node:fs are loaded for a handover only. Deno's
// spawn clears O_NONBLOCK on the listen sockets it passes (see successor.ts).
const successor = () => import("../shared/successor.ts");
const spawnSuccessor = (config: SuccessorConfig) => successor().then((m) => m.spawnSuccessor(config, name, true));
const writeAndClose = (fd: number, text: string) => successor().then((m) => m.writeAndClose(fd, text));

// The file reader is loaded by the first sendfile().
const openFileRange = (file: string | URL, offset: number, length: number | undefined) =>
  import("./file_range.ts").then((m) => m.openFileRange(file, offset, length));

/** The {@linkcode RuntimeAdapter} for Deno. */
export const denoAdapter: RuntimeAdapter = {
  name,
  listenTcp,
  connectTcp,
  listenFd,
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
