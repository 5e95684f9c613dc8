/**
 * Hand-written declarations of Deno's TLS APIs the adapter uses
 * (`Deno.listenTls`, `Deno.connectTls`, `Deno.startTls`), narrower than
 * Deno's own types, so published code needs no Deno globals to type-check.
 *
 * @module
 */
import type { DenoConn, DenoListener, DenoNamespace, DenoTcpConn } from "./deno_types.ts";

/** `Deno.TlsConn`: no socket options; `handshake()` runs (or awaits) the handshake. */
export interface DenoTlsConn extends DenoConn {
  handshake(): Promise<{ alpnProtocol: string | null }>;
}

/** Options of `Deno.listenTls`. */
export interface DenoListenTlsOptions {
  transport?: "tcp";
  hostname?: string;
  port?: number;
  tcpBacklog?: number;
  reusePort?: boolean;
  /** The certificate chain, PEM. */
  cert: string;
  /** The private key, PEM. */
  key: string;
  alpnProtocols?: string[];
}

/** Options of `Deno.connectTls`: `hostname` is both where to connect and the name to verify. */
export interface DenoConnectTlsOptions {
  hostname: string;
  port: number;
  /** Trusted in addition to Deno's default roots. */
  caCerts?: string[];
  alpnProtocols?: string[];
  /** A client certificate and key, PEM. */
  cert?: string;
  key?: string;
}

/** Options of `Deno.startTls` (client side only; no client certificate). */
export interface DenoStartTlsOptions {
  hostname: string;
  caCerts?: string[];
  alpnProtocols?: string[];
}

/** The TLS part of the `Deno` namespace, and what reading `CORRAL_TLS_PATH` takes. */
export interface DenoTlsNamespace {
  listenTls(options: DenoListenTlsOptions): DenoListener<DenoTlsConn>;
  connectTls(options: DenoConnectTlsOptions): Promise<DenoTlsConn>;
  startTls(conn: DenoTcpConn, options: DenoStartTlsOptions): Promise<DenoTlsConn>;
  readTextFile(path: string): Promise<string>;
  readonly env: { get(name: string): string | undefined };
  readonly permissions: { querySync(descriptor: { name: "env"; variable: string }): { state: string } };
}

/** The runtime's `Deno` namespace with its TLS functions. */
export const denoTls: DenoTlsNamespace & DenoNamespace = (globalThis as unknown as {
  Deno: DenoTlsNamespace & DenoNamespace;
}).Deno;
