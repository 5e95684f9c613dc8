/**
 * The in-memory transport: listeners registered under a name in this
 * process, connected sockets that behave like TCP ones (bounded buffers,
 * backpressure, half-close, resets) without opening a port. For testing
 * protocols; the tcp and tls code is tested over real sockets.
 *
 * @module
 */
import { AcceptQueue } from "../src/accept_queue.ts";
import { ClosedError, ListenError } from "../src/errors.ts";
import { integerOption, rejectUnknownOptions, stringOption } from "../src/options.ts";
import type { ListenSocket, Socket, Transport } from "../src/transport.ts";
import { MemoryChannel } from "./_memory_channel.ts";
import { StreamSocket } from "../src/stream_socket.ts";

/** Listen options of {@linkcode memory}. */
export interface MemoryOptions {
  /** The name to listen under; a free one is made up when omitted (see `listener.address`). */
  name?: string;
  /** Bytes a receiver buffers before the sender must wait. Default 65536. */
  window?: number;
}

/** Options of `memory().connect()`. */
export interface MemoryConnectOptions {
  /** The name a memory listener registered. */
  name: string;
  /** Bytes a receiver buffers before the sender must wait. Default 65536. */
  window?: number;
}

/** The memory transport value that {@linkcode memory} returns. */
export type MemoryTransport = Transport<MemoryOptions, MemoryConnectOptions>;

/** Listening names in this process (Netty's LocalAddress registry). */
const listeners = new Map<string, AcceptQueue>();
let nextName = 1;

const DEFAULT_WINDOW = 64 * 1024;

/**
 * Makes an in-memory transport.
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
 */
export function memory(options: MemoryOptions = {}): MemoryTransport {
  return new MemoryTransportImpl(checkOptions(options));
}

function checkOptions(options: MemoryOptions): Readonly<MemoryOptions> {
  rejectUnknownOptions("memory()", options, ["name", "window"]);
  stringOption("memory() option name", options.name);
  integerOption("memory() option window", options.window, 1, 2 ** 31, DEFAULT_WINDOW);
  return Object.freeze({ ...options });
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
    serverWindows.set(queue, this.options.window ?? DEFAULT_WINDOW);
    return Promise.resolve(queue);
  }

  connect(options: MemoryConnectOptions): Promise<Socket> {
    try {
      rejectUnknownOptions("memory().connect()", options, ["name", "window"]);
      const name = stringOption("memory().connect() option name", options.name);
      if (name === undefined) throw new TypeError("memory().connect() option name is required");
      const window = integerOption("memory().connect() option window", options.window, 1, 2 ** 31, DEFAULT_WINDOW);
      const queue = listeners.get(name);
      if (queue === undefined || queue.isClosed) {
        throw new ClosedError(`cannot connect to memory ${name}: nothing listens there`, "ECONNREFUSED");
      }
      const [client, server] = MemoryChannel.pair(name, window, serverWindows.get(queue) ?? DEFAULT_WINDOW);
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

/** The receive window each memory listener gives its accepted sockets. */
const serverWindows = new WeakMap<AcceptQueue, number>();
