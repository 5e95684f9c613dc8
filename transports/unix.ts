/**
 * The Unix domain socket transport (Ranch's `{local, Path}` address).
 *
 * @module
 */
import { ListenError, toConnectError, toListenError } from "../src/errors.ts";
import { integerOption, rejectUnknownOptions, stringOption } from "../src/options.ts";
import { runtimeAdapter } from "../src/runtime/detect.ts";
import type { ListenSocket, Socket, Transport } from "../src/transport.ts";

/** Listen options of {@linkcode unix}. */
export interface UnixOptions {
  /** The socket file. A stale socket file there is removed before listening, and the file is removed on stop. */
  path: string;
  /** Kernel accept-queue length. Default 1024. */
  backlog?: number;
}

/** Options of `unix().connect()`. */
export interface UnixConnectOptions {
  /** The socket file to connect to. */
  path: string;
}

/** The Unix transport value that {@linkcode unix} returns. */
export type UnixTransport = Transport<UnixOptions, UnixConnectOptions>;

/**
 * Makes a Unix domain socket transport. `unix()` without a path is only
 * good for `connect()`.
 *
 * @param options `path` of the socket file to listen on (required when options are given) and `backlog`.
 * @returns A transport for `listen()`'s `transport` option, and for `connect()`.
 * @throws {TypeError} When `path` is missing or empty, or an option is unknown or has the wrong type.
 * @throws {RangeError} When `backlog` is out of range.
 *
 * @example Echo over a socket file
 * ```ts
 * import assert from "node:assert/strict";
 * import { listen, unix } from "../mod.ts";
 * const path = `/tmp/corral-doc-${Date.now()}.sock`;
 * const listener = await listen({
 *   transport: unix({ path }),
 *   protocol: async (conn) => {
 *     const socket = await conn.handshake();
 *     for await (const chunk of socket) await socket.send(chunk);
 *   },
 * });
 * const client = await unix().connect({ path });
 * await client.send("hi");
 * assert((await client.recv(2))!.length === 2);
 * await client.close();
 * await listener.stop();
 * ```
 */
export function unix(options?: UnixOptions): UnixTransport {
  return new UnixTransportImpl(options === undefined ? undefined : checkOptions(options));
}

function checkOptions(options: UnixOptions): Readonly<UnixOptions> {
  rejectUnknownOptions("unix()", options, ["path", "backlog"]);
  if (stringOption("unix() option path", options.path) === undefined) {
    throw new TypeError("unix() option path is required to listen");
  }
  integerOption("unix() option backlog", options.backlog, 1, 65535, 1024);
  return Object.freeze({ ...options });
}

class UnixTransportImpl implements UnixTransport {
  readonly name = "unix";
  readonly secure = false;
  readonly #options: Readonly<UnixOptions> | undefined;

  constructor(options: Readonly<UnixOptions> | undefined) {
    this.#options = options;
  }

  get options(): Readonly<UnixOptions> {
    return this.#options ?? { path: "" };
  }

  withOptions(options: Partial<UnixOptions>): UnixTransport {
    return new UnixTransportImpl(checkOptions({ ...this.options, ...options } as UnixOptions));
  }

  async listen(): Promise<ListenSocket> {
    const options = this.#options;
    if (options === undefined) throw new TypeError("unix() option path is required to listen");
    const adapter = await runtimeAdapter();
    const { path } = options;
    try {
      await removeStaleSocket(path);
      const inner = await adapter.listenUnix({ path, backlog: options.backlog ?? 1024 });
      return {
        address: inner.address,
        accept: () => inner.accept(),
        // The file goes with the listen socket, so a later listen finds the path free.
        close: async () => {
          await inner.close();
          await adapter.removeSocketFile(path);
        },
      };
    } catch (error) {
      throw toListenError(error, `unix ${path}`);
    }
  }

  async connect(options: UnixConnectOptions): Promise<Socket> {
    rejectUnknownOptions("unix().connect()", options, ["path"]);
    const path = stringOption("unix().connect() option path", options.path);
    if (path === undefined) throw new TypeError("unix().connect() option path is required");
    const adapter = await runtimeAdapter();
    try {
      return await adapter.connectUnix(path);
    } catch (error) {
      throw toConnectError(error, `unix ${path}`);
    }
  }

  handshake(socket: Socket): Promise<Socket> {
    return Promise.resolve(socket);
  }
}

/**
 * Removes a socket file nobody listens on any more. A file a live listener
 * answers on is left alone and reported as EADDRINUSE, like a taken port.
 */
async function removeStaleSocket(path: string): Promise<void> {
  const adapter = await runtimeAdapter();
  const live = await adapter.connectUnix(path).then(
    (socket) => (socket.destroy(), true),
    () => false,
  );
  if (live) throw new ListenError("EADDRINUSE", `cannot listen on unix ${path}: another listener is using it`);
  await adapter.removeSocketFile(path);
}
