/**
 * TLS on Deno: listeners and clients run Deno's `node:tls` over its
 * `node:net` (../shared/node_tls.ts).
 *
 * `Deno.listenTls` cannot close a connection whose handshake has not
 * finished: its descriptor stays open until the client sends or leaves
 * (denoland/deno#14547), so a silent client would outlive
 * `handshakeTimeout`. It also serves one certificate (no SNI), cannot ask
 * for client certificates, always accepts TLS 1.2, reports only the ALPN
 * protocol of a handshake, and its connections have no socket options.
 * Deno's `node:tls` does all of that, over a plain TCP socket Corral closes
 * whenever it must. `Deno.listenTls` stays for the benchmarks
 * (`CORRAL_TLS_PATH=native`) where the options allow it.
 *
 * Clients run `node:tls` too: `Deno.connectTls` and `Deno.startTls` report
 * only the ALPN protocol (no version, cipher or server certificate), always
 * verify the server, always accept TLS 1.2, and send a client certificate
 * only to the host they connect to. They stay for the benchmarks
 * (`CORRAL_TLS_PATH=native`) where the options allow them; a server that
 * closes without close_notify is an end of stream there too (rustls reports
 * it as `UnexpectedEof`).
 *
 * @module
 */
import { UnsupportedError } from "../../errors.ts";
import { StreamSocket } from "../../socket/stream_socket.ts";
import type { ListenSocket, Socket, TlsInfo } from "../../transport.ts";
import type { TlsClientConfig, TlsConnectConfig, TlsListenConfig } from "../adapter.ts";
import { checkClientMaterial, checkServerMaterial } from "../shared/tls_material_check.ts";
import { PendingTls } from "../shared/tls_pending_socket.ts";
import { parseTlsPath, TLS_PATH_VARIABLE, type TlsPath, withTlsPath } from "../shared/tls_path.ts";
import { ConnChannel } from "./conn_channel.ts";
import { withSystemCode } from "./deno_errors.ts";
import { DenoListenSocket } from "./listen_socket.ts";
import { toAddress } from "./net_address.ts";
import { TruncationAwareConn } from "./tls_truncation.ts";
import { type DenoListenTlsOptions, denoTls, type DenoTlsConn } from "./tls_types.ts";

const runtime = `deno ${denoTls.version.deno}`;

/** `CORRAL_TLS_PATH`, read only when Deno may read it (asking would prompt). */
const path: TlsPath | undefined = (() => {
  try {
    const allowed = denoTls.permissions.querySync({ name: "env", variable: TLS_PATH_VARIABLE }).state === "granted";
    return allowed ? parseTlsPath(denoTls.env.get(TLS_PATH_VARIABLE)) : undefined;
  } catch {
    return undefined;
  }
})();

const nodeTls = () => import("../shared/node_tls.ts");

/** Opens a TLS listener: `node:tls` over `node:net`, or `Deno.listenTls` when the benchmarks ask. */
export async function listenTls(config: TlsListenConfig): Promise<ListenSocket> {
  const tls = withTlsPath(config.tls, path);
  if (path === "native" && fitsDenoListenTls(config)) return listenDenoTls(config);
  if (config.reusePort && denoTls.build.os !== "linux") {
    throw new UnsupportedError("reusePort", runtime, `Deno supports SO_REUSEPORT on Linux only`);
  }
  try {
    // Carried: Deno's node:tls loses the end of a paused TLS socket (see ../shared/tls_carrier.ts).
    return await (await nodeTls()).listenNodeTls({ ...config, tls }, true);
  } catch (error) {
    throw withSystemCode(error);
  }
}

/** Connects; resolves once the handshake verified the server (unless told not to). */
export async function connectTls(config: TlsConnectConfig): Promise<Socket> {
  const tls = withTlsPath(config.tls, path);
  const serverName = tls.serverName ?? config.host;
  if (path !== "native" || needsNodeTls(tls, serverName !== config.host)) {
    try {
      return await (await nodeTls()).connectNodeTls({ ...config, tls }, true);
    } catch (error) {
      throw withSystemCode(error);
    }
  }
  checkClientMaterial(tls);
  let conn: DenoTlsConn;
  try {
    if (tls.keyPair !== undefined) {
      // Only Deno.connectTls sends a client certificate; it verifies the host it connects to.
      conn = await denoTls.connectTls({
        hostname: config.host,
        port: config.port,
        caCerts: tls.ca,
        alpnProtocols: tls.alpnProtocols,
        cert: tls.keyPair.cert,
        key: tls.keyPair.key,
      });
    } else {
      // TCP first, so the socket options apply and the name to verify can differ from the host.
      const tcp = await denoTls.connect({ hostname: config.host, port: config.port });
      tcp.setNoDelay(config.noDelay);
      if (config.keepAlive) tcp.setKeepAlive(true);
      conn = await denoTls.startTls(tcp, { hostname: serverName, caCerts: tls.ca, alpnProtocols: tls.alpnProtocols });
    }
  } catch (error) {
    throw withSystemCode(error);
  }
  return await secured(conn, isAddress(serverName) ? undefined : serverName);
}

/** What Deno's own TLS client cannot do. */
function needsNodeTls(tls: TlsClientConfig, otherName: boolean): boolean {
  return !tls.rejectUnauthorized || tls.minVersion !== "TLSv1.2" || tls.detectTruncation ||
    (tls.keyPair !== undefined && otherName);
}

/** Runs the handshake and wraps the connection; closes it when the handshake fails. */
async function secured(conn: DenoTlsConn, serverName: string | undefined): Promise<Socket> {
  let alpn: string | null;
  try {
    alpn = (await conn.handshake()).alpnProtocol;
  } catch (error) {
    try {
      conn.close();
    } catch {
      // Already closed.
    }
    throw withSystemCode(error);
  }
  const info: TlsInfo = { alpnProtocol: alpn ?? undefined, serverName };
  return new StreamSocket(new ConnChannel(new TruncationAwareConn(conn, info), false), { secure: true, tls: info });
}

function isAddress(host: string): boolean {
  return /^[\d.]+$/.test(host) || host.includes(":");
}

/** Whether `Deno.listenTls` can serve `config`. */
function fitsDenoListenTls(config: TlsListenConfig): boolean {
  const tls = config.tls;
  return tls.selectKeyPair === undefined && !tls.requestCert && tls.minVersion === "TLSv1.2" &&
    !tls.detectTruncation && !config.keepAlive &&
    // Deno exits the process for reusePort without the `net` unstable feature, which adds Deno.listenDatagram.
    (!config.reusePort || typeof denoTls.listenDatagram === "function");
}

/**
 * `Deno.listenTls`, for the benchmarks only (see `fitsDenoListenTls`): a
 * silent client keeps its descriptor past `handshakeTimeout`.
 */
function listenDenoTls(config: TlsListenConfig): Promise<ListenSocket> {
  try {
    const tls = config.tls;
    checkServerMaterial(tls);
    const options: DenoListenTlsOptions = {
      transport: "tcp",
      hostname: config.host ?? "0.0.0.0",
      port: config.port,
      tcpBacklog: config.backlog,
      cert: tls.keyPair!.cert,
      key: tls.keyPair!.key,
    };
    if (tls.alpnProtocols !== undefined) options.alpnProtocols = tls.alpnProtocols;
    if (config.reusePort) options.reusePort = true;
    return Promise.resolve(new DenoListenSocket(denoTls.listenTls(options), pending));
  } catch (error) {
    return Promise.reject(withSystemCode(error));
  }
}

function pending(conn: DenoTlsConn): PendingTls {
  return new PendingTls(toAddress(conn.remoteAddr), toAddress(conn.localAddr), {
    handshake: () => secured(conn, undefined),
    destroy: () => {
      try {
        conn.close();
      } catch {
        // Already closed.
      }
    },
  });
}
