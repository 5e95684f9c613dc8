/**
 * Certificates and keys given as PEM text or file paths, read into the
 * PEM-only settings the runtime adapters take. Files are read at every
 * `listen()`, so a listener resumed after a certificate renewal serves the
 * new one. Nothing here ever puts a key's text into a message.
 *
 * @module
 */
import { TLS_CONFIG, TlsConfigError } from "../../src/tls_config_error.ts";
import type { RuntimeAdapter, TlsClientConfig, TlsKeyPair, TlsServerConfig } from "../../src/runtime/adapter.ts";
import {
  isPem,
  type TlsCertificate,
  type TlsClientUpgradeOptions,
  type TlsConnectOptions,
  type TlsOptions,
  type TlsSniCallback,
} from "./options.ts";

type Read = RuntimeAdapter["readTextFile"];

/** Reads a PEM source: the text itself, or the file at that path. */
async function pem(read: Read, where: string, source: string): Promise<string> {
  if (isPem(source)) return source;
  try {
    return await read(source);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    const reason = error instanceof Error ? error.message : String(error);
    // The file's own code (ENOENT, EACCES, EISDIR ...) is the one every runtime reports.
    throw new TlsConfigError(
      typeof code === "string" && /^E[A-Z]+$/.test(code) ? code : TLS_CONFIG,
      `${where}: cannot read ${JSON.stringify(source)}: ${reason}`,
      { cause: error },
    );
  }
}

async function keyPair(read: Read, where: string, cert: string, key: string): Promise<TlsKeyPair> {
  const [certPem, keyPem] = await Promise.all([pem(read, `${where} cert`, cert), pem(read, `${where} key`, key)]);
  return { cert: certPem, key: keyPem };
}

async function caList(read: Read, where: string, ca: string | string[] | undefined): Promise<string[] | undefined> {
  if (ca === undefined) return undefined;
  return await Promise.all((Array.isArray(ca) ? ca : [ca]).map((one) => pem(read, where, one)));
}

/** SNI names compare in lower case, without a trailing dot. */
function normalizeName(name: string): string {
  return name.toLowerCase().replace(/\.$/, "");
}

/** The server's settings, every certificate read. Undefined `keyPair` and `selectKeyPair`: no certificate at all. */
export async function serverConfig(read: Read, options: Readonly<TlsOptions>): Promise<TlsServerConfig> {
  const [pair, ca, sni] = await Promise.all([
    options.cert !== undefined ? keyPair(read, "tls() option", options.cert, options.key!) : undefined,
    caList(read, "tls() option ca", options.ca),
    sniSelector(read, options.sni),
  ]);
  return {
    keyPair: pair,
    selectKeyPair: sni?.select,
    sniKeyPairs: sni?.known ?? [],
    ca,
    alpnProtocols: options.alpnProtocols,
    requestCert: options.requestCert ?? false,
    rejectUnauthorized: options.rejectUnauthorized ?? true,
    minVersion: options.minVersion ?? "TLSv1.2",
    detectTruncation: options.detectTruncation ?? false,
  };
}

/** The SNI selector, and the key pairs known up front (a map's; none for a callback). */
interface SniSelector {
  select: NonNullable<TlsServerConfig["selectKeyPair"]>;
  known: TlsKeyPair[];
}

async function sniSelector(read: Read, sni: TlsOptions["sni"]): Promise<SniSelector | undefined> {
  if (sni === undefined) return undefined;
  if (typeof sni === "function") return { select: sniCallback(read, sni), known: [] };
  const byName = new Map<string, TlsKeyPair>();
  await Promise.all(
    Object.entries(sni).map(async ([name, entry]) => {
      byName.set(
        normalizeName(name),
        await keyPair(read, `tls() option sni[${JSON.stringify(name)}]`, entry.cert, entry.key),
      );
    }),
  );
  const select = (serverName: string) => {
    const name = normalizeName(serverName);
    const dot = name.indexOf(".");
    return Promise.resolve(byName.get(name) ?? (dot > 0 ? byName.get(`*${name.slice(dot)}`) : undefined));
  };
  return { select, known: [...byName.values()] };
}

/** Each certificate object the callback returns is read once and answered with the same key pair. */
function sniCallback(read: Read, callback: TlsSniCallback): NonNullable<TlsServerConfig["selectKeyPair"]> {
  const loaded = new WeakMap<TlsCertificate, Promise<TlsKeyPair>>();
  return async (serverName) => {
    const found = await callback(normalizeName(serverName));
    if (found === undefined) return undefined;
    if (
      found === null || typeof found !== "object" || typeof found.cert !== "string" || typeof found.key !== "string"
    ) {
      throw new TypeError("tls() option sni: the callback must return { cert, key } or undefined");
    }
    let pair = loaded.get(found);
    if (pair === undefined) {
      pair = keyPair(read, "tls() option sni callback's", found.cert, found.key);
      loaded.set(found, pair);
    }
    return await pair;
  };
}

/** The client's settings, every certificate read. */
export async function clientConfig(
  read: Read,
  where: string,
  options: TlsConnectOptions | TlsClientUpgradeOptions,
): Promise<TlsClientConfig> {
  const [pair, ca] = await Promise.all([
    options.cert !== undefined ? keyPair(read, `${where} option`, options.cert, options.key!) : undefined,
    caList(read, `${where} option ca`, options.ca),
  ]);
  return {
    serverName: options.serverName,
    ca,
    keyPair: pair,
    alpnProtocols: options.alpnProtocols,
    rejectUnauthorized: options.rejectUnauthorized ?? true,
    minVersion: options.minVersion ?? "TLSv1.2",
    // An upgrade always runs node:tls over a stream Corral reads, so it always tells.
    detectTruncation: (options as TlsConnectOptions).detectTruncation ?? false,
  };
}

/** What `options` shows of a key: a path as is, PEM text as a placeholder. */
const REDACTED = "[private key redacted]";

/** The options with every private key's PEM text replaced, safe to log (`listener.info()`). */
export function redactKeys(options: Readonly<TlsOptions>): Readonly<TlsOptions> {
  const hide = (key: string) => (isPem(key) ? REDACTED : key);
  const shown: TlsOptions = { ...options };
  if (options.key !== undefined) shown.key = hide(options.key);
  if (options.sni !== undefined && typeof options.sni !== "function") {
    shown.sni = Object.fromEntries(
      Object.entries(options.sni).map(([name, entry]) => [name, { cert: entry.cert, key: hide(entry.key) }]),
    );
  }
  return Object.freeze(shown);
}
