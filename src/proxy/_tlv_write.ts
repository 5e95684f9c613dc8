/**
 * Writing `ProxyTlvs` back into v2 TLVs (in Ranch's order), after checking
 * what `buildProxyHeader` was given: a typo, a wrong type or a value too
 * long throws TypeError/RangeError naming the field.
 *
 * @module
 */
import {
  ALPN,
  AUTHORITY,
  CLIENT_CERT_CONN,
  CLIENT_CERT_SESS,
  CLIENT_SSL,
  CRC32C,
  NETNS,
  NOOP,
  SSL,
  SSL_FIELDS,
  UNIQUE_ID,
  UNIQUE_ID_MAX,
} from "./_tlv.ts";
import type { ProxyRawTlv, ProxySslInfo, ProxyTlvs } from "./types.ts";

/** Top-level types `ProxyTlvs` has a field for; an unknown TLV may not use them. */
const KNOWN_TYPES: readonly number[] = [ALPN, AUTHORITY, CRC32C, NOOP, UNIQUE_ID, SSL, NETNS];
const TLV_KEYS: readonly string[] = ["alpn", "authority", "uniqueId", "ssl", "netns", "unknown"];
const SSL_KEYS: readonly string[] = [
  "ssl",
  "certificateOnConnection",
  "certificateInSession",
  "verified",
  ...SSL_FIELDS.map(([, key]) => key),
  "unknown",
];

const encoder = new TextEncoder();

/** Validates `ProxyTlvs` given to `buildProxyHeader` (a typo or a wrong type throws). */
export function checkTlvs(tlvs: ProxyTlvs): ProxyTlvs {
  if (tlvs === null || typeof tlvs !== "object") {
    throw new TypeError(`buildProxyHeader(): header.tlvs must be an object, got ${String(tlvs)}`);
  }
  checkKeys("header.tlvs", tlvs, TLV_KEYS);
  for (const key of ["alpn", "authority", "netns"] as const) checkString(`header.tlvs.${key}`, tlvs[key]);
  if (tlvs.uniqueId !== undefined) {
    if (!(tlvs.uniqueId instanceof Uint8Array) || tlvs.uniqueId.length > UNIQUE_ID_MAX) {
      throw new RangeError(`buildProxyHeader(): header.tlvs.uniqueId must be a Uint8Array of at most 128 bytes`);
    }
  }
  if (tlvs.ssl !== undefined) {
    const ssl = tlvs.ssl;
    if (ssl === null || typeof ssl !== "object") {
      throw new TypeError("buildProxyHeader(): header.tlvs.ssl must be an object");
    }
    checkKeys("header.tlvs.ssl", ssl, SSL_KEYS);
    for (const key of ["ssl", "certificateOnConnection", "certificateInSession", "verified"] as const) {
      if (typeof ssl[key] !== "boolean") {
        throw new TypeError(`buildProxyHeader(): header.tlvs.ssl.${key} must be a boolean`);
      }
    }
    for (const [, key] of SSL_FIELDS) checkString(`header.tlvs.ssl.${key}`, ssl[key]);
    checkRaw("header.tlvs.ssl.unknown", ssl.unknown, SSL_FIELDS.map(([code]) => code));
  }
  checkRaw("header.tlvs.unknown", tlvs.unknown, KNOWN_TYPES);
  return tlvs;
}

function checkKeys(name: string, value: object, known: readonly string[]): void {
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) {
      throw new TypeError(`buildProxyHeader(): ${name} has unknown field "${key}"; known: ${known.join(", ")}`);
    }
  }
}

function checkString(name: string, value: unknown): void {
  if (value !== undefined && typeof value !== "string") {
    throw new TypeError(`buildProxyHeader(): ${name} must be a string, got ${typeof value}`);
  }
}

function checkRaw(name: string, list: ProxyRawTlv[] | undefined, reserved: readonly number[]): void {
  if (list === undefined) return;
  if (!Array.isArray(list)) throw new TypeError(`buildProxyHeader(): ${name} must be an array of { type, value }`);
  for (const tlv of list) {
    if (!Number.isInteger(tlv?.type) || tlv.type < 0 || tlv.type > 255 || reserved.includes(tlv.type)) {
      throw new RangeError(
        `buildProxyHeader(): ${name} types must be integers from 0 to 255 other than ${
          reserved.map((t) => `0x${t.toString(16)}`).join(", ")
        } (those have their own fields), got ${String(tlv?.type)}`,
      );
    }
    if (!(tlv.value instanceof Uint8Array)) {
      throw new TypeError(`buildProxyHeader(): ${name} values must be Uint8Arrays`);
    }
  }
}

/** One TLV ready to write. */
interface Encoded {
  type: number;
  value: Uint8Array;
}

/** The TLVs of `tlvs` in the order they are written (Ranch's order), plus `padding` bytes of NOOP. */
export function encodeTlvs(tlvs: ProxyTlvs, padding: number): Encoded[] {
  const out: Encoded[] = [];
  if (tlvs.alpn !== undefined) out.push({ type: ALPN, value: encoder.encode(tlvs.alpn) });
  if (tlvs.authority !== undefined) out.push({ type: AUTHORITY, value: encoder.encode(tlvs.authority) });
  if (tlvs.uniqueId !== undefined) out.push({ type: UNIQUE_ID, value: tlvs.uniqueId });
  if (tlvs.ssl !== undefined) out.push({ type: SSL, value: encodeSsl(tlvs.ssl) });
  if (tlvs.netns !== undefined) out.push({ type: NETNS, value: encoder.encode(tlvs.netns) });
  for (const raw of tlvs.unknown ?? []) out.push(raw);
  if (padding > 0) out.push({ type: NOOP, value: new Uint8Array(padding - 3) });
  for (const tlv of out) {
    if (tlv.value.length > 65535) {
      throw new RangeError(
        `buildProxyHeader(): TLV 0x${tlv.type.toString(16)} is ${tlv.value.length} bytes, over 65535`,
      );
    }
  }
  return out;
}

function encodeSsl(ssl: ProxySslInfo): Uint8Array {
  const subs: Encoded[] = [];
  for (const [type, key] of SSL_FIELDS) {
    const value = ssl[key];
    if (value !== undefined) subs.push({ type, value: encoder.encode(value) });
  }
  for (const raw of ssl.unknown ?? []) subs.push(raw);
  const out = new Uint8Array(5 + encodedLength(subs));
  out[0] = (ssl.ssl ? CLIENT_SSL : 0) | (ssl.certificateOnConnection ? CLIENT_CERT_CONN : 0) |
    (ssl.certificateInSession ? CLIENT_CERT_SESS : 0);
  out[4] = ssl.verified ? 0 : 1;
  writeTlvs(out, 5, subs);
  return out;
}

/** Bytes `list` takes once written. */
export function encodedLength(list: Encoded[]): number {
  let length = 0;
  for (const tlv of list) length += 3 + tlv.value.length;
  return length;
}

/** Writes `list` into `out` at `offset`; returns the offset after it. */
export function writeTlvs(out: Uint8Array, offset: number, list: Encoded[]): number {
  for (const tlv of list) {
    out[offset] = tlv.type;
    out[offset + 1] = tlv.value.length >> 8;
    out[offset + 2] = tlv.value.length & 0xff;
    out.set(tlv.value, offset + 3);
    offset += 3 + tlv.value.length;
  }
  return offset;
}
