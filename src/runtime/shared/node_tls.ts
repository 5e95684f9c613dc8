/**
 * TLS listen sockets and client connections with `node:tls` over
 * `node:net`: Node.js's only TLS path, and the one Deno and Bun take (their
 * `node:tls` runs over their own `node:net` sockets) for what their native
 * TLS APIs cannot do: SNI, client certificates on Deno, TLS 1.3 as a
 * minimum, a client that does not verify, a silent client closed at
 * `handshakeTimeout`.
 *
 * The listener is a plain `net.Server` with `pauseOnConnect`: an accepted
 * connection is not read at all until its protocol calls
 * `conn.handshake()`, which wraps it in a server-side `tls.TLSSocket`. So
 * the acceptors never wait on a handshake, and a silent or hostile client
 * costs one descriptor until the listener's `handshakeTimeout`, which
 * closes it. A `tls.Server` would run handshakes before `accept` and hide
 * the failures from the supervisor's counters.
 *
 * With `detectTruncation`, the TLS engine runs over a {@linkcode NetCarrier}
 * instead of owning the socket, so `socket.tls.closeNotify` can be told.
 * Deno always asks for the carrier (`carried`): its `node:tls` loses the
 * end of a paused TLS socket, and over a carrier the TLS socket is never
 * paused (see tls_carrier.ts).
 *
 * @module
 */
import * as net from "node:net";
import * as tls from "node:tls";
import { StreamSocket } from "../../socket/stream_socket.ts";
import type { Address, ListenSocket, Socket, TlsInfo } from "../../transport.ts";
import type { TlsConnectConfig, TlsListenConfig } from "../adapter.ts";
import { inetAddress } from "./inet_address.ts";
import { listenNetTcp, serve } from "./net_listen.ts";
import { NodeSocketChannel } from "./net_socket_channel.ts";
import { CarriedTlsChannel, CloseNotifyWatch, NetCarrier, netEnds } from "./tls_carrier.ts";
import { clientTls, type NodeServerTls, serverTls } from "./tls_options.ts";
import { PendingTls } from "./tls_pending_socket.ts";
import { secureClientSide, secureServerSide } from "./tls_session.ts";

/** The secure socket of a TLS engine that owns its TCP socket. */
function direct(secure: tls.TLSSocket, info: TlsInfo): Socket {
  return new StreamSocket(new NodeSocketChannel(secure), { secure: true, tls: info });
}

/** The secure socket of a TLS engine over `carrier`, whose end `watch` compares with its own. */
function overCarrier(carrier: NetCarrier, local: Address, remote: Address) {
  const watch = new CloseNotifyWatch(carrier);
  const ends = netEnds(carrier.raw, local, remote);
  return (secure: tls.TLSSocket, info: TlsInfo): Socket => {
    watch.attach(secure, info);
    return new StreamSocket(new CarriedTlsChannel(secure, carrier, ends), { secure: true, tls: info });
  };
}

/** Runs the server handshake over an accepted connection. */
function handshake(raw: net.Socket, options: NodeServerTls, carry: boolean, local: Address, remote: Address) {
  if (!carry) return secureServerSide(raw, options, direct);
  const carrier = new NetCarrier(raw);
  return secureServerSide(carrier, options, overCarrier(carrier, local, remote));
}

/**
 * Opens a `net.Server` whose connections wait, unread, for their
 * handshake; `carried` runs each over a carrier even without
 * `detectTruncation`. Whether the runtime honours `reusePort` is the
 * caller's check.
 */
export async function listenNodeTls(config: TlsListenConfig, carried = false): Promise<ListenSocket> {
  const options = serverTls(config.tls);
  const carry = carried || config.tls.detectTruncation;
  const { server, address } = await listenNetTcp(config, true);
  const { noDelay, keepAlive } = config;
  return serve(server, address, (raw, queue) => {
    // Set on each socket: Deno's node:net leaves the server's noDelay and keepAlive options unapplied.
    raw.setNoDelay(noDelay);
    if (keepAlive) raw.setKeepAlive(true);
    const remote = inetAddress(raw.remoteAddress, raw.remotePort, raw.remoteFamily);
    return new PendingTls(remote, queue.address, {
      handshake: () => handshake(raw, options, carry, queue.address, remote),
      destroy: () => raw.destroy(),
    });
  });
}

/**
 * Connects and resolves once the server's certificate is verified (unless
 * told not to); `carried` as for {@linkcode listenNodeTls}.
 */
export function connectNodeTls(config: TlsConnectConfig, carried = false): Promise<Socket> {
  const serverName = config.tls.serverName ?? (net.isIP(config.host) === 0 ? config.host : undefined);
  // allowHalfOpen reaches the TLSSocket (it is missing from @types/node): our reading side stays open after the peer's end.
  const options: tls.ConnectionOptions & { allowHalfOpen: boolean } = {
    ...clientTls(config.tls, config.host),
    allowHalfOpen: true,
  };
  if (!carried && !config.tls.detectTruncation) {
    const socket = tls.connect({ ...options, host: config.host, port: config.port });
    socket.setNoDelay(config.noDelay);
    if (config.keepAlive) socket.setKeepAlive(true);
    return secureClientSide(socket, serverName, direct);
  }
  const raw = net.connect({ host: config.host, port: config.port, allowHalfOpen: true });
  raw.setNoDelay(config.noDelay);
  if (config.keepAlive) raw.setKeepAlive(true);
  const carrier = new NetCarrier(raw);
  const secure = tls.connect({ ...options, socket: carrier });
  // The addresses are known once connected, which is before the handshake ends.
  return secureClientSide(secure, serverName, (socket, info) => {
    const local = inetAddress(raw.localAddress, raw.localPort, raw.localFamily);
    const remote = inetAddress(raw.remoteAddress, raw.remotePort, raw.remoteFamily);
    return overCarrier(carrier, local, remote)(socket, info);
  });
}
