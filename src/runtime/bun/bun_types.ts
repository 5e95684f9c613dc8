/**
 * Hand-written declarations of the part of Bun's socket API the adapter
 * uses (`Bun.listen`, `Bun.connect` and their sockets), so the published code
 * needs no `@types/bun`. Checked against Bun 1.4.5; members older versions
 * may lack are optional.
 *
 * @module
 */

/** Event handlers shared by every socket of one `Bun.listen` / `Bun.connect` call. */
export interface BunSocketHandler<Data> {
  /** What `data` receives; Bun's default is `"buffer"` (a Node.js `Buffer`). */
  binaryType?: "buffer" | "uint8array" | "arraybuffer";
  /** The connection is established (accepted, or connected before `Bun.connect` resolves). */
  open?(socket: BunSocket<Data>): void;
  /** Bytes arrived; every call gets a fresh chunk. */
  data?(socket: BunSocket<Data>, chunk: Uint8Array): void;
  /** The socket is writable again (also fires once after `pause()` and `resume()`). */
  drain?(socket: BunSocket<Data>): void;
  /** The peer sent FIN. */
  end?(socket: BunSocket<Data>): void;
  /** The socket closed; `error` is set when it failed (such as `ECONNRESET`). */
  close?(socket: BunSocket<Data>, error?: Error): void;
  /** A handler threw `error` (Bun does not close the socket for it). */
  error?(socket: BunSocket<Data>, error: Error): void;
}

/** A connected Bun socket (`Bun.Socket`). */
export interface BunSocket<Data> {
  /** Per-socket value, free for the user. */
  data: Data;
  /** 1 while open, -1 once closed. */
  readonly readyState: number;
  /** The peer's address; `undefined` for Unix sockets and once closed. */
  readonly remoteAddress?: string;
  readonly remotePort?: number;
  readonly remoteFamily?: string;
  /** The local address; `undefined` for Unix sockets and once closed. */
  readonly localAddress?: string;
  readonly localPort?: number;
  readonly localFamily?: string;
  /**
   * Hands bytes to the kernel without buffering: returns how many it took
   * (possibly 0), or -1 once the socket is closed. `byteOffset` counts from
   * the view's start; `byteLength` must be given (its default is the whole
   * view, even with an offset, which throws a RangeError).
   */
  write(data: Uint8Array, byteOffset: number, byteLength: number): number;
  /** Closes the socket gracefully (the kernel still sends what it holds); fires `close` synchronously. */
  end(): number | void;
  /** `shutdown(2)`: without an argument SHUT_WR (sends FIN, reading goes on); `true` is SHUT_RD. */
  shutdown(readSide?: boolean): void;
  /** Closes at once with SO_LINGER 0 (the peer sees a reset); fires `close` synchronously. */
  terminate(): void;
  /** Stops reading from the kernel (removes the read interest from the poll). */
  pause(): void;
  /** Reads from the kernel again. */
  resume(): void;
  /** TCP_NODELAY; Bun already turns it on for every TCP socket it accepts or connects. */
  setNoDelay?(enable: boolean): boolean;
  /** SO_KEEPALIVE (with an initial delay in ms it also sets TCP_KEEPIDLE). */
  setKeepAlive?(enable: boolean, initialDelay?: number): boolean;
}

/** Options every `Bun.listen` / `Bun.connect` call takes. */
interface BunSocketOptions<Data> {
  socket: BunSocketHandler<Data>;
  /** The initial `socket.data`. */
  data?: Data;
  /** Keep our sending side open after the peer's FIN (default false: Bun closes the socket). */
  allowHalfOpen?: boolean;
}

/** `Bun.listen` on TCP. */
export interface BunTcpListenOptions<Data> extends BunSocketOptions<Data> {
  hostname: string;
  port: number;
  /** SO_REUSEPORT on the listen socket. */
  reusePort?: boolean;
  /** Bun 1.4.5 accepts it but always calls listen(2) with 512. */
  backlog?: number;
}

/** `Bun.listen` on a Unix domain socket. */
export interface BunUnixListenOptions<Data> extends BunSocketOptions<Data> {
  unix: string;
  backlog?: number;
}

/** `Bun.listen` on a descriptor that is already bound and listening (TCP or Unix). */
export interface BunFdListenOptions<Data> extends BunSocketOptions<Data> {
  fd: number;
  backlog?: number;
}

/** `Bun.connect` over TCP. */
export interface BunTcpConnectOptions<Data> extends BunSocketOptions<Data> {
  hostname: string;
  port: number;
}

/** `Bun.connect` to a Unix domain socket. */
export interface BunUnixConnectOptions<Data> extends BunSocketOptions<Data> {
  unix: string;
}

/** What `Bun.listen` returns. */
export interface BunListener {
  /** The bound port (TCP). */
  readonly port?: number;
  /** The host name as given (TCP). */
  readonly hostname?: string;
  /** The socket file (Unix). */
  readonly unix?: string;
  /** The listen socket's descriptor. */
  readonly fd?: number;
  /** Fills `out` with the bound `{ address, port, family }` (TCP). */
  getsockname?(out: { address?: string; port?: number; family?: string }): void;
  /**
   * Stops accepting. With `false` the accepted connections stay open; a
   * Unix listener's socket file is removed.
   */
  stop(closeActiveConnections?: boolean): void;
}

/** The slice of the `Bun` global the adapter uses. */
export interface BunApi {
  readonly version: string;
  listen<Data>(
    options: BunTcpListenOptions<Data> | BunUnixListenOptions<Data> | BunFdListenOptions<Data>,
  ): BunListener;
  connect<Data>(options: BunTcpConnectOptions<Data> | BunUnixConnectOptions<Data>): Promise<BunSocket<Data>>;
}

/** The `Bun` global (this module is only loaded on Bun). */
export const bun: BunApi = (globalThis as unknown as { Bun: BunApi }).Bun;

/** The runtime and its version, such as `"bun 1.4.5"`. */
export const runtimeName = `bun ${bun.version}`;
