/**
 * Hand-written declarations of the TLS part of Bun's socket API
 * (`Bun.listen` / `Bun.connect` with `tls`), checked against Bun 1.4.5, so
 * published code needs no `@types/bun`.
 *
 * @module
 */
import type { BunSocket, BunSocketHandler } from "./bun_types.ts";

/** A Bun socket with TLS: what its handshake negotiated. */
export interface BunTlsSocket<Data> extends BunSocket<Data> {
  /** `null` before the handshake, `false` when no protocol was agreed. */
  readonly alpnProtocol: string | false | null;
  /** Such as `"TLSv1.3"`. */
  getTLSVersion(): string | null;
  getCipher(): { name: string | null } | null;
  /** The SNI name the client sent (server side). */
  getServername?(): string | undefined;
  getPeerX509Certificate?(): { toString(): string } | undefined;
}

/** `Bun.listen` / `Bun.connect` TLS options (the subset Corral sets). */
export interface BunTlsOptions {
  cert?: string;
  key?: string;
  ca?: string[];
  /** Server: ask for a client certificate. */
  requestCert?: boolean;
  /** Server with `requestCert`: refuse unverified client certificates. Client: refuse an unverified server. */
  rejectUnauthorized?: boolean;
  /** ALPN protocols in wire format (length-prefixed names); Bun takes no array, nor a typed array, here. */
  ALPNProtocols?: ArrayBuffer;
  /** Client: the SNI name, also the name to verify. */
  serverName?: string;
  /** OpenSSL `SSL_OP_*` flags. */
  secureOptions?: number;
}

/** Handlers of a TLS socket: Bun's own plus `handshake`. */
export interface BunTlsHandler<Data> extends BunSocketHandler<Data> {
  /**
   * The handshake ended. `success` is false when it failed; a certificate
   * that did not verify is in `authorizationError` (with `success` true when
   * the side does not insist on verification).
   */
  handshake?(socket: BunTlsSocket<Data>, success: boolean, authorizationError: Error | null): void;
}

/** `Bun.listen` on TCP with TLS. */
export interface BunTlsListenOptions<Data> {
  hostname: string;
  port: number;
  backlog?: number;
  reusePort?: boolean;
  allowHalfOpen?: boolean;
  tls: BunTlsOptions;
  socket: BunTlsHandler<Data>;
}

/** `Bun.connect` over TCP with TLS. */
export interface BunTlsConnectOptions<Data> {
  hostname: string;
  port: number;
  allowHalfOpen?: boolean;
  tls: BunTlsOptions;
  data: Data;
  socket: BunTlsHandler<Data>;
}

/** `SSL_OP_NO_TLSv1_2`: with Bun's own floor of TLS 1.2, this leaves TLS 1.3 only. */
export const SSL_OP_NO_TLS_1_2 = 0x08000000;

/** ALPN protocol names in the wire format OpenSSL takes: each name after its length byte. */
export function alpnWireFormat(protocols: string[]): ArrayBuffer {
  const encoded = protocols.map((name) => new TextEncoder().encode(name));
  const out = new Uint8Array(encoded.reduce((total, name) => total + 1 + name.length, 0));
  let offset = 0;
  for (const name of encoded) {
    out[offset++] = name.length;
    out.set(name, offset);
    offset += name.length;
  }
  return out.buffer;
}
