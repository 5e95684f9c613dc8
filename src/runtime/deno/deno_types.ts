/**
 * Hand-written declarations of the few `Deno` APIs the Deno adapter uses, so
 * the published code type-checks without Deno's global types (plain `tsc`
 * with `@types/node`) as well as under `deno check`.
 *
 * They describe what the adapter relies on, narrower than Deno's own types.
 *
 * @module
 */

/** A TCP endpoint as Deno reports it. */
export interface DenoNetAddr {
  transport: "tcp" | "udp";
  hostname: string;
  port: number;
}

/** A Unix domain socket endpoint as Deno reports it; `path` is `null` for an unnamed client end. */
export interface DenoUnixAddr {
  transport: "unix" | "unixpacket";
  path: string | null;
}

/** Any endpoint a Deno stream connection or listener reports. */
export type DenoAddr = DenoNetAddr | DenoUnixAddr;

/** `Deno.Conn`: one stream connection. */
export interface DenoConn {
  /** Reads into `p`; resolves the byte count, or `null` at end of stream. */
  read(p: Uint8Array): Promise<number | null>;
  /** Writes (part of) `p`; resolves the byte count written. */
  write(p: Uint8Array): Promise<number>;
  /** `shutdown(SHUT_WR)`. */
  closeWrite(): Promise<void>;
  /** Releases the resource; pending operations reject with `Interrupted`. */
  close(): void;
  readonly localAddr: DenoAddr;
  readonly remoteAddr: DenoAddr;
}

/** `Deno.TcpConn`: a TCP connection with its socket options. */
export interface DenoTcpConn extends DenoConn {
  setNoDelay(noDelay?: boolean): void;
  setKeepAlive(keepAlive?: boolean): void;
}

/** `Deno.Listener`: only one `accept()` may be pending at a time. */
export interface DenoListener<C extends DenoConn = DenoConn> {
  accept(): Promise<C>;
  close(): void;
  readonly addr: DenoAddr;
}

/** Options of `Deno.listen` for TCP. */
export interface DenoTcpListenOptions {
  transport?: "tcp";
  hostname?: string;
  port?: number;
  /** The listen(2) backlog (Deno 2.9+; older versions ignore it). */
  tcpBacklog?: number;
  /** SO_REUSEPORT; unstable: needs `--unstable-net`, else Deno exits the process. */
  reusePort?: boolean;
}

/** The part of `Deno.FileInfo` the adapter reads. */
export interface DenoFileInfo {
  isSocket: boolean | null;
}

/** The part of the `Deno` namespace the adapter uses. */
export interface DenoNamespace {
  listen(options: DenoTcpListenOptions): DenoListener<DenoTcpConn>;
  listen(options: { transport: "unix"; path: string }): DenoListener<DenoConn>;
  connect(options: { transport?: "tcp"; hostname: string; port: number }): Promise<DenoTcpConn>;
  connect(options: { transport: "unix"; path: string }): Promise<DenoConn>;
  lstat(path: string): Promise<DenoFileInfo>;
  readTextFileSync(path: string): string;
  readDirSync(path: string): Iterable<{ name: string }>;
  readLinkSync(path: string): string;
  remove(path: string): Promise<void>;
  readonly version: { readonly deno: string };
  readonly build: { readonly os: string };
  /** Present only when the `net` unstable feature is on (`--unstable-net`). */
  readonly listenDatagram?: unknown;
}

/** The runtime's `Deno` namespace, typed by the declarations above. */
export const deno: DenoNamespace = (globalThis as unknown as { Deno: DenoNamespace }).Deno;
