/**
 * The TCP options `tcp()` and `tls()` share: their names, their checks
 * (each error names the transport it came from) and their defaults.
 *
 * @module
 */
import { booleanOption, integerOption, rejectUnknownOptions, stringOption } from "../../src/options.ts";
import type { TcpConnectConfig, TcpListenConfig } from "../../src/runtime/adapter.ts";

/** Listen options of `tcp()`. */
export interface TcpOptions {
  /** Address to bind, such as `"127.0.0.1"` or `"::1"`. Default: `"0.0.0.0"` (every IPv4 address). */
  host?: string;
  /** Port to bind; 0 (the default) picks a free port, see `listener.port`. */
  port?: number;
  /** Kernel accept-queue length. Default 1024 (Ranch's default). */
  backlog?: number;
  /** TCP_NODELAY on accepted sockets. Default true, as in Ranch. */
  noDelay?: boolean;
  /** SO_KEEPALIVE on accepted sockets. Default false. */
  keepAlive?: boolean;
  /** SO_REUSEPORT, so several listen sockets share the port (`numListenSockets > 1`). Default false. */
  reusePort?: boolean;
  /**
   * Accept on this inherited descriptor, already bound and listening (systemd
   * socket activation, `listenFds()`, a predecessor's `handover()`), instead
   * of binding `host` and `port`: an integer from 3 (0 to 2 are stdin, stdout
   * and stderr). Excludes `host`, `port` and `reusePort`. A listener on a
   * descriptor cannot `resume()` once suspended: suspending closes it.
   */
  fd?: number;
}

/** Options of `tcp().connect()`. */
export interface TcpConnectOptions {
  /** Host to connect to. Default `"127.0.0.1"`. */
  host?: string;
  /** Port to connect to. */
  port: number;
  /** TCP_NODELAY. Default true. */
  noDelay?: boolean;
  /** SO_KEEPALIVE. Default false. */
  keepAlive?: boolean;
}

/** The TCP listen option names `tcp()` and `tls()` share. */
export const TCP_LISTEN_KEYS = ["host", "port", "backlog", "noDelay", "keepAlive", "reusePort"] as const;

/** The highest descriptor number a system hands out (`INT_MAX`). */
const MAX_FD = 2 ** 31 - 1;

/**
 * Checks an inherited-descriptor option of `label` (`"tcp()"`, `"unix()"`):
 * an integer from 3, and none of the `excluded` options that would say where
 * to bind (the descriptor is bound already). Returns the descriptor, or
 * `undefined` when none is given.
 */
export function checkFdOption(label: string, options: object, excluded: readonly string[]): number | undefined {
  const fd = (options as { fd?: unknown }).fd;
  if (fd === undefined) return undefined;
  integerOption(`${label} option fd`, fd, 3, MAX_FD, 3);
  const clash = excluded.filter((key) => (options as Record<string, unknown>)[key] !== undefined);
  if (clash.length > 0) {
    throw new TypeError(
      `${label} option fd excludes ${clash.join(" and ")}: the descriptor is already bound and listening`,
    );
  }
  return fd as number;
}
/** The TCP connect option names. */
export const TCP_CONNECT_KEYS = ["host", "port", "noDelay", "keepAlive"] as const;

/** Checks the TCP listen options of `label` (`"tcp()"`, `"tls()"`): throws naming the first bad one. */
export function checkTcpListenOptions(label: string, options: TcpOptions): void {
  stringOption(`${label} option host`, options.host);
  integerOption(`${label} option port`, options.port, 0, 65535, 0);
  integerOption(`${label} option backlog`, options.backlog, 1, 65535, 1024);
  booleanOption(`${label} option noDelay`, options.noDelay, true);
  booleanOption(`${label} option keepAlive`, options.keepAlive, false);
  booleanOption(`${label} option reusePort`, options.reusePort, false);
}

/** Checked TCP listen options with their defaults filled in, as the adapters take them. */
export function tcpListenConfig(options: Readonly<TcpOptions>): TcpListenConfig {
  return {
    host: options.host,
    port: options.port ?? 0,
    backlog: options.backlog ?? 1024,
    reusePort: options.reusePort ?? false,
    noDelay: options.noDelay ?? true,
    keepAlive: options.keepAlive ?? false,
  };
}

/**
 * Checks the TCP connect options of `label` (`"tcp().connect()"`, ...) and
 * fills in their defaults; `keys` are every option name `label` accepts.
 */
export function tcpConnectConfig(label: string, options: TcpConnectOptions, keys: readonly string[]): TcpConnectConfig {
  rejectUnknownOptions(label, options, keys);
  const host = stringOption(`${label} option host`, options.host) ?? "127.0.0.1";
  const port = integerOption(`${label} option port`, options.port, 1, 65535, Number.NaN);
  if (Number.isNaN(port)) throw new TypeError(`${label} option port is required`);
  return {
    host,
    port,
    noDelay: booleanOption(`${label} option noDelay`, options.noDelay, true),
    keepAlive: booleanOption(`${label} option keepAlive`, options.keepAlive, false),
  };
}
