/**
 * The `tls` transport's option types and their checks. A wrong option fails
 * at once with a `TypeError` or `RangeError` naming it; a private key's text
 * never appears in those messages.
 *
 * @module
 */
import { booleanOption, describe, rejectUnknownOptions, stringOption } from "../../src/options.ts";
import type { TlsMinVersion } from "../../src/runtime/adapter.ts";
import type { TcpConnectOptions, TcpOptions } from "../tcp/options.ts";
import { checkTcpListenOptions, TCP_CONNECT_KEYS, TCP_LISTEN_KEYS } from "../tcp/options.ts";

/** A certificate chain and its private key: each PEM text or the path of a PEM file. */
export interface TlsCertificate {
  /** The certificate chain, leaf first (PEM text or a file path). */
  cert: string;
  /** The private key (PEM text or a file path). */
  key: string;
}

/**
 * Picks the certificate for a client's SNI server name (lower case, no
 * trailing dot); `undefined` means "none for this name": the default
 * certificate is used if there is one, else the handshake fails. Return the
 * same object for the same certificate: it is loaded once per object.
 */
export type TlsSniCallback = (
  serverName: string,
) => TlsCertificate | undefined | Promise<TlsCertificate | undefined>;

/** Listen options of `tls()`: the TCP ones plus the server's TLS settings. */
export interface TlsOptions extends Omit<TcpOptions, "fd"> {
  /** The default certificate chain (PEM text or a file path); goes with `key`. */
  cert?: string;
  /** The default certificate's private key (PEM text or a file path); goes with `cert`. Shown redacted in `options`. */
  key?: string;
  /** CAs that verify client certificates (with `requestCert`): PEM text or file paths. */
  ca?: string | string[];
  /**
   * Certificates chosen by the client's SNI server name: a map of names
   * (`"*.example.com"` matches one label) to certificates, or a function.
   * `cert`/`key` is the default for other names; without it, other names are refused.
   */
  sni?: Record<string, TlsCertificate> | TlsSniCallback;
  /** ALPN protocols the server accepts, most preferred first. */
  alpnProtocols?: string[];
  /** Ask clients for a certificate (mTLS). Default false. */
  requestCert?: boolean;
  /** With `requestCert`: refuse clients whose certificate does not verify against `ca`. Default true. */
  rejectUnauthorized?: boolean;
  /** Lowest protocol version: `"TLSv1.2"` (the default) or `"TLSv1.3"`. */
  minVersion?: TlsMinVersion;
  /**
   * Tell a peer's close_notify from a bare close: `socket.tls.closeNotify`
   * is `true` or `false` once the stream ends (a truncated stream still ends
   * cleanly). Runs `node:tls` over Corral's own view of the TCP stream, a
   * little slower. On Bun a listener with it cannot reply once its client
   * has sent close_notify (the send fails with `ClosedError` `EPIPE`).
   * Default false.
   */
  detectTruncation?: boolean;
}

/** Options of `tls().connect()`: the TCP ones plus the client's TLS settings. */
export interface TlsConnectOptions extends TcpConnectOptions {
  /** The SNI name, which the server certificate must match. Default: `host` (no SNI is sent for an IP address). */
  serverName?: string;
  /** CAs that verify the server (PEM text or file paths). Default: the runtime's trusted roots. */
  ca?: string | string[];
  /** A client certificate, for servers that ask (PEM text or a file path); goes with `key`. */
  cert?: string;
  /** The client certificate's private key (PEM text or a file path). */
  key?: string;
  /** ALPN protocols offered, most preferred first. */
  alpnProtocols?: string[];
  /** Refuse a server whose certificate does not verify (chain and name). Default true. */
  rejectUnauthorized?: boolean;
  /** Lowest protocol version: `"TLSv1.2"` (the default) or `"TLSv1.3"`. */
  minVersion?: TlsMinVersion;
  /** Tell the server's close_notify from a bare close in `socket.tls.closeNotify`, as `tls()`'s option. Default false. */
  detectTruncation?: boolean;
}

/** The server side of `tls(options).upgrade()`: the certificates are the transport's own. */
export interface TlsServerUpgradeOptions {
  /** This end accepts the handshake. */
  isServer: true;
  /** Ms the handshake may take. Default 5000; `Infinity` allowed. */
  timeout?: number;
}

/**
 * The client side of `tls().upgrade()`: the `connect()` TLS options, minus
 * where to connect (and `detectTruncation`: an upgrade always tells).
 */
export interface TlsClientUpgradeOptions
  extends Omit<TlsConnectOptions, "host" | "port" | "noDelay" | "keepAlive" | "detectTruncation"> {
  /** This end starts the handshake. Default false. */
  isServer?: false;
  /** The name to check the certificate against when `serverName` is not given. Default: the peer's address. */
  host?: string;
  /** Ms the handshake may take. Default 5000; `Infinity` allowed. */
  timeout?: number;
}

/** Options of `tls().upgrade()`: which side this end plays in the STARTTLS handshake. */
export type TlsUpgradeOptions = TlsServerUpgradeOptions | TlsClientUpgradeOptions;

const SERVER_TLS_KEYS = [
  "cert",
  "key",
  "ca",
  "sni",
  "alpnProtocols",
  "requestCert",
  "rejectUnauthorized",
  "minVersion",
  "detectTruncation",
];
const CLIENT_TLS_KEYS = ["serverName", "ca", "cert", "key", "alpnProtocols", "rejectUnauthorized", "minVersion"];

/** The listen option names, for `rejectUnknownOptions`. */
const LISTEN_KEYS: readonly string[] = [...TCP_LISTEN_KEYS, ...SERVER_TLS_KEYS];
/** The connect option names. */
export const CONNECT_KEYS: readonly string[] = [...TCP_CONNECT_KEYS, ...CLIENT_TLS_KEYS, "detectTruncation"];
/** The client-side upgrade option names. */
export const CLIENT_UPGRADE_KEYS: readonly string[] = ["isServer", "host", "timeout", ...CLIENT_TLS_KEYS];

/** Checks listen options; returns a frozen copy. */
export function checkListenOptions(options: TlsOptions): Readonly<TlsOptions> {
  if (options === null || typeof options !== "object") {
    throw new TypeError(`tls() options must be an object, got ${describe(options)}`);
  }
  rejectUnknownOptions("tls()", options, LISTEN_KEYS);
  checkTcpListenOptions("tls()", options);
  checkKeyPair("tls()", options.cert, options.key);
  checkCa("tls() option ca", options.ca);
  checkSni(options.sni);
  checkAlpn("tls() option alpnProtocols", options.alpnProtocols);
  booleanOption("tls() option requestCert", options.requestCert, false);
  booleanOption("tls() option rejectUnauthorized", options.rejectUnauthorized, true);
  checkMinVersion("tls() option minVersion", options.minVersion);
  booleanOption("tls() option detectTruncation", options.detectTruncation, false);
  const copy: TlsOptions = { ...options };
  if (Array.isArray(options.ca)) copy.ca = [...options.ca];
  if (Array.isArray(options.alpnProtocols)) copy.alpnProtocols = [...options.alpnProtocols];
  if (options.sni !== undefined && typeof options.sni !== "function") copy.sni = { ...options.sni };
  return Object.freeze(copy);
}

/** Checks the TLS options shared by `connect()` and the client side of `upgrade()`. */
export function checkClientTlsOptions(where: string, options: TlsClientUpgradeOptions | TlsConnectOptions): void {
  stringOption(`${where} option serverName`, options.serverName);
  checkCa(`${where} option ca`, options.ca);
  checkKeyPair(where, options.cert, options.key);
  checkAlpn(`${where} option alpnProtocols`, options.alpnProtocols);
  booleanOption(`${where} option rejectUnauthorized`, options.rejectUnauthorized, true);
  checkMinVersion(`${where} option minVersion`, options.minVersion);
  booleanOption(`${where} option detectTruncation`, (options as TlsConnectOptions).detectTruncation, false);
}

/** A handshake timeout in ms: a number >= 0 or `Infinity`; 5000 when undefined. */
export function timeoutOption(name: string, value: unknown): number {
  if (value === undefined) return 5000;
  if (typeof value !== "number" || !(value >= 0)) {
    throw new RangeError(`${name} must be a number of ms >= 0 or Infinity, got ${describe(value)}`);
  }
  return value;
}

/** Whether a certificate string is PEM text rather than a file path. */
export function isPem(value: string): boolean {
  return value.includes("-----BEGIN ");
}

/** `cert` and `key` go together; the key's text is never echoed back. */
function checkKeyPair(where: string, cert: unknown, key: unknown): void {
  if (cert !== undefined && (typeof cert !== "string" || cert === "")) {
    throw new TypeError(`${where} option cert must be PEM text or a file path, got ${describe(cert)}`);
  }
  if (key !== undefined && (typeof key !== "string" || key === "")) {
    const got = typeof key === "string" ? "an empty string" : typeof key;
    throw new TypeError(`${where} option key must be PEM text or a file path, got ${got}`);
  }
  if ((cert === undefined) !== (key === undefined)) {
    throw new TypeError(`${where} options cert and key go together: give both or neither`);
  }
}

function checkCa(name: string, ca: unknown): void {
  if (ca === undefined || (typeof ca === "string" && ca !== "")) return;
  if (Array.isArray(ca) && ca.length > 0 && ca.every((one) => typeof one === "string" && one !== "")) return;
  throw new TypeError(`${name} must be PEM text or a file path, or a non-empty array of them, got ${describe(ca)}`);
}

function checkSni(sni: unknown): void {
  if (sni === undefined || typeof sni === "function") return;
  if (sni === null || typeof sni !== "object" || Array.isArray(sni)) {
    throw new TypeError(
      `tls() option sni must be an object of server names to { cert, key } or a function, got ${describe(sni)}`,
    );
  }
  const names = Object.keys(sni);
  if (names.length === 0) throw new TypeError("tls() option sni must name at least one server name");
  for (const name of names) {
    if (!/^(\*\.)?[a-z0-9-]+(\.[a-z0-9-]+)*$/i.test(name)) {
      throw new TypeError(`tls() option sni: ${JSON.stringify(name)} is not a host name (or "*." and a host name)`);
    }
    const entry = (sni as Record<string, unknown>)[name];
    if (entry === null || typeof entry !== "object") {
      throw new TypeError(`tls() option sni[${JSON.stringify(name)}] must be { cert, key }, got ${describe(entry)}`);
    }
    const { cert, key } = entry as Partial<TlsCertificate>;
    checkKeyPair(`tls() option sni[${JSON.stringify(name)}]`, cert, key);
    if (cert === undefined) throw new TypeError(`tls() option sni[${JSON.stringify(name)}] needs cert and key`);
  }
}

function checkAlpn(name: string, alpn: unknown): void {
  if (alpn === undefined) return;
  if (!Array.isArray(alpn) || alpn.length === 0) {
    throw new TypeError(`${name} must be a non-empty array of protocol names, got ${describe(alpn)}`);
  }
  for (const protocol of alpn) {
    if (typeof protocol !== "string" || protocol === "") {
      throw new TypeError(`${name} must hold non-empty strings, got ${describe(protocol)}`);
    }
    if (new TextEncoder().encode(protocol).length > 255) {
      throw new RangeError(`${name}: each protocol name is at most 255 bytes, got ${describe(protocol)}`);
    }
  }
}

function checkMinVersion(name: string, value: unknown): void {
  if (value === undefined || value === "TLSv1.2" || value === "TLSv1.3") return;
  throw new RangeError(`${name} must be "TLSv1.2" or "TLSv1.3", got ${describe(value)}`);
}
