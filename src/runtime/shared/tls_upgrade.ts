/**
 * STARTTLS: TLS over an established Corral socket, for either side.
 *
 * The TLS engine is `node:tls` running over a `Duplex` that reads and
 * writes the Corral socket. Going through the socket's own `recv` keeps
 * every byte the protocol has not read yet (a ClientHello that arrived
 * right behind the plain-text "go ahead" is not lost), and it works over
 * any transport (tcp, unix, memory). It is also the one way that works on
 * all three runtimes: Deno's `Deno.startTls` is client-only and needs a
 * connection with no read pending, and Bun's `upgradeTLS` is client-only.
 * Deno and Bun both run this file with their own `node:tls`.
 *
 * @module
 */
import { Duplex } from "node:stream";
import * as tls from "node:tls";
import type { ByteChannel, ChannelSink } from "../../socket/byte_channel.ts";
import { StreamSocket } from "../../socket/stream_socket.ts";
import type { Address, Socket, TlsInfo } from "../../transport.ts";
import type { TlsUpgradeConfig } from "../adapter.ts";
import { NodeSocketChannel } from "./net_socket_channel.ts";
import { clientTls, serverTls } from "./tls_options.ts";
import { secureClientSide, secureServerSide } from "./tls_session.ts";

/** Runs a handshake over `socket` and resolves with the secure socket over it. */
export function upgradeTls(socket: Socket, config: TlsUpgradeConfig): Promise<Socket> {
  const carrier = new SocketDuplex(socket);
  const wrap = (secure: tls.TLSSocket, info: TlsInfo) =>
    new StreamSocket(new UpgradedChannel(secure, carrier, socket), { secure: true, tls: info });
  if (config.isServer) return secureServerSide(carrier, serverTls(config.server), wrap);
  const host = config.host ?? peerHost(socket);
  const secure = tls.connect({ ...clientTls(config.client, host), socket: carrier });
  return secureClientSide(secure, config.client.serverName ?? host, wrap);
}

function peerHost(socket: Socket): string | undefined {
  const peer = socket.peername();
  return "address" in peer && peer.address !== "" ? peer.address : undefined;
}

/** The Corral socket as a Node.js stream: the TLS records' carrier. */
class SocketDuplex extends Duplex {
  #socket: Socket;

  constructor(socket: Socket) {
    super({ allowHalfOpen: true });
    this.#socket = socket;
  }

  override _read(): void {
    // Node.js calls _read again only after a push, so one recv is pending at most.
    this.#socket.recv(0).then((chunk) => this.push(chunk), (error) => this.destroy(error));
  }

  override _write(chunk: Uint8Array, _encoding: string, done: (error?: Error | null) => void): void {
    this.#socket.send(chunk).then(() => done(), done);
  }

  override _final(done: (error?: Error | null) => void): void {
    this.#socket.shutdown("write").then(() => done(), done);
  }

  override _destroy(error: Error | null, done: (error?: Error | null) => void): void {
    // A clean end flushes what the TLS layer wrote last (its close_notify); a failure drops it.
    if (error) this.#socket.destroy();
    else void this.#socket.close();
    done(error);
  }
}

/**
 * The secure stream's channel, with the addresses and TCP options of the
 * socket underneath (a TLS socket over a stream has neither).
 */
class UpgradedChannel implements ByteChannel {
  #secure: NodeSocketChannel;
  #tls: tls.TLSSocket;
  #carrierStream: SocketDuplex;
  #carrier: Socket;

  constructor(secure: tls.TLSSocket, carrierStream: SocketDuplex, carrier: Socket) {
    this.#secure = new NodeSocketChannel(secure);
    this.#tls = secure;
    this.#carrierStream = carrierStream;
    this.#carrier = carrier;
  }

  start(sink: ChannelSink): void {
    this.#secure.start(sink);
  }

  pause(): void {
    this.#secure.pause();
  }

  resume(): void {
    this.#secure.resume();
  }

  write(chunk: Uint8Array): boolean {
    return this.#secure.write(chunk);
  }

  end(): void {
    this.#secure.end();
  }

  /**
   * Ends TLS (close_notify), then closes once the carrier stream has taken
   * every record: destroying the TLS socket when it alone has finished, as
   * for a native socket, would drop records still queued in the stream.
   */
  close(): void {
    const carrier = this.#carrierStream;
    if (carrier.writableFinished) this.#tls.destroy();
    else {
      carrier.once("finish", () => this.#tls.destroy());
      this.#tls.end();
    }
  }

  destroy(): void {
    this.#secure.destroy();
    this.#carrier.destroy();
  }

  setNoDelay(enable: boolean): void {
    void this.#carrier.setOptions({ noDelay: enable });
  }

  setKeepAlive(enable: boolean): void {
    void this.#carrier.setOptions({ keepAlive: enable });
  }

  get localAddress(): Address {
    return this.#carrier.sockname();
  }

  get remoteAddress(): Address {
    return this.#carrier.peername();
  }
}
