/**
 * The TCP transport (Ranch's `ranch_tcp`) over the runtime's native sockets.
 *
 * @module
 */
import { ListenError, toConnectError, toListenError } from "../src/errors.ts";
import { rejectUnknownOptions } from "../src/options.ts";
import {
  checkFdOption,
  checkTcpListenOptions,
  TCP_CONNECT_KEYS,
  TCP_LISTEN_KEYS,
  tcpConnectConfig,
  tcpListenConfig,
} from "./tcp/options.ts";
import type { TcpConnectOptions, TcpOptions } from "./tcp/options.ts";
import { runtimeAdapter } from "../src/runtime/detect.ts";
import type { ListenSocket, Socket, Transport } from "../src/transport.ts";

export type { TcpConnectOptions, TcpOptions } from "./tcp/options.ts";

/** The TCP transport value that {@linkcode tcp} returns. */
export type TcpTransport = Transport<TcpOptions, TcpConnectOptions>;

/**
 * Makes a TCP transport. Options are checked here, so a wrong one fails
 * before anything listens.
 *
 * @param options Where and how to listen: `host`, `port`, `backlog`, `noDelay`, `keepAlive`, `reusePort`;
 * or `fd`, an inherited listening descriptor (from `listenFds()`), instead of `host`, `port` and `reusePort`.
 * Clients can leave them out: `tcp().connect({ port })`.
 * @returns A transport for `listen()`'s `transport` option, and for `connect()`.
 * @throws {TypeError} When an option is unknown or has the wrong type, or `fd` comes with `host`, `port` or
 * `reusePort`.
 * @throws {RangeError} When a number is out of range, such as a `port` above 65535 or an `fd` below 3.
 *
 * @example An echo listener on a free port, and a client
 * ```ts
 * import assert from "node:assert/strict";
 * import { listen, tcp } from "../mod.ts";
 * const listener = await listen({
 *   transport: tcp({ host: "127.0.0.1", port: 0 }),
 *   protocol: async (conn) => {
 *     const socket = await conn.handshake();
 *     for await (const chunk of socket) await socket.send(chunk);
 *   },
 * });
 * const client = await tcp().connect({ port: listener.port! });
 * await client.send("hi");
 * assert(new TextDecoder().decode((await client.recv(2))!) === "hi");
 * await client.close();
 * await listener.stop();
 * ```
 */
export function tcp(options: TcpOptions = {}): TcpTransport {
  return new TcpTransportImpl(checkListenOptions(options));
}

const LISTEN_KEYS: readonly string[] = [...TCP_LISTEN_KEYS, "fd"];

function checkListenOptions(options: TcpOptions): Readonly<TcpOptions> {
  rejectUnknownOptions("tcp()", options, LISTEN_KEYS);
  checkTcpListenOptions("tcp()", options);
  checkFdOption("tcp()", options, ["host", "port", "reusePort"]);
  return Object.freeze({ ...options });
}

class TcpTransportImpl implements TcpTransport {
  readonly name = "tcp";
  readonly secure = false;
  readonly options: Readonly<TcpOptions>;
  /**
   * Its `fd` was listened on: closing that listen socket closed the
   * descriptor, whose number the system may since have given to another file.
   */
  #fdUsed = false;

  constructor(options: Readonly<TcpOptions>) {
    this.options = options;
  }

  withOptions(options: Partial<TcpOptions>): TcpTransport {
    return new TcpTransportImpl(checkListenOptions({ ...this.options, ...options }));
  }

  async listen(): Promise<ListenSocket> {
    const o = this.options;
    const adapter = await runtimeAdapter();
    if (o.fd !== undefined) {
      if (this.#fdUsed) {
        throw new ListenError(
          "EBADF",
          `cannot listen on tcp fd ${o.fd} again: it was closed when its listener suspended`,
        );
      }
      this.#fdUsed = true;
      const { backlog, noDelay, keepAlive } = tcpListenConfig(o);
      try {
        return await adapter.listenFd({ fd: o.fd, kind: "tcp", backlog, noDelay, keepAlive });
      } catch (error) {
        throw toListenError(error, `tcp fd ${o.fd}`);
      }
    }
    try {
      return await adapter.listenTcp(tcpListenConfig(o));
    } catch (error) {
      throw toListenError(error, `tcp ${o.host ?? "0.0.0.0"}:${o.port ?? 0}`);
    }
  }

  async connect(options: TcpConnectOptions): Promise<Socket> {
    const config = tcpConnectConfig("tcp().connect()", options, TCP_CONNECT_KEYS);
    const adapter = await runtimeAdapter();
    try {
      return await adapter.connectTcp(config);
    } catch (error) {
      throw toConnectError(error, `tcp ${config.host}:${config.port}`);
    }
  }

  handshake(socket: Socket): Promise<Socket> {
    return Promise.resolve(socket);
  }
}
