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
}
