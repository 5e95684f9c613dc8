/**
 * The PROXY protocol (versions 1 and 2), Ranch's `ranch_proxy_header`: a
 * load balancer such as HAProxy, nginx or AWS NLB prepends one header to
 * each connection saying who the client really is. `parseProxyHeader` reads
 * one from bytes, `buildProxyHeader` writes one.
 *
 * A listener started with `proxyHeader: true` reads the header itself in
 * `conn.handshake()` and exposes it as `conn.proxyHeader`.
 *
 * @module
 */
import { ProxyHeaderError } from "../errors.ts";
import { buildV1, parseV1 } from "./_v1.ts";
import { buildV2, parseV2, V2_SIGNATURE } from "./_v2.ts";
import { checkHeader } from "./_check.ts";
import type { BuildProxyHeaderOptions, ProxyHeaderInit, ProxyHeaderParseResult } from "./types.ts";

export type {
  BuildProxyHeaderOptions,
  IncompleteProxyHeader,
  ParsedProxyHeader,
  ProxyCommand,
  ProxyFamily,
  ProxyHeader,
  ProxyHeaderErrorCode,
  ProxyHeaderInit,
  ProxyHeaderParseResult,
  ProxyProtocol,
  ProxyRawTlv,
  ProxySslInfo,
  ProxyTlvs,
} from "./types.ts";

/** The shortest possible header (`PROXY UNKNOWN\r\n`), so the first read of a stream may safely take this many bytes. */
export const PROXY_MIN_LENGTH = 15;

/**
 * Reads a PROXY protocol header (v1 or v2, told apart by their signatures)
 * from the start of `bytes`. Returns the header, its length and the bytes
 * after it; or, when `bytes` is a valid but incomplete beginning,
 * `{ header: undefined, needMore }`. Throws `ProxyHeaderError` (see
 * {@linkcode ProxyHeaderErrorCode}) as soon as the bytes cannot be a header.
 * Never looks past the header's declared end.
 *
 * @param bytes The start of a stream: a whole header and what follows it, or only part of a header.
 * @returns `{ header, length, rest }` for a complete header (`rest` is a view of `bytes`, not a copy);
 * `{ header: undefined, needMore }` when at least `needMore` more bytes are needed.
 * @throws {ProxyHeaderError} When the bytes cannot start a valid header; `code` names the problem.
 * @throws {TypeError} When `bytes` is not a `Uint8Array`.
 *
 * @example The example line of the spec, followed by the request it carries
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseProxyHeader } from "./proxy_header.ts";
 * const bytes = new TextEncoder().encode("PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\nGET / HTTP/1.1\r\n");
 * const result = parseProxyHeader(bytes);
 * assert(result.header !== undefined, "a complete header");
 * assert(result.header.sourceAddress === "192.168.0.1" && result.header.sourcePort === 56324);
 * assert(new TextDecoder().decode(result.rest) === "GET / HTTP/1.1\r\n");
 * ```
 *
 * @example Telling an incomplete header from a bad one
 * ```ts
 * import assert from "node:assert/strict";
 * import { ProxyHeaderError } from "../errors.ts";
 * import { parseProxyHeader } from "./proxy_header.ts";
 * const partial = parseProxyHeader(new TextEncoder().encode("PROXY TCP4 "));
 * assert(partial.header === undefined && partial.needMore > 0);
 * try {
 *   parseProxyHeader(new TextEncoder().encode("GET / HTTP/1.1\r\n"));
 *   assert(false);
 * } catch (error) {
 *   assert(error instanceof ProxyHeaderError && error.code === "EPROXY_SIGNATURE");
 * }
 * ```
 */
export function parseProxyHeader(bytes: Uint8Array): ProxyHeaderParseResult {
  if (!(bytes instanceof Uint8Array)) {
    throw new TypeError(`parseProxyHeader(bytes): bytes must be a Uint8Array, got ${typeof bytes}`);
  }
  if (bytes.length === 0) return { header: undefined, needMore: PROXY_MIN_LENGTH };
  const first = bytes[0];
  if (first === V2_SIGNATURE[0]) return parseV2(bytes);
  if (first === 0x50) return parseV1(bytes); // "P" of "PROXY"
  throw new ProxyHeaderError("EPROXY_SIGNATURE", "no PROXY protocol header: the bytes start with neither signature");
}

/**
 * Writes a PROXY protocol header: v1 text (`TCP4`, `TCP6`, `UNKNOWN`) or v2
 * binary (every family, protocol and TLV). Throws `TypeError`/`RangeError`
 * naming the field when `header` cannot be written in that version (a v1
 * header has no LOCAL command, no UNIX family and no TLVs).
 *
 * @param header The addresses, ports, command and TLVs to write; `header.version` picks the version.
 * @param options `version` (overrides `header.version`; default 2), `checksum: "crc32c"` and `padding`, both v2.
 * @returns The header's bytes, ready to send before the connection's own bytes.
 * @throws {TypeError} When a field or option has the wrong type, or does not exist in that version.
 * @throws {RangeError} When a number is out of range, such as a port above 65535 or `padding` below 3.
 *
 * @example A v2 header with a checksum, read back
 * ```ts
 * import assert from "node:assert/strict";
 * import { buildProxyHeader, parseProxyHeader } from "./proxy_header.ts";
 * const bytes = buildProxyHeader({
 *   family: "inet6",
 *   protocol: "stream",
 *   sourceAddress: "2001:db8::1",
 *   sourcePort: 50000,
 *   destinationAddress: "2001:db8::2",
 *   destinationPort: 443,
 *   tlvs: { alpn: "h2", authority: "example.com" },
 * }, { checksum: "crc32c" });
 * const { header } = parseProxyHeader(bytes);
 * assert(header?.version === 2 && header.tlvs.alpn === "h2" && header.sourceAddress === "2001:db8::1");
 * ```
 *
 * @example The v1 line a load balancer sends
 * ```ts
 * import assert from "node:assert/strict";
 * import { buildProxyHeader } from "./proxy_header.ts";
 * const line = buildProxyHeader({
 *   family: "inet",
 *   protocol: "stream",
 *   sourceAddress: "192.168.0.1",
 *   sourcePort: 56324,
 *   destinationAddress: "192.168.0.11",
 *   destinationPort: 443,
 * }, { version: 1 });
 * assert(new TextDecoder().decode(line) === "PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n");
 * ```
 */
export function buildProxyHeader(header: ProxyHeaderInit, options: BuildProxyHeaderOptions = {}): Uint8Array {
  const { version, checksum, padding } = checkBuildOptions(header, options);
  const checked = checkHeader(header, version);
  return version === 1 ? buildV1(checked) : buildV2(checked, checksum, padding);
}

function checkBuildOptions(
  header: ProxyHeaderInit,
  options: BuildProxyHeaderOptions,
): { version: 1 | 2; checksum: boolean; padding: number } {
  if (header === null || typeof header !== "object") {
    throw new TypeError(`buildProxyHeader(header): header must be an object, got ${header}`);
  }
  if (options === null || typeof options !== "object") {
    throw new TypeError(`buildProxyHeader(header, options): options must be an object, got ${options}`);
  }
  const version = options.version ?? header.version ?? 2;
  if (version !== 1 && version !== 2) {
    throw new RangeError(`buildProxyHeader() option version must be 1 or 2, got ${String(version)}`);
  }
  if (options.checksum !== undefined && options.checksum !== "crc32c") {
    throw new TypeError(`buildProxyHeader() option checksum must be "crc32c", got ${String(options.checksum)}`);
  }
  const padding = options.padding ?? 0;
  if (options.padding !== undefined && (!Number.isInteger(padding) || padding < 3 || padding > 65535)) {
    throw new RangeError(`buildProxyHeader() option padding must be an integer from 3 to 65535, got ${padding}`);
  }
  if (version === 1 && (options.checksum !== undefined || options.padding !== undefined)) {
    throw new TypeError("buildProxyHeader(): checksum and padding are TLVs, which only version 2 has");
  }
  return { version, checksum: options.checksum === "crc32c", padding };
}
