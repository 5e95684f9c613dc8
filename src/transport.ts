/**
 * The transport contract (Ranch's `ranch_transport`): what a transport, a
 * connected socket and a listen socket can do. Interfaces only; `tcp`,
 * `unix`, `memory` (and later `tls`) implement them.
 *
 * @module
 */

import type { Address } from "./address.ts";
import type { Socket } from "./socket_contract.ts";

export type { Address, InetAddress, MemoryAddress, UnixAddress } from "./address.ts";
export type {
  RecvOptions,
  SendfileOptions,
  ShutdownHow,
  Socket,
  SocketOptions,
  TlsInfo,
} from "./socket_contract.ts";

/** An open listen socket: the acceptors pull connections from it. */
export interface ListenSocket {
  /**
   * Waits for the next connection.
   *
   * @returns The accepted socket.
   * @throws {ClosedError} Once the listen socket is closed.
   */
  accept(): Promise<Socket>;
  /**
   * Stops listening; pending `accept()` calls reject with `ClosedError`.
   * Resolves once the address is free to listen on again.
   */
  close(): Promise<void>;
  /** Where it listens. */
  readonly address: Address;
  /**
   * The listen socket's file descriptor while it is open, for handing it to
   * another process (`handover()`); absent where the runtime does not expose it.
   */
  readonly fd?: number | undefined;
}

/** What a listener tells a transport about how it will use the sockets it accepts. */
export interface ListenHints {
  /**
   * The listener reads plain bytes (a PROXY protocol header) off each
   * accepted socket before calling `handshake()`. An encrypting transport
   * then accepts plain TCP and runs its handshake over the socket instead.
   */
  plaintextFirst?: boolean;
}

/**
 * How to listen, accept, connect and hand over a socket. A transport is a
 * value made by a factory (`tcp({ port })`, `unix({ path })`, ...), so a
 * listener's transport is swapped by changing one expression.
 */
export interface Transport<Options extends object = object, ConnectOptions extends object = object> {
  /** The transport's name, such as `"tcp"`. */
  readonly name: string;
  /** Whether its sockets are encrypted. */
  readonly secure: boolean;
  /** The options this transport listens with. */
  readonly options: Readonly<Options>;
  /**
   * A transport of the same kind with `options` merged over these; validates them.
   *
   * @param options The options to change.
   * @returns A new transport; this one is unchanged.
   * @throws {TypeError} When an option is unknown or has the wrong type.
   * @throws {RangeError} When an option is out of range.
   */
  withOptions(options: Partial<Options>): Transport<Options, ConnectOptions>;
  /**
   * Opens a listen socket. `listen()` calls it; a transport's own tests may too.
   *
   * @param hints How the listener will use the accepted sockets.
   * @returns The open listen socket.
   * @throws {ListenError} When it cannot listen: `code` `"EADDRINUSE"`, `"EACCES"`, `"NO_CERT"`, ...
   * @throws {UnsupportedError} When the runtime cannot do what an option asks.
   */
  listen(hints?: ListenHints): Promise<ListenSocket>;
  /**
   * Opens a client connection, as `tcp().connect({ port })`.
   *
   * @param options Where to connect, and how (each transport has its own).
   * @returns The connected socket (for `tls`, after the handshake).
   * @throws {ClosedError} When nobody listens there: `code` `"ECONNREFUSED"` or the system's code.
   * @throws {HandshakeError} When a `tls` handshake fails.
   * @throws {TypeError} When an option is unknown, missing or has the wrong type.
   */
  connect(options: ConnectOptions): Promise<Socket>;
  /**
   * Finishes a server connection's setup (for TLS, the handshake) within
   * `timeout` ms and returns the socket to use; the identity for plain transports.
   *
   * @param socket A socket this transport's listen socket accepted.
   * @param timeout Ms the handshake may take; `Infinity` for no limit.
   * @returns The socket to use from then on.
   * @throws {HandshakeError} When the handshake fails.
   * @throws {TimeoutError} When `timeout` ms pass first (the socket is destroyed).
   */
  handshake(socket: Socket, timeout: number): Promise<Socket>;
}
