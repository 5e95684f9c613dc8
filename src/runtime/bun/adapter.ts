/**
 * The Bun adapter: TCP and Unix domain sockets over Bun's native
 * `Bun.listen` / `Bun.connect` (never `node:net`).
 *
 * - Every socket is opened with `allowHalfOpen: true`: without it Bun closes
 *   a socket as soon as the peer's FIN arrives, so a server could not reply
 *   after the client half-closed.
 * - An undefined `host` binds `"0.0.0.0"` (IPv4 only), like the other adapters.
 * - `backlog` is passed on, but Bun 1.4.5 ignores it: its listen(2) always
 *   gets 512.
 * - `reusePort` is Bun's own `Bun.listen` option (SO_REUSEPORT); Windows has
 *   no such option, so there it is rejected with `UnsupportedError`.
 * - Errors are Bun's own, which carry a system `code` (`"EADDRINUSE"`,
 *   `"ECONNREFUSED"`, `"ENOENT"` for a missing socket file ...).
 * - Bun has no hook for accept(2) failures: they never reach the acceptors.
 *   At the descriptor limit (EMFILE) Bun 1.4.5 retries accept(2) in a busy
 *   loop until a descriptor frees up (oven-sh/bun#32705).
 *
 * @module
 */
import { AcceptQueue } from "../../socket/accept_queue.ts";
import { ClosedError, UnsupportedError } from "../../errors.ts";
import type { StreamSocket } from "../../socket/stream_socket.ts";
import type { Address, ListenSocket, Socket } from "../../transport.ts";
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
import { boundAddress } from "./bound_address.ts";
import { tcpListenError, unixConnectError, withSystemCode } from "./bun_errors.ts";
import { bun, runtimeName } from "./bun_types.ts";
import type { BunListener, BunSocketHandler, BunTcpListenOptions } from "./bun_types.ts";
import type { BunSocketChannel, UnixEnds } from "./socket_channel.ts";
import { connectHandlers, listenHandlers } from "./socket_handlers.ts";
import { readTextFile, removeSocketFile } from "../shared/socket_files.ts";
import type { PendingConnect, TcpOptions } from "./socket_handlers.ts";

const RESOLVED: Promise<void> = Promise.resolve();

function listenTcp(config: TcpListenConfig): Promise<ListenSocket> {
  if (config.reusePort && process.platform === "win32") {
    return Promise.reject(new UnsupportedError("reusePort", runtimeName, "Windows has no SO_REUSEPORT"));
  }
  const host = config.host ?? "0.0.0.0";
  const tcp = { noDelay: config.noDelay, keepAlive: config.keepAlive };
  return serve(
    (socket) => {
      const options: BunTcpListenOptions<BunSocketChannel> = {
        hostname: host,
        port: config.port,
        backlog: config.backlog,
        allowHalfOpen: true,
        socket,
      };
      if (config.reusePort) options.reusePort = true;
      return bun.listen(options);
    },
    (listener) => boundAddress(listener, host),
    undefined,
    tcp,
  ).catch(async (error: unknown) => {
    throw await tcpListenError(error, host);
  });
}

function listenUnix(config: UnixListenConfig): Promise<ListenSocket> {
  const ends = { local: config.path, remote: "" };
  return serve(
    (socket) => bun.listen({ unix: config.path, backlog: config.backlog, allowHalfOpen: true, socket }),
    () => ({ path: config.path }),
    ends,
    undefined,
  );
}

/**
 * `Bun.listen({ fd })` takes a descriptor that is already bound and
 * listening. Nothing tells the socket file of an inherited Unix socket, so
 * its address is `{ path: "" }`.
 */
function listenFd(config: FdListenConfig): Promise<ListenSocket> {
  const unix = config.kind === "unix";
  return serve(
    (socket) => bun.listen({ fd: config.fd, backlog: config.backlog, allowHalfOpen: true, socket }),
    (listener) => unix ? { path: "" } : boundAddress(listener, "0.0.0.0"),
    unix ? { local: "", remote: "" } : undefined,
    unix ? undefined : { noDelay: config.noDelay, keepAlive: config.keepAlive },
  );
}

/** An `AcceptQueue` that also tells its listener's descriptor, for a handover. */
class BunAcceptQueue extends AcceptQueue {
  readonly #listener: BunListener;

  constructor(listener: BunListener, address: Address) {
    super(address, () => stop(listener));
    this.#listener = listener;
  }

  get fd(): number | undefined {
    const fd = this.#listener.fd;
    return this.isClosed || fd === undefined || fd < 0 ? undefined : fd;
  }
}

/** Opens a Bun listener whose connections, as `StreamSocket`s, wait in an `AcceptQueue`. */
function serve(
  listen: (handlers: BunSocketHandler<BunSocketChannel>) => BunListener,
  address: (listener: BunListener) => Address,
  unix: UnixEnds | undefined,
  tcp: TcpOptions | undefined,
): Promise<ListenSocket> {
  // Bun calls `open` from its event loop, so only after `to.queue` is set below.
  const to: { queue?: AcceptQueue } = {};
  let listener: BunListener;
  try {
    listener = listen(listenHandlers((socket) => to.queue!.push(socket), unix, tcp));
  } catch (error) {
    return Promise.reject(withSystemCode(error));
  }
  to.queue = new BunAcceptQueue(listener, address(listener));
  return Promise.resolve(to.queue);
}

/**
 * Stops accepting; `false` keeps the accepted connections open (they belong
 * to the supervisor now). Bun removes a Unix listener's socket file here.
 */
function stop(listener: BunListener): Promise<void> {
  listener.stop(false);
  return RESOLVED;
}

function connectTcp(config: TcpConnectConfig): Promise<Socket> {
  return connect({ hostname: config.host, port: config.port }, {
    socket: undefined,
    unix: undefined,
    tcp: { noDelay: config.noDelay, keepAlive: config.keepAlive },
  });
}

function connectUnix(path: string): Promise<Socket> {
  return connect({ unix: path }, { socket: undefined, unix: { local: "", remote: path }, tcp: undefined }).catch(
    async (error: unknown) => {
      throw await unixConnectError(error, path);
    },
  );
}

/** `Bun.connect` to `to`; resolves with the socket the `open` handler made. */
async function connect(
  to: { hostname: string; port: number } | { unix: string },
  pending: PendingConnect,
): Promise<Socket> {
  try {
    await bun.connect({
      ...to,
      allowHalfOpen: true,
      data: pending as unknown as BunSocketChannel,
      socket: connectHandlers,
    });
  } catch (error) {
    throw withSystemCode(error);
  }
  return connected(pending);
}

/** The socket the `open` handler made (Bun runs it before `Bun.connect` resolves). */
function connected(pending: PendingConnect): StreamSocket {
  if (pending.socket === undefined) throw new ClosedError("the connection closed while it was being opened");
  return pending.socket;
}

// TLS code is loaded on first use. STARTTLS runs Bun's node:tls (see tls_upgrade.ts).
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

/** The adapter the runtime detector loads on Bun. */
export const bunAdapter: RuntimeAdapter = {
  name: runtimeName,
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
