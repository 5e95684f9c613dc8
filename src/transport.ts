/**
 * The transport contract (Ranch's `ranch_transport`): what a transport, a
 * connected socket and a listen socket can do. Interfaces only; `tcp`,
 * `unix`, `memory` (and later `tls`) implement them.
 *
 * @module
 */

/** An IP endpoint, shaped like Node.js's `AddressInfo`. */
export interface InetAddress {
  /** The numeric address, such as `"127.0.0.1"` or `"::1"`. */
  address: string;
  /** The port number. */
  port: number;
  /** `"IPv4"` or `"IPv6"`. */
  family: "IPv4" | "IPv6";
}

/** A Unix domain socket endpoint. */
export interface UnixAddress {
  /** The socket file's path (empty for an unnamed client end). */
  path: string;
}

/** An endpoint of the in-process memory transport. */
export interface MemoryAddress {
  /** The name the memory listener registered. */
  name: string;
}

/** Where a socket or listener is: an IP endpoint, a socket file or a memory name. */
export type Address = InetAddress | UnixAddress | MemoryAddress;

/** Options that can change on a connected socket. */
export interface SocketOptions {
  /** Disable Nagle's algorithm (send small writes at once). */
  noDelay?: boolean;
  /** Enable TCP keep-alive probes. */
  keepAlive?: boolean;
}

/** Options of {@linkcode Socket.recv}. */
export interface RecvOptions {
  /** Milliseconds to wait before rejecting with `TimeoutError`. Default: no limit. */
  timeout?: number;
}

/** Which direction(s) {@linkcode Socket.shutdown} closes. */
export type ShutdownHow = "read" | "write" | "read_write";

/** What a TLS socket negotiated (filled in by the `tls` transport). */
export interface TlsInfo {
  /** Protocol version, such as `"TLSv1.3"`. */
  protocol?: string;
  /** Cipher suite name. */
  cipher?: string;
  /** The ALPN protocol both sides agreed on, if any. */
  alpnProtocol?: string;
  /** The SNI server name the client asked for, if any. */
  serverName?: string;
  /** The peer's certificate in PEM, when it sent one. */
  peerCertificate?: string;
}

/**
 * One connected byte stream, the same on every runtime and transport.
 *
 * Reads are pull-based (Erlang's `active: once`): bytes are taken from the
 * network only while the reader keeps up, so backpressure is automatic.
 * Writes resolve once the data is queued under the high-water mark, so a
 * peer that never reads makes the writer wait instead of growing memory.
 */
export interface Socket extends AsyncIterable<Uint8Array> {
  /**
   * Receives bytes. With `length` 0 (the default) resolves with whatever is
   * available (at least one byte); with `length` n resolves with exactly n
   * bytes. Resolves `null` at end of stream. Rejects with `TimeoutError`
   * after `options.timeout` ms, with `ClosedError` when the stream ends
   * inside a requested length or the socket is reset.
   */
  recv(length?: number, options?: RecvOptions): Promise<Uint8Array | null>;
  /**
   * Sends bytes (a string is sent as UTF-8); resolves once they are queued
   * under the high-water mark. The bytes are not copied: do not change a
   * buffer after passing it to `send`.
   */
  send(data: Uint8Array | string): Promise<void>;
  /** Closes one or both directions; `"write"` sends end-of-stream and keeps reading. */
  shutdown(how: ShutdownHow): Promise<void>;
  /** Flushes what was sent, then closes both directions. */
  close(): Promise<void>;
  /** Closes both directions at once, dropping unsent bytes (the peer may see a reset). */
  destroy(): void;
  /** Resolves once the socket is closed, however that happened. */
  readonly closed: Promise<void>;
  /** Changes socket options (TCP options are ignored on Unix and memory sockets). */
  setOptions(options: SocketOptions): Promise<void>;
  /** The remote endpoint. */
  peername(): Address;
  /** The local endpoint. */
  sockname(): Address;
  /** Whether the bytes travel encrypted. */
  readonly secure: boolean;
  /** What TLS negotiated; `undefined` on a plain socket. */
  readonly tls: TlsInfo | undefined;
  /** A Web Streams view of the incoming bytes (it consumes them). */
  readonly readable: ReadableStream<Uint8Array>;
  /** A Web Streams view of the outgoing direction; closing it half-closes. */
  readonly writable: WritableStream<Uint8Array>;
}

/** An open listen socket: the acceptors pull connections from it. */
export interface ListenSocket {
  /** Resolves with the next connection; rejects with `ClosedError` once closed. */
  accept(): Promise<Socket>;
  /**
   * Stops listening; pending `accept()` calls reject with `ClosedError`.
   * Resolves once the address is free to listen on again.
   */
  close(): Promise<void>;
  /** Where it listens. */
  readonly address: Address;
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
  /** A transport of the same kind with `options` merged over these; validates them. */
  withOptions(options: Partial<Options>): Transport<Options, ConnectOptions>;
  /** Opens a listen socket. */
  listen(hints?: ListenHints): Promise<ListenSocket>;
  /** Opens a client connection. */
  connect(options: ConnectOptions): Promise<Socket>;
  /**
   * Finishes a server connection's setup (for TLS, the handshake) within
   * `timeout` ms and returns the socket to use; the identity for plain transports.
   */
  handshake(socket: Socket, timeout: number): Promise<Socket>;
}
