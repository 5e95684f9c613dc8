/**
 * What each runtime adapter provides: the only code that touches a
 * runtime's socket API (`node:net`, `Deno.listen`, `Bun.listen` ...)
 * implements this interface, and the transports call nothing else.
 *
 * @module
 */
import type { ListenSocket, Socket } from "../transport.ts";

/** How to open a TCP listen socket, after the transport validated it. */
export interface TcpListenConfig {
  /** Address to bind; `undefined` binds every address. */
  host: string | undefined;
  /** Port to bind; 0 picks a free one. */
  port: number;
  /** Kernel accept-queue length. */
  backlog: number;
  /** Let several listen sockets share the address (SO_REUSEPORT). */
  reusePort: boolean;
  /** TCP_NODELAY on every accepted socket. */
  noDelay: boolean;
  /** SO_KEEPALIVE on every accepted socket. */
  keepAlive: boolean;
}

/** How to open a TCP client connection. */
export interface TcpConnectConfig {
  /** Host name or address to connect to. */
  host: string;
  /** Port to connect to. */
  port: number;
  /** TCP_NODELAY on the socket. */
  noDelay: boolean;
  /** SO_KEEPALIVE on the socket. */
  keepAlive: boolean;
}

/** How to open a Unix domain listen socket. */
export interface UnixListenConfig {
  /** The socket file to create. */
  path: string;
  /** Kernel accept-queue length. */
  backlog: number;
}

/** A certificate chain and its private key, both PEM text. */
export interface TlsKeyPair {
  /** The certificate chain (leaf first). */
  cert: string;
  /** The private key. Never put it in a message or a log line. */
  key: string;
}

/** Lowest TLS version a side accepts. */
export type TlsMinVersion = "TLSv1.2" | "TLSv1.3";

/** The server side of TLS, every certificate already read as PEM. */
export interface TlsServerConfig {
  /** The default certificate; `undefined` when only SNI certificates exist. */
  keyPair: TlsKeyPair | undefined;
  /**
   * Picks the certificate for a client's SNI server name; `undefined` when
   * the listener has no SNI certificates. Resolving `undefined` means "no
   * certificate for this name": the default one is used, or the handshake fails.
   */
  selectKeyPair: ((serverName: string) => Promise<TlsKeyPair | undefined>) | undefined;
  /** CAs that verify client certificates (PEM each); `undefined` for the runtime's default. */
  ca: string[] | undefined;
  /** ALPN protocols the server accepts, in its order of preference. */
  alpnProtocols: string[] | undefined;
  /** Ask clients for a certificate. */
  requestCert: boolean;
  /** With `requestCert`: fail the handshake unless the client certificate verifies. */
  rejectUnauthorized: boolean;
  /** Lowest protocol version accepted. */
  minVersion: TlsMinVersion;
}

/** How to open a TLS listen socket: TCP plus the server's TLS settings. */
export interface TlsListenConfig extends TcpListenConfig {
  /** The TLS settings. */
  tls: TlsServerConfig;
}

/** The client side of TLS, every certificate already read as PEM. */
export interface TlsClientConfig {
  /** SNI name, also the name the server certificate must match; `undefined`: the host. */
  serverName: string | undefined;
  /** CAs that verify the server certificate; `undefined` for the runtime's default roots. */
  ca: string[] | undefined;
  /** The client certificate, for servers that ask for one. */
  keyPair: TlsKeyPair | undefined;
  /** ALPN protocols offered, in order of preference. */
  alpnProtocols: string[] | undefined;
  /** Fail unless the server certificate verifies (chain and name). */
  rejectUnauthorized: boolean;
  /** Lowest protocol version accepted. */
  minVersion: TlsMinVersion;
}

/** How to open a TLS client connection. */
export interface TlsConnectConfig extends TcpConnectConfig {
  /** The TLS settings. */
  tls: TlsClientConfig;
}

/** Which side of a STARTTLS upgrade this end plays, with its settings. */
export type TlsUpgradeConfig =
  | { isServer: true; server: TlsServerConfig }
  | { isServer: false; host: string | undefined; client: TlsClientConfig };

/**
 * What a TLS listen socket's `accept()` hands out: a connection whose
 * handshake has not been waited for. It is a `Socket` so the supervisor can
 * log its peer and close it, but its bytes are TLS records: only
 * `handshakeTls()` turns it into the socket a protocol reads.
 */
export interface PendingTlsSocket extends Socket {
  /**
   * Completes the server handshake (or waits for the one the runtime runs)
   * and resolves with the secure socket. On failure the connection is
   * closed and it rejects. Called at most once.
   */
  handshakeTls(): Promise<Socket>;
}

/** One runtime's sockets behind one interface. */
export interface RuntimeAdapter {
  /** The runtime and its version, such as `"node 20.20.2"`; used in `UnsupportedError`. */
  readonly name: string;
  /** Opens a TCP listen socket; throws `UnsupportedError` for options the runtime lacks. */
  listenTcp(config: TcpListenConfig): Promise<ListenSocket>;
  /** Connects over TCP. */
  connectTcp(config: TcpConnectConfig): Promise<Socket>;
  /** Opens a Unix domain listen socket at `config.path` (the file must not exist). */
  listenUnix(config: UnixListenConfig): Promise<ListenSocket>;
  /** Connects to a Unix domain socket file. */
  connectUnix(path: string): Promise<Socket>;
  /** Removes `path` if it is a socket file; a missing file is fine; any other file is left alone. */
  removeSocketFile(path: string): Promise<void>;
  /** Reads a UTF-8 text file (certificates and keys given as paths). */
  readTextFile(path: string): Promise<string>;
  /**
   * Opens a TLS listen socket whose `accept()` resolves with
   * {@linkcode PendingTlsSocket}s; throws `UnsupportedError` for TLS options
   * the runtime lacks.
   */
  listenTls(config: TlsListenConfig): Promise<ListenSocket>;
  /** Connects and completes the client handshake. */
  connectTls(config: TlsConnectConfig): Promise<Socket>;
  /** STARTTLS: runs a handshake over an established socket and resolves with the secure socket. */
  upgradeTls(socket: Socket, config: TlsUpgradeConfig): Promise<Socket>;
}
