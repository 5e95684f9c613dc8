/**
 * The Deno runtime adapter: TCP and Unix domain sockets over Deno's own
 * `Deno.listen` / `Deno.connect` (never `node:net`).
 *
 * - An undefined `host` binds `"0.0.0.0"` (IPv4 only), Deno's own default;
 *   dual-stack `"::"` depends on the system's `IPV6_V6ONLY` setting, so
 *   listening on IPv6 is left to an explicit `host: "::"`.
 * - `backlog` is passed as `tcpBacklog` (Deno 2.9+; older versions ignore
 *   it). Unix listen sockets take no backlog option: Deno's default applies.
 * - `reusePort` needs Linux (elsewhere Deno silently ignores it) and Deno's
 *   `--unstable-net` (without it, Deno exits the process instead of
 *   throwing), else it is rejected with `UnsupportedError`.
 * - Errors are Deno's own, which carry a system `code` (`"EADDRINUSE"`,
 *   `"ECONNREFUSED"`, `"ENOENT"` for a missing socket file ...).
 *
 * @module
 */
import type { RuntimeAdapter, TcpConnectConfig, TcpListenConfig, UnixListenConfig } from "../adapter.ts";
import type { TlsConnectConfig, TlsListenConfig, TlsUpgradeConfig } from "../adapter.ts";
import { systemErrorCode, UnsupportedError } from "../../errors.ts";
import { StreamSocket } from "../../socket/stream_socket.ts";
import type { ListenSocket, Socket } from "../../transport.ts";
import { ConnChannel } from "./conn_channel.ts";
import { withSystemCode } from "./deno_errors.ts";
import { deno } from "./deno_types.ts";
import type { DenoConn, DenoTcpConn, DenoTcpListenOptions } from "./deno_types.ts";
import { DenoListenSocket } from "./listen_socket.ts";
import { denoTls } from "./tls_types.ts";

const name = `deno ${deno.version.deno}`;

/** Throws `UnsupportedError` unless `Deno.listen({ reusePort: true })` works here. */
function checkReusePort(): void {
  if (deno.build.os !== "linux") {
    throw new UnsupportedError("reusePort", name, `Deno supports SO_REUSEPORT on Linux only, not ${deno.build.os}`);
  }
  // Deno gates reusePort behind the `net` unstable feature and exits the
  // process when it is off; `Deno.listenDatagram` exists exactly when it is on.
  if (typeof deno.listenDatagram !== "function") {
    throw new UnsupportedError("reusePort", name, "run Deno with --unstable-net");
  }
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
      checkReusePort();
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

/** The {@linkcode RuntimeAdapter} for Deno. */
export const denoAdapter: RuntimeAdapter = {
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
