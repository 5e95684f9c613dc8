/**
 * The Unix domain socket transport (Ranch's `{local, Path}` address).
 *
 * @module
 */
import { ListenError, toConnectError, toListenError } from "../src/errors.ts";
import { integerOption, rejectUnknownOptions, stringOption } from "../src/options.ts";
import { runtimeAdapter } from "../src/runtime/detect.ts";
import { checkFdOption } from "./tcp/options.ts";
import { checkUnixPathLength } from "./unix/_path.ts";
import type { ListenSocket, Socket, Transport } from "../src/transport.ts";

/** Listen options of {@linkcode unix}: a `path` to bind, or an inherited `fd`. */
export interface UnixOptions {
  /** The socket file. A stale socket file there is removed before listening, and the file is removed on stop. */
  path?: string;
  /**
   * Accept on this inherited descriptor, already bound and listening (systemd
   * socket activation, `listenFds()`), instead of binding `path`: an integer
   * from 3. Its socket file is left alone on stop (it is not this process's),
   * and `address` is `{ path: "" }`: no runtime tells an inherited socket's file.
   */
  fd?: number;
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
 * @param options `path` of the socket file to listen on, or `fd`, an inherited listening descriptor (one of the
 * two is required when options are given); and `backlog`.
 * @returns A transport for `listen()`'s `transport` option, and for `connect()`.
 * @throws {TypeError} When both or neither of `path` and `fd` are given, `path` is empty, or an option is unknown
 * or has the wrong type.
 * @throws {RangeError} When `backlog` is out of range, `fd` is below 3, or `path` is longer than the kernel takes
 * (107 bytes on Linux, 103 on macOS and the BSDs).
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
  rejectUnknownOptions("unix()", options, ["path", "fd", "backlog"]);
  const path = stringOption("unix() option path", options.path);
  if (checkFdOption("unix()", options, ["path"]) === undefined && path === undefined) {
    throw new TypeError("unix() option path (or fd) is required to listen");
  }
  if (path !== undefined) checkUnixPathLength("unix() option path", path);
  integerOption("unix() option backlog", options.backlog, 1, 65535, 1024);
  return Object.freeze({ ...options });
}

class UnixTransportImpl implements UnixTransport {
  readonly name = "unix";
  readonly secure = false;
  readonly #options: Readonly<UnixOptions> | undefined;
  /** Its `fd` was listened on, and closed with that listen socket (see `tcp`). */
  #fdUsed = false;

  constructor(options: Readonly<UnixOptions> | undefined) {
    this.#options = options;
  }

  get options(): Readonly<UnixOptions> {
    return this.#options ?? { path: "" };
  }

  withOptions(options: Partial<UnixOptions>): UnixTransport {
    return new UnixTransportImpl(checkOptions({ ...this.options, ...options }));
  }

  async listen(): Promise<ListenSocket> {
    const options = this.#options;
    if (options === undefined) throw new TypeError("unix() option path (or fd) is required to listen");
    const adapter = await runtimeAdapter();
    const { fd, backlog = 1024 } = options;
    if (fd !== undefined) {
      if (this.#fdUsed) {
        throw new ListenError(
          "EBADF",
          `cannot listen on unix fd ${fd} again: it was closed when its listener suspended`,
        );
      }
      this.#fdUsed = true;
      try {
        return await adapter.listenFd({ fd, kind: "unix", backlog, noDelay: false, keepAlive: false });
      } catch (error) {
        throw toListenError(error, `unix fd ${fd}`);
      }
    }
    const path = options.path!;
    try {
      await removeStaleSocket(path);
      const inner = await adapter.listenUnix({ path, backlog });
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
    checkUnixPathLength("unix().connect() option path", path);
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
