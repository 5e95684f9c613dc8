/**
 * TLS on Deno: `Deno.listenTls` for servers, `Deno.connectTls` /
 * `Deno.startTls` for clients.
 *
 * Deno accepts a TLS connection without running its handshake; the
 * handshake runs at `conn.handshake()`, which Corral calls when the
 * protocol calls `conn.handshake()`. Like `DenoListenSocket`, accepts are
 * serialized (Deno allows one pending `accept()` per listener) and pulled
 * only while an acceptor waits.
 *
 * What Deno's TLS API cannot do is refused with `UnsupportedError`:
 * server-side SNI (one certificate per listener), asking clients for
 * certificates, TLS 1.3 as a minimum, turning certificate verification off
 * on a client, and a client certificate together with a server name other
 * than the host. Deno reports only the ALPN protocol of a handshake, so
 * `socket.tls` has no protocol version, cipher, server name (on the server)
 * or peer certificate. A `TlsConn` has no socket options: `keepAlive` on a
 * listener is refused, and `noDelay` (on by default) cannot be applied, so
 * accepted TLS connections keep Nagle's algorithm.
 *
 * @module
 */
import { UnsupportedError } from "../../errors.ts";
import { StreamSocket } from "../../socket/stream_socket.ts";
import type { ListenSocket, Socket } from "../../transport.ts";
import type { TlsConnectConfig, TlsListenConfig } from "../adapter.ts";
import { PendingTls } from "../shared/tls_pending_socket.ts";
import { ConnChannel } from "./conn_channel.ts";
import { withSystemCode } from "./deno_errors.ts";
import { DenoListenSocket } from "./listen_socket.ts";
import { toAddress } from "./net_address.ts";
import { type DenoListenTlsOptions, denoTls, type DenoTlsConn } from "./tls_types.ts";

const runtime = `deno ${denoTls.version.deno}`;

/** Opens `Deno.listenTls`; throws `UnsupportedError` for what it cannot do. */
export function listenTls(config: TlsListenConfig): Promise<ListenSocket> {
  try {
    const tls = config.tls;
    if (tls.selectKeyPair !== undefined) {
      throw new UnsupportedError("sni", runtime, "Deno.listenTls serves one certificate and has no SNI hook");
    }
    if (tls.requestCert) {
      throw new UnsupportedError("requestCert", runtime, "Deno.listenTls cannot ask clients for a certificate");
    }
    if (tls.minVersion !== "TLSv1.2") {
      throw new UnsupportedError("minVersion", runtime, "Deno.listenTls always accepts TLS 1.2 and 1.3");
    }
    if (config.keepAlive) {
      throw new UnsupportedError("keepAlive", runtime, "the connections of Deno.listenTls have no socket options");
    }
    const options: DenoListenTlsOptions = {
      transport: "tcp",
      hostname: config.host ?? "0.0.0.0",
      port: config.port,
      tcpBacklog: config.backlog,
      cert: tls.keyPair!.cert,
      key: tls.keyPair!.key,
    };
    if (tls.alpnProtocols !== undefined) options.alpnProtocols = tls.alpnProtocols;
    if (config.reusePort) {
      if (denoTls.build.os !== "linux") {
        throw new UnsupportedError("reusePort", runtime, `Deno supports SO_REUSEPORT on Linux only`);
      }
      if (typeof denoTls.listenDatagram !== "function") {
        throw new UnsupportedError("reusePort", runtime, "run Deno with --unstable-net");
      }
      options.reusePort = true;
    }
    return Promise.resolve(new DenoListenSocket(denoTls.listenTls(options), pending));
  } catch (error) {
    return Promise.reject(withSystemCode(error));
  }
}

/** Connects; resolves once the handshake verified the server. */
export async function connectTls(config: TlsConnectConfig): Promise<Socket> {
  const tls = config.tls;
  if (!tls.rejectUnauthorized) {
    throw new UnsupportedError(
      "rejectUnauthorized",
      runtime,
      "Deno always verifies the server certificate (only its --unsafely-ignore-certificate-errors flag stops that)",
    );
  }
  if (tls.minVersion !== "TLSv1.2") {
    throw new UnsupportedError("minVersion", runtime, "Deno's TLS client always accepts TLS 1.2 and 1.3");
  }
  const serverName = tls.serverName ?? config.host;
  let conn: DenoTlsConn;
  try {
    if (tls.keyPair !== undefined) {
      // Only Deno.connectTls sends a client certificate, and it verifies the host it connects to.
      if (serverName !== config.host) {
        throw new UnsupportedError(
          "serverName",
          runtime,
          "with a client certificate Deno can only verify the host it connects to",
        );
      }
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
  return new StreamSocket(new ConnChannel(conn, false), {
    secure: true,
    tls: { alpnProtocol: alpn ?? undefined, serverName },
  });
}

function isAddress(host: string): boolean {
  return /^[\d.]+$/.test(host) || host.includes(":");
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
