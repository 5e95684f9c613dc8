/**
 * PROXY protocol version 2: a 16-byte binary header (signature, version
 * and command, family and protocol, length) then the addresses and TLVs.
 * The length field says exactly where the header ends, so once 16 bytes
 * are in, a reader knows how many more to take.
 *
 * @module
 */
import { crc32c } from "./crc32c.ts";
import { ProxyHeaderError } from "../errors.ts";
import { formatIpv4, formatIpv6 } from "./_address.ts";
import type { CheckedHeader } from "./_check.ts";
import { CRC32C, parseTlvs } from "./_tlv.ts";
import { encodedLength, encodeTlvs, writeTlvs } from "./_tlv_write.ts";
import type { ProxyFamily, ProxyHeader, ProxyHeaderParseResult, ProxyProtocol } from "./types.ts";

/** `\r\n\r\n\0\r\nQUIT\n`: chosen by the spec to be invalid in every common protocol. */
export const V2_SIGNATURE: Uint8Array = new Uint8Array([
  0x0d,
  0x0a,
  0x0d,
  0x0a,
  0x00,
  0x0d,
  0x0a,
  0x51,
  0x55,
  0x49,
  0x54,
  0x0a,
]);

const FIXED = 16;
const FAMILIES: readonly ProxyFamily[] = ["unspec", "inet", "inet6", "unix"];
const PROTOCOLS: readonly ProxyProtocol[] = ["unspec", "stream", "dgram"];
/** Bytes of the address block per family code: two addresses, plus two ports for IP. */
const ADDRESS_LENGTH = [0, 12, 36, 216] as const;
const UNIX_PATH_MAX = 108;
const decoder = new TextDecoder();

/** Parses a v2 header at the start of `bytes` (which starts with `\r`). */
export function parseV2(bytes: Uint8Array): ProxyHeaderParseResult {
  const have = bytes.length;
  for (let i = 0; i < 12 && i < have; i++) {
    if (bytes[i] !== V2_SIGNATURE[i]) {
      throw new ProxyHeaderError(
        "EPROXY_SIGNATURE",
        "no PROXY protocol header: the bytes start with neither signature",
      );
    }
  }
  if (have <= 12) return { header: undefined, needMore: FIXED - have };
  const version = bytes[12]! >> 4;
  const command = bytes[12]! & 0x0f;
  if (version !== 2) throw new ProxyHeaderError("EPROXY_VERSION", `PROXY v2 header has version ${version}, not 2`);
  if (command > 1) throw new ProxyHeaderError("EPROXY_COMMAND", `PROXY v2 header has unassigned command ${command}`);
  const local = command === 0;
  if (have === 13) return { header: undefined, needMore: FIXED - have };
  const family = bytes[13]! >> 4;
  const protocol = bytes[13]! & 0x0f;
  // A LOCAL header's family is ignored by the spec, so only PROXY ones are checked.
  if (!local && family > 3) {
    throw new ProxyHeaderError("EPROXY_FAMILY", `PROXY v2 header has unassigned family ${family}`);
  }
  if (!local && protocol > 2) {
    throw new ProxyHeaderError("EPROXY_PROTOCOL", `PROXY v2 header has unassigned transport protocol ${protocol}`);
  }
  if (have < FIXED) return { header: undefined, needMore: FIXED - have };
  const total = FIXED + ((bytes[14]! << 8) | bytes[15]!);
  const addressed = !local && family !== 0 && protocol !== 0;
  if (addressed && total - FIXED < ADDRESS_LENGTH[family as 1 | 2 | 3]) {
    throw new ProxyHeaderError(
      "EPROXY_LENGTH",
      `PROXY v2 header length ${total - FIXED} is shorter than the ${
        ADDRESS_LENGTH[family as 1 | 2 | 3]
      } address bytes of family ${FAMILIES[family]}`,
    );
  }
  if (have < total) return { header: undefined, needMore: total - have };
  const header = local
    ? localHeader()
    : family === 0 && protocol === 0
    ? { ...localHeader(), command: "proxy" as const, tlvs: parseTlvs(bytes, FIXED, total) }
    : addressed
    ? addressedHeader(bytes, family, protocol, total)
    // One of family and protocol unspecified: the spec says to ignore the address block.
    : { ...localHeader(), command: "proxy" as const };
  return { header, length: total, rest: bytes.subarray(total) };
}

function localHeader(): ProxyHeader {
  return { version: 2, command: "local", family: "unspec", protocol: "unspec", tlvs: {} };
}

function addressedHeader(bytes: Uint8Array, family: number, protocol: number, total: number): ProxyHeader {
  const header: ProxyHeader = {
    version: 2,
    command: "proxy",
    family: FAMILIES[family]!,
    protocol: PROTOCOLS[protocol]!,
    tlvs: {},
  };
  const a = FIXED;
  if (family === 1) {
    header.sourceAddress = formatIpv4(bytes, a);
    header.sourcePort = (bytes[a + 8]! << 8) | bytes[a + 9]!;
    header.destinationAddress = formatIpv4(bytes, a + 4);
    header.destinationPort = (bytes[a + 10]! << 8) | bytes[a + 11]!;
  } else if (family === 2) {
    header.sourceAddress = formatIpv6(bytes, a);
    header.sourcePort = (bytes[a + 32]! << 8) | bytes[a + 33]!;
    header.destinationAddress = formatIpv6(bytes, a + 16);
    header.destinationPort = (bytes[a + 34]! << 8) | bytes[a + 35]!;
  } else {
    header.sourceAddress = unixPath(bytes, a);
    header.destinationAddress = unixPath(bytes, a + UNIX_PATH_MAX);
  }
  header.tlvs = parseTlvs(bytes, a + ADDRESS_LENGTH[family as 1 | 2 | 3], total);
  return header;
}

/** A NUL-terminated path in a 108-byte field (all 108 bytes when there is no NUL). */
function unixPath(bytes: Uint8Array, start: number): string {
  let end = start;
  while (end < start + UNIX_PATH_MAX && bytes[end] !== 0) end++;
  return decoder.decode(bytes.subarray(start, end));
}

/** Writes the v2 header for a checked header. */
export function buildV2(header: CheckedHeader, checksum: boolean, padding: number): Uint8Array {
  if (header.command === "local") {
    const out = new Uint8Array(FIXED);
    out.set(V2_SIGNATURE);
    out[12] = 0x20;
    return out;
  }
  const family = FAMILIES.indexOf(header.family);
  const addressLength = ADDRESS_LENGTH[family as 0 | 1 | 2 | 3];
  const tlvs = encodeTlvs(header.tlvs, padding);
  const length = addressLength + encodedLength(tlvs) + (checksum ? 7 : 0);
  if (length > 65535) {
    throw new RangeError(`buildProxyHeader(): the addresses and TLVs take ${length} bytes, more than 65535`);
  }
  const out = new Uint8Array(FIXED + length);
  out.set(V2_SIGNATURE);
  out[12] = 0x21;
  out[13] = (family << 4) | PROTOCOLS.indexOf(header.protocol);
  out[14] = length >> 8;
  out[15] = length & 0xff;
  if (header.family === "unix") {
    out.set(header.source!, FIXED);
    out.set(header.destination!, FIXED + UNIX_PATH_MAX);
  } else if (header.family !== "unspec") {
    const size = header.source!.length; // 4 or 16
    out.set(header.source!, FIXED);
    out.set(header.destination!, FIXED + size);
    const ports = FIXED + 2 * size;
    out[ports] = header.sourcePort >> 8;
    out[ports + 1] = header.sourcePort & 0xff;
    out[ports + 2] = header.destinationPort >> 8;
    out[ports + 3] = header.destinationPort & 0xff;
  }
  let offset = writeTlvs(out, FIXED + addressLength, tlvs);
  if (checksum) {
    // The CRC is computed with its own field zeroed: the fresh buffer already is.
    out[offset] = CRC32C;
    out[offset + 2] = 4;
    offset += 3;
    const crc = crc32c(out);
    out[offset] = crc >>> 24;
    out[offset + 1] = (crc >>> 16) & 0xff;
    out[offset + 2] = (crc >>> 8) & 0xff;
    out[offset + 3] = crc & 0xff;
  }
  return out;
}
