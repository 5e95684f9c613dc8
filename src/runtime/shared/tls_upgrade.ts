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
import * as tls from "node:tls";
import { StreamSocket } from "../../socket/stream_socket.ts";
import type { Socket, TlsInfo } from "../../transport.ts";
import type { TlsUpgradeConfig } from "../adapter.ts";
import { CarriedTlsChannel, Carrier, type CarrierEnds, CloseNotifyWatch } from "./tls_carrier.ts";
import { clientTls, serverTls } from "./tls_options.ts";
import { secureClientSide, secureServerSide } from "./tls_session.ts";

/**
 * Runs a handshake over `socket` and resolves with the secure socket over
 * it. Corral reads the carrier, so `socket.tls.closeNotify` is always told.
 */
export function upgradeTls(socket: Socket, config: TlsUpgradeConfig): Promise<Socket> {
  const carrier = new SocketDuplex(socket);
  const watch = new CloseNotifyWatch(carrier);
  const ends = socketEnds(socket);
  const wrap = (secure: tls.TLSSocket, info: TlsInfo) => {
    watch.attach(secure, info);
    return new StreamSocket(new CarriedTlsChannel(secure, carrier, ends), { secure: true, tls: info });
  };
  try {
    if (config.isServer) return secureServerSide(carrier, serverTls(config.server), wrap);
    const host = config.host ?? peerHost(socket);
    const secure = tls.connect({ ...clientTls(config.client, host), socket: carrier });
    return secureClientSide(secure, config.client.serverName ?? host, wrap);
  } catch (error) {
    // Unusable certificates (TlsConfigError): nothing was sent, the socket is the caller's still.
    return Promise.reject(error);
  }
}

/** The socket underneath, as the secure socket's addresses, TCP options and teardown. */
function socketEnds(socket: Socket): CarrierEnds {
  return {
    get localAddress() {
      return socket.sockname();
    },
    get remoteAddress() {
      return socket.peername();
    },
    setNoDelay: (enable) => void socket.setOptions({ noDelay: enable }),
    setKeepAlive: (enable) => void socket.setOptions({ keepAlive: enable }),
    destroy: () => socket.destroy(),
  };
}

function peerHost(socket: Socket): string | undefined {
  const peer = socket.peername();
  return "address" in peer && peer.address !== "" ? peer.address : undefined;
}

/** The Corral socket as a Node.js stream: the TLS records' carrier. */
class SocketDuplex extends Carrier {
  #socket: Socket;
  #receiving = false;
  #delivered = (chunk: Uint8Array | null) => {
    this.#receiving = false;
    // Node.js asks again (pull) while it wants more; held, the next recv waits for hold(false).
    this.deliver(chunk);
  };
  #failed = (error: unknown) => this.destroy(error instanceof Error ? error : new Error(String(error)));

  constructor(socket: Socket) {
    super();
    this.#socket = socket;
  }

  protected pull(): void {
    if (this.#receiving) return;
    this.#receiving = true;
    this.#socket.recv(0).then(this.#delivered, this.#failed);
  }

  protected stop(): void {
    // The recv in flight (one at most) still delivers; no other starts while held.
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
