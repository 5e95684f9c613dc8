/**
 * The TLVs (type, 16-bit length, value) after a v2 header's addresses,
 * read into `ProxyTlvs`: `CRC32C` verified, `NOOP` dropped, unknown ones
 * kept raw. The type codes here are shared with `_proxy_tlv_write.ts`.
 *
 * @module
 */
import { crc32c } from "./crc32c.ts";
import { ProxyHeaderError } from "../errors.ts";
import type { ProxySslInfo, ProxyTlvs } from "./types.ts";

// Type codes (PP2_TYPE_* and PP2_SUBTYPE_SSL_*) and PP2_CLIENT_* flags of the spec's section 2.2.
export const ALPN = 0x01;
export const AUTHORITY = 0x02;
export const CRC32C = 0x03;
export const NOOP = 0x04;
export const UNIQUE_ID = 0x05;
export const SSL = 0x20;
export const NETNS = 0x30;
const SSL_VERSION = 0x21;
const SSL_CN = 0x22;
const SSL_CIPHER = 0x23;
const SSL_SIG_ALG = 0x24;
const SSL_KEY_ALG = 0x25;

/** The SSL sub-TLVs `ProxySslInfo` has a field for, by type code. */
export const SSL_FIELDS = [
  [SSL_VERSION, "version"],
  [SSL_CN, "commonName"],
  [SSL_CIPHER, "cipher"],
  [SSL_SIG_ALG, "signatureAlgorithm"],
  [SSL_KEY_ALG, "keyAlgorithm"],
] as const;
export const UNIQUE_ID_MAX = 128;
export const CLIENT_SSL = 0x01;
export const CLIENT_CERT_CONN = 0x02;
export const CLIENT_CERT_SESS = 0x04;

const decoder = new TextDecoder();

/** UTF-8 text of `bytes[start, end)`; the short ASCII values TLVs hold skip TextDecoder's call cost. */
function decodeText(bytes: Uint8Array, start: number, end: number): string {
  if (end - start > 64) return decoder.decode(bytes.subarray(start, end));
  let text = "";
  for (let i = start; i < end; i++) {
    const c = bytes[i]!;
    if (c >= 0x80) return decoder.decode(bytes.subarray(start, end));
    text += String.fromCharCode(c);
  }
  return text;
}

function tlvError(what: string): ProxyHeaderError {
  return new ProxyHeaderError("EPROXY_TLV", `malformed PROXY v2 TLV: ${what}`);
}

/**
 * Reads the TLVs in `bytes[start, end)`, where `bytes[0, end)` is the whole
 * header (the `CRC32C` TLV covers all of it).
 */
export function parseTlvs(bytes: Uint8Array, start: number, end: number): ProxyTlvs {
  const tlvs: ProxyTlvs = {};
  for (let i = start; i < end;) {
    if (end - i < 3) throw tlvError(`${end - i} stray byte(s) after the last TLV`);
    const type = bytes[i]!;
    const valueStart = i + 3;
    const valueEnd = valueStart + ((bytes[i + 1]! << 8) | bytes[i + 2]!);
    if (valueEnd > end) throw tlvError(`type 0x${type.toString(16)} runs ${valueEnd - end} byte(s) past the header`);
    switch (type) {
      case ALPN:
        tlvs.alpn = decodeText(bytes, valueStart, valueEnd);
        break;
      case AUTHORITY:
        tlvs.authority = decodeText(bytes, valueStart, valueEnd);
        break;
      case CRC32C:
        verifyChecksum(bytes, valueStart, valueEnd, end);
        break;
      case NOOP:
        break;
      case UNIQUE_ID:
        if (valueEnd - valueStart > UNIQUE_ID_MAX) {
          throw tlvError(`UNIQUE_ID is ${valueEnd - valueStart} bytes, more than ${UNIQUE_ID_MAX}`);
        }
        tlvs.uniqueId = bytes.slice(valueStart, valueEnd);
        break;
      case SSL:
        tlvs.ssl = parseSsl(bytes, valueStart, valueEnd);
        break;
      case NETNS:
        tlvs.netns = decodeText(bytes, valueStart, valueEnd);
        break;
      default:
        (tlvs.unknown ??= []).push({ type, value: bytes.slice(valueStart, valueEnd) });
    }
    i = valueEnd;
  }
  return tlvs;
}

function verifyChecksum(bytes: Uint8Array, valueStart: number, valueEnd: number, end: number): void {
  if (valueEnd - valueStart !== 4) throw tlvError(`CRC32C is ${valueEnd - valueStart} bytes, not 4`);
  const sent = ((bytes[valueStart]! << 24) | (bytes[valueStart + 1]! << 16) | (bytes[valueStart + 2]! << 8) |
    bytes[valueStart + 3]!) >>> 0;
  // The checksum is over the whole header with its own 4 bytes read as zeros.
  let crc = crc32c(bytes.subarray(0, valueStart));
  crc = crc32c(ZEROS, crc);
  crc = crc32c(bytes.subarray(valueEnd, end), crc);
  if (crc !== sent) {
    throw new ProxyHeaderError(
      "EPROXY_CHECKSUM",
      `PROXY v2 header fails its CRC32C check (sent 0x${sent.toString(16)}, computed 0x${crc.toString(16)})`,
    );
  }
}

const ZEROS = new Uint8Array(4);

function parseSsl(bytes: Uint8Array, start: number, end: number): ProxySslInfo {
  if (end - start < 5) throw tlvError(`SSL is ${end - start} bytes, shorter than its 5-byte client and verify fields`);
  const client = bytes[start]!;
  const verify = (bytes[start + 1]! | bytes[start + 2]! | bytes[start + 3]! | bytes[start + 4]!) === 0;
  const ssl: ProxySslInfo = {
    ssl: (client & CLIENT_SSL) !== 0,
    certificateOnConnection: (client & CLIENT_CERT_CONN) !== 0,
    certificateInSession: (client & CLIENT_CERT_SESS) !== 0,
    verified: verify,
  };
  for (let i = start + 5; i < end;) {
    if (end - i < 3) throw tlvError(`${end - i} stray byte(s) after the last SSL sub-TLV`);
    const type = bytes[i]!;
    const valueStart = i + 3;
    const valueEnd = valueStart + ((bytes[i + 1]! << 8) | bytes[i + 2]!);
    if (valueEnd > end) throw tlvError(`SSL sub-TLV 0x${type.toString(16)} runs past the SSL TLV`);
    const field = type >= SSL_VERSION && type <= SSL_KEY_ALG ? SSL_FIELDS[type - SSL_VERSION] : undefined;
    if (field !== undefined) ssl[field[1]] = decodeText(bytes, valueStart, valueEnd);
    else (ssl.unknown ??= []).push({ type, value: bytes.slice(valueStart, valueEnd) });
    i = valueEnd;
  }
  return ssl;
}
