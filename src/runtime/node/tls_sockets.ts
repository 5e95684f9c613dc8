/**
 * TLS listen sockets and client connections on Node.js.
 *
 * The listener is a plain `net.Server` with `pauseOnConnect`: an accepted
 * connection is not read at all until its protocol calls
 * `conn.handshake()`, which wraps it in a server-side `tls.TLSSocket`. So
 * the acceptors never wait on a handshake, and a silent or hostile client
 * costs one descriptor until the listener's `handshakeTimeout`. A
 * `tls.Server` would run handshakes before `accept` and hide the failures
 * from the supervisor's counters.
 *
 * @module
 */
import * as net from "node:net";
import * as tls from "node:tls";
import { StreamSocket } from "../../socket/stream_socket.ts";
import type { ListenSocket, Socket } from "../../transport.ts";
import type { TlsConnectConfig, TlsListenConfig } from "../adapter.ts";
import { inetAddress } from "../shared/inet_address.ts";
import { PendingTls } from "../shared/tls_pending_socket.ts";
import { listenNetTcp, serve } from "./net_listen.ts";
import { NodeSocketChannel } from "../shared/net_socket_channel.ts";
import { clientTls, serverTls } from "../shared/tls_options.ts";
import { secureClientSide, secureServerSide } from "../shared/tls_session.ts";

/** Opens a `net.Server` whose connections wait, unread, for their handshake. */
export async function listenTls(config: TlsListenConfig): Promise<ListenSocket> {
  const options = serverTls(config.tls);
  const { server, address } = await listenNetTcp(config, true);
  const wrap = (socket: tls.TLSSocket, tlsInfo: Socket["tls"]) =>
    new StreamSocket(new NodeSocketChannel(socket), { secure: true, tls: tlsInfo });
  return serve(
    server,
    address,
    (raw, queue) =>
      new PendingTls(inetAddress(raw.remoteAddress, raw.remotePort, raw.remoteFamily), queue.address, {
        handshake: () => secureServerSide(raw, options, wrap),
        destroy: () => raw.destroy(),
      }),
  );
}

/** Connects and resolves once the server's certificate is verified (unless told not to). */
export function connectTls(config: TlsConnectConfig): Promise<Socket> {
  // allowHalfOpen reaches the TLSSocket (it is missing from @types/node): our reading side stays open after the peer's end.
  const options: tls.ConnectionOptions & { allowHalfOpen: boolean } = {
    ...clientTls(config.tls, config.host),
    host: config.host,
    port: config.port,
    allowHalfOpen: true,
  };
  const socket = tls.connect(options);
  socket.setNoDelay(config.noDelay);
  if (config.keepAlive) socket.setKeepAlive(true);
  return secureClientSide(
    socket,
    config.tls.serverName ?? (net.isIP(config.host) === 0 ? config.host : undefined),
    (secure, info) => new StreamSocket(new NodeSocketChannel(secure), { secure: true, tls: info }),
  );
}
