/**
 * The `Socket` contract: one connected byte stream, the same on every
 * runtime and transport, with the options its methods take (declared in
 * `socket_options.ts`, re-exported here). `transport.ts` re-exports all of it.
 *
 * @module
 */
import type { Address } from "./address.ts";
import type { RecvOptions, SendfileOptions, ShutdownHow, SocketOptions, TlsInfo } from "./socket_options.ts";

export type { RecvOptions, SendfileOptions, ShutdownHow, SocketOptions, TlsInfo } from "./socket_options.ts";

/**
 * One connected byte stream, the same on every runtime and transport.
 *
 * Reads are pull-based (Erlang's `active: once`): bytes are taken from the
 * network only while the reader keeps up, so backpressure is automatic.
 * Writes resolve once the data is queued under the high-water mark, so a
 * peer that never reads makes the writer wait instead of growing memory.
 *
 * Who owns which bytes, the same on Node.js, Deno, Bun and every transport:
 *
 * - **A received chunk is the caller's** (from `recv()`, `readAvailable()`,
 *   the async iterator, `readable` or a `handler()`'s `data`): no later read
 *   writes into it, so it may be kept and changed. It may be a view sharing
 *   its `ArrayBuffer` with bytes the socket still buffers (after `recv(n)`),
 *   so transfer only a copy of it (`chunk.slice()`).
 * - **An unshifted chunk is the socket's again**: after `unshift(bytes)`,
 *   leave `bytes` alone; a later read may return it, or a view of it.
 * - **A buffer passed to `send()` is not copied**: the runtime keeps a
 *   reference until the kernel takes the bytes, which can be after the
 *   returned promise resolves (Node.js's `socket.write`, Deno's pending
 *   `conn.write` and Bun's queue of bytes the kernel did not take at once
 *   all hold the caller's buffer). Never change it afterwards.
 * - **Buffers passed to `sendv()` are copied** into the one buffer the batch
 *   is written from, before `sendv()` returns: they may be reused at once.
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
   * Receives every byte already buffered, as one chunk: what a framing
   * parser wants, since it parses all the complete messages of a pipelined
   * batch at once. Waits only while fewer than `minLength` bytes are
   * buffered (then returns all of them once there are that many). Resolves
   * `null` at end of stream. A single buffered chunk is returned as it is;
   * several are copied together once. `recv(0)`, by contrast, returns one
   * chunk as the runtime delivered it, never copying (for relays and echoes).
   *
   * Pair it with {@linkcode Socket.unshift}: put the unparsed tail back and
   * ask for one byte more than the tail (not `bytesBuffered + 1`: bytes may
   * have arrived since), so the read waits for new bytes.
   * On a custom transport's socket (completed by `conn.handshake()`) a read
   * that has to wait returns what one read of that socket delivers.
   *
   * @param minLength The fewest bytes to return (default 1, also for 0).
   * @param options `timeout`: ms to wait at most; default no limit.
   * @returns All buffered bytes (at least `minLength`), or `null` at end of stream.
   * @throws {TimeoutError} When `options.timeout` ms pass first (buffered bytes stay buffered).
   * @throws {ClosedError} When the stream ends with fewer than `minLength` bytes buffered, or the socket is reset.
   * @throws {TypeError} When another read on the socket is pending.
   * @throws {RangeError} When `minLength` or `options.timeout` is negative or not a number.
   *
   * @example A line parser that keeps no buffer of its own
   * ```ts
   * import assert from "node:assert/strict";
   * import { listen, memory } from "../mod.ts";
   * const lines: string[] = [];
   * await using _listener = await listen({
   *   transport: memory({ name: "doc-read-available", fragment: { max: 3 } }), // split into 1-3 byte reads
   *   protocol: async (conn) => {
   *     const socket = await conn.handshake();
   *     let need = 1;
   *     for (let batch; (batch = await socket.readAvailable(need)) !== null;) {
   *       let start = 0;
   *       for (let end; (end = batch.indexOf(10, start)) !== -1; start = end + 1) {
   *         lines.push(new TextDecoder().decode(batch.subarray(start, end)));
   *       }
   *       const tail = batch.subarray(start); // the incomplete line: read it again with what follows
   *       socket.unshift(tail);
   *       need = tail.length + 1;
   *     }
   *   },
   * });
   * const client = await memory().connect({ name: "doc-read-available" });
   * await client.send("PING\nECHO hi\nQU");
   * await client.send("IT\n");
   * await client.shutdown("write");
   * assert.equal(await client.recv(), null); // the protocol returned: its socket closed
   * assert.deepEqual(lines, ["PING", "ECHO hi", "QUIT"]);
   * ```
   */
  readAvailable(minLength?: number, options?: RecvOptions): Promise<Uint8Array | null>;
  /**
   * Puts bytes back in front of the bytes not read yet: the next read
   * returns them first (`readAvailable()` together with what has arrived
   * since). For a parser that read further than it could use. The socket
   * owns `bytes` from then on: do not change them.
   *
   * @param bytes The bytes to read again (usually the tail of the last chunk read).
   * @throws {TypeError} When a read is pending, when the socket's bytes go to a `handler()`, or `bytes` is not a Uint8Array.
   *
   * @example Looking at a message's first byte and leaving it for the next read
   * ```ts
   * import assert from "node:assert/strict";
   * import { testProtocol } from "../testing.ts";
   * await testProtocol(async (conn) => {
   *   const socket = await conn.handshake();
   *   const head = (await socket.recv(1))!;
   *   socket.unshift(head);
   *   assert.equal(socket.bytesBuffered >= 1, true);
   *   await socket.send((await socket.recv(head[0]! === 0x2a ? 3 : 1))!);
   * }, {}, async (client) => {
   *   await client.send("*ok");
   *   assert.equal(new TextDecoder().decode((await client.recv(3))!), "*ok");
   * });
   * ```
   */
  unshift(bytes: Uint8Array): void;
  /**
   * Bytes received and not read yet (unshifted ones included): what
   * `readAvailable()` would return without waiting. Bytes the runtime or
   * the kernel still holds are not counted, so 0 does not mean none are on
   * their way.
   */
  readonly bytesBuffered: number;
  /**
   * Sends bytes (a string is sent as UTF-8); resolves once they are queued
   * under the high-water mark. The bytes are not copied: the runtime holds
   * the buffer until the kernel takes it, possibly after the promise
   * resolves, so never change a buffer after passing it to `send` (use
   * `sendv` for a buffer you reuse).
   *
   * @param data Bytes, or a string to send as UTF-8.
   * @throws {ClosedError} When this side can no longer send (after `shutdown("write")` or `close()`), or the
   * connection failed or was reset (`code` `"ECONNRESET"`, `"EPIPE"`, ...).
   */
  send(data: Uint8Array | string): Promise<void>;
  /**
   * Sends several buffers as one write (the replies to a pipelined batch,
   * a header and its body): they are copied, in order, into one buffer
   * that goes to the runtime in one write call, so the batch costs one
   * system call and one promise, not one per buffer. The copy is made
   * before `sendv` returns, so the buffers may be reused at once. Resolves
   * and rejects as {@linkcode Socket.send} does.
   *
   * @param chunks Bytes or strings (sent as UTF-8), in the order to send them.
   * @throws {ClosedError} When this side can no longer send, as for `send()`.
   * @throws {TypeError} When `chunks` is not an array of Uint8Arrays and strings (the promise rejects).
   *
   * @example Answering a batch with one write, from a reused buffer
   * ```ts
   * import assert from "node:assert/strict";
   * import { testProtocol } from "../testing.ts";
   * const ok = new TextEncoder().encode("+OK\r\n");
   * await testProtocol(async (conn) => {
   *   const socket = await conn.handshake();
   *   const sent = socket.sendv([ok, ok, ":2\r\n"]);
   *   ok.fill(0); // sendv copied it already: the peer still gets "+OK"
   *   await sent;
   * }, {}, async (client) => {
   *   assert.equal(new TextDecoder().decode((await client.recv(14))!), "+OK\r\n+OK\r\n:2\r\n");
   * });
   * ```
   */
  sendv(chunks: readonly (Uint8Array | string)[]): Promise<void>;
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
