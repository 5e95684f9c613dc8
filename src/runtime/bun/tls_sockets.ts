/**
 * TLS on Bun: `Bun.listen` and `Bun.connect` with `tls`.
 *
 * Bun runs a server handshake natively as soon as it accepts; the acceptor
 * hands the connection over at once (`open` fires before the handshake
 * when a `handshake` handler exists) and `conn.handshake()` waits for
 * Bun's `handshake` event within the listener's `handshakeTimeout`.
 *
 * `Bun.listen` takes one TLS options object (an array, as `Bun.serve`
 * takes for SNI, is refused) and has no SNI hook, and Bun's TLS sockets end
 * the same way whether or not the peer sent close_notify. So a listener
 * with `sni`, and a listener or client with `detectTruncation`, runs Bun's
 * `node:tls` over its `node:net` instead (../shared/node_tls.ts), as do all
 * of them when the benchmarks set `CORRAL_TLS_PATH=node`. With
 * `detectTruncation` that TLS runs over a stream, where Bun 1.4.5 (its
 * UpgradedDuplex) ends a server's sending side when the client's
 * close_notify arrives: a reply after the client half-closed fails with
 * `ClosedError` `EPIPE` (../shared/tls_carrier.ts).
 *
 * @module
 */
import { AcceptQueue } from "../../socket/accept_queue.ts";
import { ClosedError, UnsupportedError } from "../../errors.ts";
import type { ListenSocket, Socket } from "../../transport.ts";
import type { TlsClientConfig, TlsConnectConfig, TlsListenConfig, TlsServerConfig } from "../adapter.ts";
import { inetAddress } from "../shared/inet_address.ts";
import { checkClientMaterial, checkServerMaterial } from "../shared/tls_material_check.ts";
import { PendingTls } from "../shared/tls_pending_socket.ts";
import { parseTlsPath, TLS_PATH_VARIABLE, withTlsPath } from "../shared/tls_path.ts";
import { boundAddress } from "./bound_address.ts";
import { withSystemCode } from "./bun_errors.ts";
import { bun, runtimeName } from "./bun_types.ts";
import { BunHandshake, tlsConnectHandlers, tlsListenHandlers } from "./tls_handshake.ts";
import {
  alpnWireFormat,
  type BunTlsConnectOptions,
  type BunTlsListenOptions,
  type BunTlsOptions,
  type BunTlsSocket,
  SSL_OP_NO_TLS_1_2,
} from "./tls_types.ts";

/** The slice of `Bun` with TLS options. */
interface BunTlsApi {
  listen<Data>(options: BunTlsListenOptions<Data>): {
    readonly port?: number;
    getsockname?(out: { address?: string; port?: number; family?: string }): void;
    stop(closeActiveConnections?: boolean): void;
  };
  connect<Data>(options: BunTlsConnectOptions<Data>): Promise<unknown>;
}

const bunTls = bun as unknown as BunTlsApi;

const path = parseTlsPath(process.env[TLS_PATH_VARIABLE]);
const nodeTls = () => import("../shared/node_tls.ts");

/** Opens a TLS listener whose connections reach the acceptors before their handshake ends. */
export async function listenTls(config: TlsListenConfig): Promise<ListenSocket> {
  const tls = withTlsPath(config.tls, path);
  if (config.reusePort && process.platform === "win32") {
    throw new UnsupportedError("reusePort", runtimeName, "Windows has no SO_REUSEPORT");
  }
  if (tls.selectKeyPair !== undefined || tls.detectTruncation || path === "node") {
    try {
      return await (await nodeTls()).listenNodeTls({ ...config, tls });
    } catch (error) {
      throw withSystemCode(error);
    }
  }
  checkServerMaterial(tls);
  return listenBunTls(config);
}

/** `Bun.listen` with `tls`. */
function listenBunTls(config: TlsListenConfig): Promise<ListenSocket> {
  const tls = config.tls;
  const host = config.host ?? "0.0.0.0";
  const to: { queue?: AcceptQueue } = {};
  const accept = (handshake: BunHandshake, socket: BunTlsSocket<unknown>) => {
    to.queue!.push(
      new PendingTls(inetAddress(socket.remoteAddress, socket.remotePort, socket.remoteFamily), to.queue!.address, {
        handshake: () => handshake.done,
        destroy: () => socket.terminate(),
      }),
    );
  };
  const tcp = { noDelay: config.noDelay, keepAlive: config.keepAlive };
  let listener: ReturnType<BunTlsApi["listen"]>;
  try {
    const options: BunTlsListenOptions<unknown> = {
      hostname: host,
      port: config.port,
      backlog: config.backlog,
      allowHalfOpen: true,
      tls: serverOptions(tls),
      socket: tlsListenHandlers(accept, tls.requestCert && tls.rejectUnauthorized, tcp) as never,
    };
    if (config.reusePort) options.reusePort = true;
    listener = bunTls.listen(options);
  } catch (error) {
    return Promise.reject(withSystemCode(error));
  }
  to.queue = new AcceptQueue(boundAddress(listener, host), () => {
    // false: accepted connections stay open, they belong to the supervisor.
    listener.stop(false);
    return Promise.resolve();
  });
  return Promise.resolve(to.queue);
}

function serverOptions(tls: TlsServerConfig): BunTlsOptions {
  const options: BunTlsOptions = {
    cert: tls.keyPair!.cert,
    key: tls.keyPair!.key,
    requestCert: tls.requestCert,
    rejectUnauthorized: tls.requestCert && tls.rejectUnauthorized,
  };
  if (tls.ca !== undefined) options.ca = tls.ca;
  if (tls.alpnProtocols !== undefined) options.ALPNProtocols = alpnWireFormat(tls.alpnProtocols);
  if (tls.minVersion === "TLSv1.3") options.secureOptions = SSL_OP_NO_TLS_1_2;
  return options;
}

function clientOptions(tls: TlsClientConfig, serverName: string | undefined): BunTlsOptions {
  const options: BunTlsOptions = { rejectUnauthorized: tls.rejectUnauthorized };
  if (serverName !== undefined) options.serverName = serverName;
  if (tls.ca !== undefined) options.ca = tls.ca;
  if (tls.keyPair !== undefined) {
    options.cert = tls.keyPair.cert;
    options.key = tls.keyPair.key;
  }
  if (tls.alpnProtocols !== undefined) options.ALPNProtocols = alpnWireFormat(tls.alpnProtocols);
  if (tls.minVersion === "TLSv1.3") options.secureOptions = SSL_OP_NO_TLS_1_2;
  return options;
}

/** Connects and resolves once Bun's handshake verified the server (unless told not to). */
export async function connectTls(config: TlsConnectConfig): Promise<Socket> {
  const tls = withTlsPath(config.tls, path);
  if (tls.detectTruncation || path === "node") {
    try {
      return await (await nodeTls()).connectNodeTls({ ...config, tls });
    } catch (error) {
      throw withSystemCode(error);
    }
  }
  checkClientMaterial(tls);
  const serverName = tls.serverName ?? (isAddress(config.host) ? undefined : config.host);
  const handshake = new BunHandshake({
    isServer: false,
    insist: tls.rejectUnauthorized,
    serverName,
    tcp: { noDelay: config.noDelay, keepAlive: config.keepAlive },
  });
  try {
    await bunTls.connect({
      hostname: config.host,
      port: config.port,
      allowHalfOpen: true,
      tls: clientOptions(tls, serverName),
      data: handshake,
      socket: tlsConnectHandlers as never,
    });
  } catch (error) {
    handshake.fail(new ClosedError("connect failed"));
    throw withSystemCode(error);
  }
  return await handshake.done;
}

function isAddress(host: string): boolean {
  return /^[\d.]+$/.test(host) || host.includes(":");
}
