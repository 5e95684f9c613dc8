/**
 * What a protocol receives for each accepted connection (Ranch's `Ref`
 * plus `ranch:handshake/1` and `ranch:remove_connection/1`).
 *
 * @module
 */
import type { Listener } from "./listener.ts";
import type { ProxyHeader } from "./proxy/proxy_header.ts";
import type { Address, Socket, Transport } from "./transport.ts";

/**
 * One accepted connection, handed to the protocol function. Its life:
 *
 * 1. **Accept.** An acceptor takes a slot under `maxConnections` (at the limit it waits, and new
 *    clients queue at the listen socket), then accepts.
 * 2. **Start.** The supervisor calls `protocol(conn, protocolOptions)` at once, with the listener's
 *    `protocolOptions` as they are then (not copied).
 * 3. **Handshake.** The protocol calls {@linkcode Connection.handshake} first: it reads the PROXY header
 *    (with the `proxyHeader` option), then runs the transport's handshake (TLS; nothing for `tcp`, `unix`
 *    and `memory`), bounded by `handshakeTimeout` (the header by `proxyHeader.timeout`, by default the
 *    same), and resolves with the socket to use. It rejects with a
 *    `ProxyHeaderError` (no, bad, late or cut-off header) or a `HandshakeError` (TLS failed or timed out,
 *    the `TimeoutError` as its `cause`), logged once as a warning; the connection counts as `failed`
 *    even if the protocol catches it.
 * 4. **Run.** The protocol reads and writes the socket, and watches `conn.signal`, which is aborted
 *    (with a `ClosedError`) when the listener stops.
 * 5. **End.** The protocol returns, throws or rejects. A throw or rejection is logged with the
 *    listener's ref, the connection's id and its peer (a `ClosedError` during a stop only at debug
 *    level) and counted as `failed`. Nothing else is affected: other connections and the acceptors
 *    carry on.
 * 6. **Release.** At once the supervisor frees the slot (unless `conn.removeFromCount()` freed it
 *    earlier; that wakes an acceptor waiting for one) and closes the socket: bytes already sent still
 *    drain, but a peer that has not taken them within 5 s or so is cut off. `conn.ended` resolves.
 *
 * `listener.stop()` closes the listen sockets, aborts every `conn.signal`, and gives the protocols
 * `shutdownTimeout` ms (none with `"brutal"`) to end as above. Then it closes the rest at once: their
 * sockets are destroyed and their `ended` resolves, even if the protocol is still running, and sockets
 * still draining are dropped.
 *
 * @example A protocol that answers one greeting, and the counters after it
 * ```ts
 * import assert from "node:assert/strict";
 * import { listen, memory, type Protocol } from "../mod.ts";
 * const greet: Protocol = async (conn) => {
 *   const socket = await conn.handshake();
 *   const name = await socket.recv(0, { timeout: 5000 });
 *   if (name !== null && !conn.signal.aborted) await socket.send(`hello ${new TextDecoder().decode(name)}`);
 * };
 * await using listener = await listen({ transport: memory({ name: "doc-greet" }), protocol: greet });
 * const client = await memory().connect({ name: "doc-greet" });
 * await client.send("ada");
 * assert(new TextDecoder().decode((await client.recv(9))!) === "hello ada");
 * await listener.waitForConnections("==", 0);
 * assert(listener.info().terminated === 1 && listener.info().failed === 0);
 * await client.close();
 * ```
 */
export interface Connection<P = unknown> {
  /** A number unique among this listener's connections. */
  readonly id: number;
  /** The listener's `ref`. */
  readonly ref: string;
  /** The listener that accepted the connection. */
  readonly listener: Listener<P>;
  /** The transport that accepted it. */
  readonly transport: Transport;
  /**
   * Where the connection came from, read once when it was accepted, so it
   * is still known after the peer reset the connection (the failure log names
   * it too). The raw peer: behind a load balancer that is the balancer (the
   * client is in {@linkcode Connection.proxyHeader}). `undefined` only when
   * the runtime could not tell.
   *
   * @example The client's own address and port
   * ```ts
   * import assert from "node:assert/strict";
   * import { listen, tcp } from "../mod.ts";
   * await using listener = await listen({
   *   transport: tcp({ host: "127.0.0.1" }),
   *   protocol: async (conn) => {
   *     const socket = await conn.handshake();
   *     const peer = conn.peer as { address: string; port: number };
   *     await socket.send(`${peer.address}:${peer.port}`);
   *   },
   * });
   * const client = await tcp().connect({ port: listener.port! });
   * const local = client.sockname() as { address: string; port: number };
   * const expected = `${local.address}:${local.port}`;
   * assert(new TextDecoder().decode((await client.recv(expected.length, { timeout: 5000 }))!) === expected);
   * await client.close();
   * ```
   */
  readonly peer: Address | undefined;
  /** Aborted when the listener stops: finish up, the socket closes after `shutdownTimeout`. */
  readonly signal: AbortSignal;
  /**
   * Resolves once the connection is over, however it ended: the protocol
   * returned, threw or rejected, or `stop()` destroyed the socket of a
   * protocol that outlived `shutdownTimeout`. By then the socket's release
   * has begun (it may still be flushing). Never rejects. For bookkeeping that
   * must not outlive the connection, such as `Registry` entries.
   *
   * @example Waiting for a connection to end
   * ```ts
   * import assert from "node:assert/strict";
   * import { type Connection, listen, memory } from "../mod.ts";
   * let accepted!: (conn: Connection) => void;
   * const first = new Promise<Connection>((resolve) => (accepted = resolve));
   * const listener = await listen({
   *   transport: memory({ name: "doc-ended" }),
   *   protocol: async (conn) => {
   *     accepted(conn);
   *     await (await conn.handshake()).recv();
   *   },
   * });
   * const client = await memory().connect({ name: "doc-ended" });
   * const conn = await first;
   * await client.close(); // the protocol's recv() sees end of stream and returns
   * await conn.ended;
   * assert(listener.connections("all") === 0);
   * await listener.stop();
   * ```
   */
  readonly ended: Promise<void>;
  /**
   * Finishes the connection's setup (a PROXY header, a TLS handshake) within the
   * listener's `handshakeTimeout` and returns the socket to use. Call it
   * once first; later calls return the same socket.
   *
   * @returns The socket to read and write: the accepted one, or the TLS socket made over it.
   * @throws {HandshakeError} When the TLS handshake fails or times out (then the `TimeoutError` is its `cause`).
   * @throws {ProxyHeaderError} When the PROXY header is missing, malformed, cut off or late (`"EPROXY_TIMEOUT"`).
   *
   * @example A client that sends no PROXY header
   * ```ts
   * import assert from "node:assert/strict";
   * import { listen, memory, ProxyHeaderError } from "../mod.ts";
   * let failed!: (error: unknown) => void;
   * const failure = new Promise((resolve) => (failed = resolve));
   * await using _listener = await listen({
   *   transport: memory({ name: "doc-no-header" }),
   *   proxyHeader: true,
   *   logger: { debug() {}, info() {}, warn() {}, error() {} },
   *   protocol: async (conn) => void (await conn.handshake().catch(failed)),
   * });
   * const client = await memory().connect({ name: "doc-no-header" });
   * await client.send("GET / HTTP/1.1\r\n\r\n");
   * const error = await failure;
   * assert(error instanceof ProxyHeaderError && error.code === "EPROXY_SIGNATURE");
   * client.destroy();
   * ```
   */
  handshake(): Promise<Socket>;
  /**
   * The PROXY protocol header `handshake()` read, on a listener started with
   * `proxyHeader`: who the client really is behind the load balancer
   * (`sourceAddress`, `sourcePort`, ...). `undefined` before the handshake,
   * without the option, and for a connection that sent none when the header
   * is not `required`. A `command: "local"` header (the proxy's own health
   * check) carries no addresses: use `socket.peername()`.
   *
   * @example Reading the client's address behind a proxy
   * ```ts
   * import assert from "node:assert/strict";
   * import { listen, tcp } from "../mod.ts";
   * import { buildProxyHeader } from "./proxy/proxy_header.ts";
   * const listener = await listen({
   *   transport: tcp({ host: "127.0.0.1" }),
   *   proxyHeader: true,
   *   protocol: async (conn) => {
   *     const socket = await conn.handshake();
   *     await socket.send(`${conn.proxyHeader?.sourceAddress}:${conn.proxyHeader?.sourcePort}`);
   *   },
   * });
   * const client = await tcp().connect({ port: listener.port! });
   * await client.send(buildProxyHeader({
   *   family: "inet",
   *   protocol: "stream",
   *   sourceAddress: "203.0.113.7",
   *   sourcePort: 40000,
   *   destinationAddress: "192.0.2.1",
   *   destinationPort: 443,
   * }));
   * assert(new TextDecoder().decode((await client.recv(17, { timeout: 5000 }))!) === "203.0.113.7:40000");
   * await client.close();
   * await listener.stop();
   * ```
   */
  readonly proxyHeader: ProxyHeader | undefined;
  /**
   * Stops counting this connection against `maxConnections` (for
   * long-lived upgraded connections): its slot frees now, not when it ends.
   * It still counts in `listener.connections("all")`, and a stop still ends
   * it. Idempotent.
   *
   * @example A long-lived connection that leaves its slot
   * ```ts
   * import assert from "node:assert/strict";
   * import { listen, memory } from "../mod.ts";
   * let removed!: () => void;
   * const done = new Promise<void>((resolve) => (removed = resolve));
   * await using listener = await listen({
   *   transport: memory({ name: "doc-uncount" }),
   *   protocol: async (conn) => {
   *     conn.removeFromCount();
   *     removed();
   *     await (await conn.handshake()).recv(); // until the client closes
   *   },
   * });
   * const client = await memory().connect({ name: "doc-uncount" });
   * await done;
   * assert(listener.connections() === 0 && listener.connections("all") === 1);
   * await client.close();
   * ```
   */
  removeFromCount(): void;
  /**
   * Bytes the connection's socket received so far: what the protocol can
   * read (TLS: decrypted; a PROXY header not counted), counted as they
   * arrive. Readable during and after the connection.
   */
  readonly bytesReceived: number;
  /** Bytes the protocol handed to `send()` (and `sendfile()`) so far. */
  readonly bytesSent: number;
  /** Ms the connection may receive nothing before it is timed out (`Infinity`: never); see `setIdleTimeout`. */
  readonly idleTimeout: number;
  /**
   * Sets this connection's idle timeout (the listener's `idleTimeout`
   * option sets every connection's): once its socket receives nothing for
   * `ms`, `conn.signal` is aborted with a `TimeoutError`, and the socket is
   * destroyed after the listener's `shutdownTimeout` unless the protocol
   * ended first. Sends do not count as activity. The clock starts again
   * from this call; `Infinity` turns it off. Does nothing once the timeout
   * has expired or the connection is over.
   *
   * @param ms An integer from 1 to 2^31 - 1, or `Infinity`.
   * @throws {TypeError} When `ms` is not a number.
   * @throws {RangeError} When `ms` is not an integer in range (nor `Infinity`).
   *
   * @example A session that must say something within 50 ms
   * ```ts
   * import assert from "node:assert/strict";
   * import { listen, memory, TimeoutError } from "../mod.ts";
   * let timedOut!: (reason: unknown) => void;
   * const reason = new Promise((resolve) => (timedOut = resolve));
   * await using _listener = await listen({
   *   transport: memory({ name: "doc-idle" }),
   *   protocol: async (conn) => {
   *     const socket = await conn.handshake();
   *     conn.setIdleTimeout(50);
   *     conn.signal.addEventListener("abort", () => timedOut(conn.signal.reason));
   *     await socket.recv().catch(() => null); // the socket goes once the timeout has passed
   *   },
   * });
   * const client = await memory().connect({ name: "doc-idle" }); // and it says nothing
   * assert((await reason) instanceof TimeoutError);
   * await client.close();
   * ```
   */
  setIdleTimeout(ms: number): void;
}
