/**
 * What a protocol receives for each accepted connection (Ranch's `Ref`
 * plus `ranch:handshake/1` and `ranch:remove_connection/1`).
 *
 * @module
 */
import type { Listener } from "./listener.ts";
import type { ProxyHeader } from "./proxy/proxy_header.ts";
import type { Socket, Transport } from "./transport.ts";

/**
 * One accepted connection, handed to the protocol function.
 *
 * @example A protocol that reads one greeting and answers
 * ```ts
 * import assert from "node:assert/strict";
 * import type { Connection } from "./connection.ts";
 * async function greet(conn: Connection): Promise<void> {
 *   const socket = await conn.handshake();
 *   const name = await socket.recv(0, { timeout: 5000 });
 *   if (name !== null) await socket.send(`hello ${new TextDecoder().decode(name)}`);
 * }
 * assert(typeof greet === "function");
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
   * Finishes the connection's setup (TLS handshake, ...) within the
   * listener's `handshakeTimeout` and returns the socket to use. Call it
   * once first; later calls return the same socket.
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
   * long-lived upgraded connections). Idempotent.
   */
  removeFromCount(): void;
}
