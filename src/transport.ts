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

/** Which part of the file {@linkcode Socket.sendfile} sends. */
export interface SendfileOptions {
  /** Where in the file to start, in bytes. Default 0. */
  offset?: number;
  /**
   * How many bytes to send; default: up to the file's end. `0` sends
   * nothing (unlike Ranch's `sendfile`, where 0 means "to the end").
   */
  length?: number;
}

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
  /**
   * Set when the stream ends (before `recv()` returns `null`): `true` when
   * the peer sent TLS close_notify, `false` when its connection just closed
   * (a truncation, which still reads as a clean end of stream). Always set
   * with `detectTruncation: true` on `tls()` or `tls().connect()`, and for
   * STARTTLS upgrades; `undefined` before the end, or where the runtime's
   * TLS does not tell the two apart.
   */
  closeNotify?: boolean;
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
   *
   * @param length 0 (the default) for whatever is available, or the exact number of bytes to wait for.
   * @param options `timeout`: ms to wait at most; default no limit.
   * @returns The bytes, or `null` at end of stream.
   * @throws {TimeoutError} When `options.timeout` ms pass first.
   * @throws {ClosedError} When the stream ends inside the requested length, or the socket is reset or closed.
   * @throws {TypeError} When another `recv()` on the socket is still pending.
   * @throws {RangeError} When `length` or `options.timeout` is negative or not a number.
   *
   * @example Reading a length-prefixed message
   * ```ts
   * import assert from "node:assert/strict";
   * import { listen, memory } from "../mod.ts";
   * await using _listener = await listen({
   *   transport: memory({ name: "doc-recv" }),
   *   protocol: async (conn) => void (await (await conn.handshake()).send(new Uint8Array([3, 97, 98, 99]))),
   * });
   * const client = await memory().connect({ name: "doc-recv" });
   * const [size] = (await client.recv(1))!;
   * assert(new TextDecoder().decode((await client.recv(size!))!) === "abc");
   * assert((await client.recv()) === null); // the server's protocol returned: its socket closed
   * await client.close();
   * ```
   */
  recv(length?: number, options?: RecvOptions): Promise<Uint8Array | null>;
  /**
   * Sends bytes (a string is sent as UTF-8); resolves once they are queued
   * under the high-water mark. The bytes are not copied: do not change a
   * buffer after passing it to `send`.
   *
   * @param data Bytes, or a string to send as UTF-8.
   * @throws {ClosedError} When this side can no longer send (after `shutdown("write")` or `close()`), or the
   * connection failed or was reset (`code` `"ECONNRESET"`, `"EPIPE"`, ...).
   */
  send(data: Uint8Array | string): Promise<void>;
  /**
   * Sends a file, or the part of it `options` names (Ranch's `sendfile`),
   * with the same backpressure as {@linkcode Socket.send}: the file is read
   * a chunk at a time (at most one chunk ahead) while the socket takes the
   * previous one, so a peer that reads slowly holds the file where it is,
   * not in memory. Resolves once the last byte is queued under the
   * high-water mark. Every transport takes it (TLS encrypts the chunks as
   * `send()` would); each runtime reads the file its fastest way.
   *
   * Send nothing else on the socket until it resolves: the chunks would
   * interleave with the other bytes. A file that ends before `offset +
   * length` sends what there is: the result says how much.
   *
   * @param file The file's path, or a `file:` URL. (An open file handle is not taken: each runtime has its own kind.)
   * @param options `offset` (default 0) and `length` (default: to the file's end) in bytes.
   * @returns The number of bytes sent.
   * @throws {TypeError} When `file` is neither a path nor a `file:` URL, or an option is unknown or not a number.
   * @throws {RangeError} When `offset` or `length` is negative, fractional or past 2^53 - 1.
   * @throws {ClosedError} When this side can no longer send (before or during the transfer), as for `send()`.
   * @throws {CorralError} When the file cannot be opened or read: `code` is the system's, such as
   * `"ENOENT"`, `"EACCES"` or `"EISDIR"`, with the runtime's error as `cause`.
   *
   * @example Serving part of a file
   * ```ts
   * import assert from "node:assert/strict";
   * import { mkdtemp, rm, writeFile } from "node:fs/promises";
   * import { tmpdir } from "node:os";
   * import { join } from "node:path";
   * import { listen, memory } from "../mod.ts";
   * const dir = await mkdtemp(join(tmpdir(), "corral-doc-"));
   * const path = join(dir, "greeting.txt");
   * await writeFile(path, "hello, sendfile");
   * await using _listener = await listen({
   *   transport: memory({ name: "doc-sendfile" }),
   *   protocol: async (conn) => void (await (await conn.handshake()).sendfile(path, { offset: 7, length: 8 })),
   * });
   * const client = await memory().connect({ name: "doc-sendfile" });
   * assert.equal(new TextDecoder().decode((await client.recv(8))!), "sendfile");
   * assert.equal(await client.recv(), null); // the protocol returned: its socket closed
   * await client.close();
   * await rm(dir, { recursive: true });
   * ```
   */
  sendfile(file: string | URL, options?: SendfileOptions): Promise<number>;
  /**
   * Closes one or both directions; `"write"` sends end-of-stream and keeps reading.
   *
   * @param how `"read"`, `"write"` or `"read_write"`.
   * @throws {TypeError} When `how` is none of them.
   */
  shutdown(how: ShutdownHow): Promise<void>;
  /** Flushes what was sent, then closes both directions. */
  close(): Promise<void>;
  /** Closes both directions at once, dropping unsent bytes (the peer may see a reset). */
  destroy(): void;
  /** Resolves once the socket is closed, however that happened. */
  readonly closed: Promise<void>;
  /**
   * Changes socket options (TCP options are ignored on Unix and memory sockets).
   *
   * @param options `noDelay` and `keepAlive`; those left out stay as they are.
   */
  setOptions(options: SocketOptions): Promise<void>;
  /**
   * The remote endpoint.
   *
   * @returns An `InetAddress`, a `UnixAddress` or a `MemoryAddress`, by transport.
   */
  peername(): Address;
  /**
   * The local endpoint.
   *
   * @returns An `InetAddress`, a `UnixAddress` or a `MemoryAddress`, by transport.
   */
  sockname(): Address;
  /** Whether the bytes travel encrypted. */
  readonly secure: boolean;
  /** What TLS negotiated; `undefined` on a plain socket. */
  readonly tls: TlsInfo | undefined;
  /** A Web Streams view of the incoming bytes (it consumes them). */
  readonly readable: ReadableStream<Uint8Array>;
  /** A Web Streams view of the outgoing direction; closing it half-closes. */
  readonly writable: WritableStream<Uint8Array>;
  /**
   * Bytes received so far, counted as they arrive (before anyone reads
   * them). On a TLS socket, the decrypted bytes.
   */
  readonly bytesReceived: number;
  /** Bytes handed to `send()` so far (queued, not necessarily delivered yet). */
  readonly bytesSent: number;
  /** Chunks received so far: how many reads the runtime delivered. */
  readonly recvCount: number;
  /** `send()` calls that carried bytes so far. */
  readonly sendCount: number;
}

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
