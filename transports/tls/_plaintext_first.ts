/**
 * TLS behind a PROXY header: the listen socket accepts plain TCP, the
 * listener reads the header off each connection, and the TLS handshake runs
 * over the same socket in `conn.handshake()`.
 *
 * The server settings belong to the listen socket that accepted a
 * connection, not to the `tls()` value: each accepted socket is remembered
 * with its listen socket's settings (a weak map, so nothing outlives the
 * socket), and listeners sharing one `tls()` value never see each other's.
 *
 * @module
 */
import type { TlsServerConfig } from "../../src/runtime/adapter.ts";
import type { Address, ListenSocket, Socket } from "../../src/transport.ts";

const serverOf = new WeakMap<Socket, TlsServerConfig>();

/** A plain TCP listen socket whose connections are to run TLS after their PROXY header. */
export class PlaintextFirstListenSocket implements ListenSocket {
  readonly #inner: ListenSocket;
  readonly #server: TlsServerConfig;

  constructor(inner: ListenSocket, server: TlsServerConfig) {
    this.#inner = inner;
    this.#server = server;
  }

  get address(): Address {
    return this.#inner.address;
  }

  async accept(): Promise<Socket> {
    const socket = await this.#inner.accept();
    serverOf.set(socket, this.#server);
    return socket;
  }

  close(): Promise<void> {
    return this.#inner.close();
  }
}

/** The TLS server settings for `socket`, when a plaintext-first listen socket accepted it. */
export function plaintextFirstServer(socket: Socket): TlsServerConfig | undefined {
  return serverOf.get(socket);
}
