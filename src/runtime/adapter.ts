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

/**
 * How to accept on a descriptor that is already bound and listening (handed
 * down by systemd socket activation or by a predecessor's handover).
 */
export interface FdListenConfig {
  /** The descriptor, 3 or more. */
  fd: number;
  /** What the descriptor is: it decides the address reported and the options that apply. */
  kind: "tcp" | "unix";
  /** Kernel accept-queue length (listen(2) is called again with it). */
  backlog: number;
  /** TCP_NODELAY on every accepted socket (TCP only). */
  noDelay: boolean;
  /** SO_KEEPALIVE on every accepted socket (TCP only). */
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
  /** The SNI certificates known before any handshake (an `sni` map's), checked at `listen()`. */
  sniKeyPairs: TlsKeyPair[];
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
  /** Tell close_notify from a bare close (`socket.tls.closeNotify`), whatever TLS path that takes. */
  detectTruncation: boolean;
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
  /** Tell close_notify from a bare close (`socket.tls.closeNotify`), whatever TLS path that takes. */
  detectTruncation: boolean;
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

/** The process facts socket activation reads. */
export interface ProcessInfo {
  /** This process's id. */
  pid: number;
  /** The environment, live: deleting a key unsets the variable for this process and the processes it starts. */
  env: Record<string, string | undefined>;
}

/**
 * How to start the successor of a handover. Its descriptors 3, 4, ... are
 * `fds`, in order, and the descriptor after them is the write end of a pipe
 * whose first line `READY=1` reports the successor ready. It starts with
 * `LISTEN_PID` set to its own pid (as systemd does), the rest of `env` as given.
 */
export interface SuccessorConfig {
  /** The program to run; `undefined` runs this process's own command line again. */
  command: string | undefined;
  /** The program's arguments (ignored without `command`). */
  args: string[];
  /** The successor's whole environment (`LISTEN_PID` aside). */
  env: Record<string, string>;
  /** The listen descriptors to pass on, each to stay open in this process too. */
  fds: number[];
  /**
   * Closes this process's listen sockets at once. Called synchronously right
   * after the spawn on runtimes whose spawn clears `O_NONBLOCK` on the passed
   * sockets (Deno), when `fds` is not empty: accepting on them again could
   * block this process.
   */
  stopAccepting: () => void;
}

/** A started successor. */
export interface Successor {
  /** Its process id. */
  readonly pid: number;
  /**
   * Resolves when it reports ready; rejects with `HandoverError` when it
   * could not start (`"ESPAWN"`) or exited first (`"ESUCCESSOR_EXIT"`).
   */
  readonly ready: Promise<void>;
  /** Ends it (SIGTERM); resolves once it has exited. */
  kill(): Promise<void>;
  /** Lets this process exit without waiting for it (after it reported ready). */
  release(): void;
}

/**
 * A byte range of a file, read one chunk at a time (what
 * `socket.sendfile()` sends). Each adapter reads with the fastest way its
 * runtime offers, in the chunk size measured best for it.
 */
export interface FileChunks {
  /**
   * Reads the next chunk: fresh bytes the caller owns (they are handed to
   * `send()`, which does not copy), never more than is left of the range;
   * `null` at the range's end or the file's. A failure carries the system
   * `code` (`"EISDIR"`, `"EIO"` ...). Called again only after the previous
   * call settled.
   */
  next(): Promise<Uint8Array | null>;
  /** Closes the file. Called once, after the last `next()` settled. */
  close(): Promise<void>;
}

/** One runtime's sockets behind one interface. */
export interface RuntimeAdapter {
  /** The runtime and its version, such as `"node 20.20.2"`; used in `UnsupportedError`. */
  readonly name: string;
  /** Opens a TCP listen socket; throws `UnsupportedError` for options the runtime lacks. */
  listenTcp(config: TcpListenConfig): Promise<ListenSocket>;
  /** Connects over TCP. */
  connectTcp(config: TcpConnectConfig): Promise<Socket>;
  /**
   * Accepts on an inherited listening descriptor. Its `close()` closes the
   * descriptor and removes no socket file (the file is not this process's).
   */
  listenFd(config: FdListenConfig): Promise<ListenSocket>;
  /** Opens a Unix domain listen socket at `config.path` (the file must not exist). */
  listenUnix(config: UnixListenConfig): Promise<ListenSocket>;
  /** Connects to a Unix domain socket file. */
  connectUnix(path: string): Promise<Socket>;
  /** Removes `path` if it is a socket file; a missing file is fine; any other file is left alone. */
  removeSocketFile(path: string): Promise<void>;
  /** Reads a UTF-8 text file (certificates and keys given as paths, `/proc/sys` settings). */
  readTextFile(path: string): Promise<string>;
  /**
   * Opens `file` (a path or a `file:` URL) to read `length` bytes from
   * `offset` (`undefined`: up to the file's end). Rejects with the system
   * `code` when the file cannot be opened (`"ENOENT"`, `"EACCES"` ...).
   */
  openFileRange(file: string | URL, offset: number, length: number | undefined): Promise<FileChunks>;
  /** This process's pid and live environment. */
  processInfo(): ProcessInfo;
  /** Starts a handover's successor process. */
  spawnSuccessor(config: SuccessorConfig): Promise<Successor>;
  /** Writes `text` to the inherited descriptor `fd` and closes it (a successor's ready report). */
  writeAndClose(fd: number, text: string): Promise<void>;
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
