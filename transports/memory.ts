/**
 * The in-memory transport: listeners registered under a name in this
 * process, connected sockets that behave like TCP ones (bounded buffers,
 * backpressure, half-close, resets) without opening a port. For testing
 * protocols; the tcp and tls code is tested over real sockets.
 *
 * Real networks split, merge, delay and reset; the fault options make the
 * memory transport do the same, deterministically from a `seed`, so a
 * protocol is tested against what it will meet and a failure replays.
 *
 * @module
 */
import { AcceptQueue } from "../src/socket/accept_queue.ts";
import { ClosedError, ListenError } from "../src/errors.ts";
import { integerOption, rejectUnknownOptions, stringOption } from "../src/options.ts";
import type { ListenSocket, Socket, Transport } from "../src/transport.ts";
import { MemoryChannel } from "./memory/_channel.ts";
import {
  checkFaultOptions,
  FAULT_OPTIONS,
  type MemoryFaultOptions,
  planConnection,
  withSeed,
} from "./memory/faults.ts";
import { StreamSocket } from "../src/socket/stream_socket.ts";
import { provideFileAccess } from "../src/socket/file_access.ts";
import { runtimeAdapter } from "../src/runtime/detect.ts";

export type { FaultAmount, MemoryFaultOptions } from "./memory/faults.ts";
export { type Scheduler, VirtualClock, type VirtualClockOptions } from "./memory/scheduler.ts";

/**
 * Listen options of {@linkcode memory}. The fault options apply to every
 * connection the listener accepts, in both directions.
 */
export interface MemoryOptions extends MemoryFaultOptions {
  /** The name to listen under; a free one is made up when omitted (see `listener.address`). */
  name?: string;
  /**
   * Each end's window in bytes, default 65536. An end holds at most this many
   * bytes no read has asked for, so a larger write reaches the reader in
   * window-sized pieces as it takes them and no `recv(0)` returns more; and
   * it is the end's high-water mark: `send()` resolves once the peer has
   * taken all but this many of the bytes sent.
   */
  window?: number;
}

/**
 * Options of `memory().connect()`. Fault options and `window` given here
 * override the listener's, key by key, for this one connection.
 */
export interface MemoryConnectOptions extends MemoryFaultOptions {
  /** The name a memory listener registered. */
  name: string;
  /** Each end's window in bytes (see {@linkcode MemoryOptions.window}). Default: the listener's. */
  window?: number;
}

/** The memory transport value that {@linkcode memory} returns. */
export type MemoryTransport = Transport<MemoryOptions, MemoryConnectOptions>;

/** Listening names in this process (Netty's LocalAddress registry). */
const listeners = new Map<string, AcceptQueue>();
let nextName = 1;

/** What connect() needs from the listener it reaches: its options, and how many connections it had. */
interface ListenerSide {
  options: Readonly<MemoryOptions>;
  connections: number;
}

const listenerSides = new WeakMap<AcceptQueue, ListenerSide>();

const DEFAULT_WINDOW = 64 * 1024;

/**
 * Makes an in-memory transport.
 *
 * @param options `name` to listen under (a free one when left out), `window`, and the fault options
 * (`seed`, `fragment`, `coalesce`, `latency`, `reset`, `halfClose`, `scheduler`).
 * @returns A transport for `listen()`'s `transport` option, and for `connect()`.
 * @throws {TypeError} When an option is unknown or has the wrong type.
 * @throws {RangeError} When a number is out of range, such as `window: 0`.
 *
 * @example A protocol tested without a port
 * ```ts
 * import assert from "node:assert/strict";
 * import { listen, memory } from "../mod.ts";
 * const listener = await listen({
 *   transport: memory({ name: "doc-echo" }),
 *   protocol: async (conn) => {
 *     const socket = await conn.handshake();
 *     for await (const chunk of socket) await socket.send(chunk);
 *   },
 * });
 * const client = await memory().connect({ name: "doc-echo" });
 * await client.send("ping");
 * assert(new TextDecoder().decode((await client.recv(4))!) === "ping");
 * await client.close();
 * await listener.stop();
 * ```
 *
 * @example Every write split into 1 to 3 byte reads, replayable by seed
 * ```ts
 * import assert from "node:assert/strict";
 * import { listen, memory } from "../mod.ts";
 * const sizes: number[] = [];
 * const listener = await listen({
 *   transport: memory({ seed: 7, fragment: { max: 3 } }),
 *   protocol: async (conn) => {
 *     const socket = await conn.handshake();
 *     for await (const chunk of socket) sizes.push(chunk.length);
 *   },
 * });
 * const client = await memory().connect({ name: (listener.address as { name: string }).name });
 * await client.send("hello, world");
 * await client.close();
 * await listener.stop();
 * assert(sizes.length > 4 && sizes.every((size) => size >= 1 && size <= 3));
 * assert(sizes.reduce((a, b) => a + b) === 12);
 * ```
 */
export function memory(options: MemoryOptions = {}): MemoryTransport {
  return new MemoryTransportImpl(checkOptions(options));
}

function checkOptions(options: MemoryOptions): Readonly<MemoryOptions> {
  rejectUnknownOptions("memory()", options, ["name", "window", ...FAULT_OPTIONS]);
  stringOption("memory() option name", options.name);
  integerOption("memory() option window", options.window, 1, 2 ** 31, DEFAULT_WINDOW);
  checkFaultOptions("memory()", options);
  return Object.freeze(withSeed({ ...options }));
}

class MemoryTransportImpl implements MemoryTransport {
  readonly name = "memory";
  readonly secure = false;
  readonly options: Readonly<MemoryOptions>;

  constructor(options: Readonly<MemoryOptions>) {
    this.options = options;
  }

  withOptions(options: Partial<MemoryOptions>): MemoryTransport {
    return new MemoryTransportImpl(checkOptions({ ...this.options, ...options }));
  }

  listen(): Promise<ListenSocket> {
    let name = this.options.name;
    while (name === undefined || (this.options.name === undefined && listeners.has(name))) {
      name = `memory-${nextName++}`;
    }
    if (listeners.has(name)) {
      return Promise.reject(new ListenError("EADDRINUSE", `cannot listen on memory ${name}: the name is taken`));
    }
    const queue: AcceptQueue = new AcceptQueue({ name }, () => {
      if (listeners.get(name) === queue) listeners.delete(name);
      return Promise.resolve();
    });
    listeners.set(name, queue);
    listenerSides.set(queue, { options: this.options, connections: 0 });
    return Promise.resolve(queue);
  }

  connect(options: MemoryConnectOptions): Promise<Socket> {
    try {
      rejectUnknownOptions("memory().connect()", options, ["name", "window", ...FAULT_OPTIONS]);
      const name = stringOption("memory().connect() option name", options.name);
      if (name === undefined) throw new TypeError("memory().connect() option name is required");
      integerOption("memory().connect() option window", options.window, 1, 2 ** 31, DEFAULT_WINDOW);
      checkFaultOptions("memory().connect()", options);
      const queue = listeners.get(name);
      const side = queue === undefined ? undefined : listenerSides.get(queue);
      if (queue === undefined || queue.isClosed || side === undefined) {
        throw new ClosedError(`cannot connect to memory ${name}: nothing listens there`, "ECONNREFUSED");
      }
      const window = options.window ?? side.options.window ?? DEFAULT_WINDOW;
      const faults = planConnection(side.options, options, side.connections++);
      // Memory sockets need no runtime adapter, but sendfile() reads files through one.
      provideFileAccess(runtimeAdapter);
      const [client, server] = MemoryChannel.pair(name, window, window, faults);
      queue.push(new StreamSocket(server));
      return Promise.resolve(new StreamSocket(client));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  handshake(socket: Socket): Promise<Socket> {
    return Promise.resolve(socket);
  }
}
