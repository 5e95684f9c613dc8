/**
 * Checks what `buildProxyHeader` is given and turns it into a form both
 * writers use: addresses as bytes and as canonical text. A header that
 * cannot be written in the asked version throws TypeError/RangeError
 * naming the field.
 *
 * @module
 */
import { formatIpv4, formatIpv6, parseIpv4, parseIpv6 } from "./_address.ts";
import { checkTlvs } from "./_tlv_write.ts";
import type { ProxyCommand, ProxyFamily, ProxyHeaderInit, ProxyProtocol, ProxyTlvs } from "./types.ts";

/** A header ready to write. Address fields are set for `inet`, `inet6` and `unix`, ports for `inet`/`inet6`. */
export interface CheckedHeader {
  command: ProxyCommand;
  family: ProxyFamily;
  protocol: ProxyProtocol;
  source: Uint8Array | undefined;
  destination: Uint8Array | undefined;
  sourceAddress: string | undefined;
  destinationAddress: string | undefined;
  sourcePort: number;
  destinationPort: number;
  tlvs: ProxyTlvs;
}

const FAMILIES: readonly string[] = ["inet", "inet6", "unix", "unspec"];
const PROTOCOLS: readonly string[] = ["stream", "dgram", "unspec"];
/** sun_path is 108 bytes: a path of 108 bytes is sent without a terminating NUL. */
const UNIX_PATH_MAX = 108;
const encoder = new TextEncoder();

/** Validates `header` for `version` and normalises its addresses. */
export function checkHeader(header: ProxyHeaderInit, version: 1 | 2): CheckedHeader {
  const command = header.command ?? "proxy";
  if (command !== "proxy" && command !== "local") {
    throw new TypeError(`buildProxyHeader(): header.command must be "proxy" or "local", got ${String(command)}`);
  }
  if (!FAMILIES.includes(header.family)) {
    throw new TypeError(
      `buildProxyHeader(): header.family must be one of ${FAMILIES.join(", ")}, got ${String(header.family)}`,
    );
  }
  if (!PROTOCOLS.includes(header.protocol)) {
    throw new TypeError(
      `buildProxyHeader(): header.protocol must be one of ${PROTOCOLS.join(", ")}, got ${String(header.protocol)}`,
    );
  }
  const tlvs = checkTlvs(header.tlvs ?? {});
  const empty: CheckedHeader = {
    command,
    family: "unspec",
    protocol: "unspec",
    source: undefined,
    destination: undefined,
    sourceAddress: undefined,
    destinationAddress: undefined,
    sourcePort: 0,
    destinationPort: 0,
    tlvs,
  };
  if (version === 1) {
    if (command === "local") throw new TypeError('buildProxyHeader(): version 1 has no "local" command');
    if (Object.keys(tlvs).length > 0) throw new TypeError("buildProxyHeader(): version 1 has no TLVs");
    if (header.family === "unix" || header.protocol === "dgram") {
      throw new TypeError("buildProxyHeader(): version 1 carries only TCP over IPv4 or IPv6 (or unspec)");
    }
  }
  if (command === "local") {
    // LOCAL: the receiver uses the real endpoints, so nothing else is sent.
    if (Object.keys(tlvs).length > 0) throw new TypeError('buildProxyHeader(): a "local" header carries no TLVs');
    return empty;
  }
  if ((header.family === "unspec") !== (header.protocol === "unspec")) {
    throw new TypeError('buildProxyHeader(): header.family and header.protocol must both be "unspec" or neither');
  }
  if (header.family === "unspec") return empty;
  const inet = header.family !== "unix";
  const [source, sourceAddress] = checkAddress("sourceAddress", header.sourceAddress, header.family);
  const [destination, destinationAddress] = checkAddress(
    "destinationAddress",
    header.destinationAddress,
    header.family,
  );
  return {
    command,
    family: header.family,
    protocol: header.protocol,
    source,
    destination,
    sourceAddress,
    destinationAddress,
    sourcePort: inet ? checkPort("sourcePort", header.sourcePort) : 0,
    destinationPort: inet ? checkPort("destinationPort", header.destinationPort) : 0,
    tlvs,
  };
}

function checkAddress(name: string, value: unknown, family: ProxyFamily): [Uint8Array, string] {
  if (typeof value !== "string") {
    throw new TypeError(
      `buildProxyHeader(): header.${name} must be a string for family ${family}, got ${typeof value}`,
    );
  }
  if (family === "unix") {
    const bytes = encoder.encode(value);
    if (bytes.length > UNIX_PATH_MAX || value.includes("\0")) {
      throw new RangeError(
        `buildProxyHeader(): header.${name} must be a socket path of at most ${UNIX_PATH_MAX} bytes without NUL`,
      );
    }
    return [bytes, value];
  }
  const bytes = family === "inet" ? parseIpv4(value) : parseIpv6(value);
  if (bytes === undefined) {
    throw new TypeError(
      `buildProxyHeader(): header.${name} must be an ${
        family === "inet" ? "IPv4" : "IPv6"
      } address for family ${family}, got ${JSON.stringify(value.slice(0, 45))}`,
    );
  }
  return [bytes, family === "inet" ? formatIpv4(bytes) : formatIpv6(bytes)];
}

function checkPort(name: string, value: unknown): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0 || value > 65535) {
    throw new RangeError(`buildProxyHeader(): header.${name} must be an integer from 0 to 65535, got ${String(value)}`);
  }
  return value;
}
