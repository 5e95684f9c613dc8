/**
 * PROXY protocol version 1: one US-ASCII line,
 * `PROXY TCP4|TCP6 <src> <dst> <sport> <dport>\r\n` or `PROXY UNKNOWN...\r\n`.
 *
 * While the line is incomplete the parser checks what it has (so junk is
 * refused at once) and works out the fewest bytes that could still finish
 * it, so a stream reader never takes a byte past the CRLF.
 *
 * @module
 */
import { ProxyHeaderError } from "../errors.ts";
import { formatIpv6, parseIpv4Into, parseIpv6Into } from "./_address.ts";
import type { CheckedHeader } from "./_check.ts";
import type { ProxyHeader, ProxyHeaderParseResult } from "./types.ts";

const MAX_LENGTH = 107;
const PREFIX = "PROXY ";
const CR = 0x0d;
const LF = 0x0a;

const SPACE = 0x20;

/** The protocol words, as bytes, with the shortest complete line each allows. */
const WORDS: readonly { word: Uint8Array; shortest: number }[] = [
  { word: ascii("TCP4"), shortest: "PROXY TCP4 0.0.0.0 0.0.0.0 0 0\r\n".length },
  { word: ascii("TCP6"), shortest: "PROXY TCP6 :: :: 0 0\r\n".length },
  { word: ascii("UNKNOWN"), shortest: "PROXY UNKNOWN\r\n".length },
];
/** Shortest text of each field after TCP4 / TCP6: two addresses, two ports. */
const FIELD_MIN_INET = [7, 7, 1, 1] as const;
const FIELD_MIN_INET6 = [2, 2, 1, 1] as const;
const FIELD_MAX_INET = [15, 15, 5, 5] as const;
const FIELD_MAX_INET6 = [45, 45, 5, 5] as const;

function ascii(text: string): Uint8Array {
  return Uint8Array.from(text, (c) => c.charCodeAt(0));
}

/** Parses a v1 line at the start of `bytes` (which starts with "P"). */
export function parseV1(bytes: Uint8Array): ProxyHeaderParseResult {
  const have = bytes.length;
  for (let i = 0; i < PREFIX.length && i < have; i++) {
    if (bytes[i] !== PREFIX.charCodeAt(i)) {
      throw new ProxyHeaderError(
        "EPROXY_SIGNATURE",
        "no PROXY protocol header: the bytes start with neither signature",
      );
    }
  }
  // The CRLF must end by byte 107, so its CR is at index 105 at the latest.
  const limit = Math.min(have, MAX_LENGTH - 1);
  for (let i = PREFIX.length; i < limit; i++) {
    const c = bytes[i]!;
    if (c === LF) throw syntax("a line feed without a carriage return before it");
    if (c !== CR) continue;
    if (i + 1 === have) return { header: undefined, needMore: 1 };
    if (bytes[i + 1] !== LF) throw syntax("a carriage return not followed by a line feed");
    const header = parseLine(bytes, i);
    return { header, length: i + 2, rest: bytes.subarray(i + 2) };
  }
  if (have >= MAX_LENGTH - 1) {
    throw new ProxyHeaderError("EPROXY_TOO_LONG", `PROXY v1 line has no CRLF within ${MAX_LENGTH} bytes`);
  }
  const needMore = missingAtLeast(bytes, have);
  if (have + needMore > MAX_LENGTH) {
    throw new ProxyHeaderError("EPROXY_TOO_LONG", `PROXY v1 line cannot end within ${MAX_LENGTH} bytes`);
  }
  return { header: undefined, needMore };
}

function latin1(bytes: Uint8Array, start: number, end: number): string {
  let text = "";
  for (let i = start; i < end; i++) text += String.fromCharCode(bytes[i]!);
  return text;
}

function syntax(what: string): ProxyHeaderError {
  return new ProxyHeaderError("EPROXY_SYNTAX", `malformed PROXY v1 line: ${what}`);
}

/** Parses the complete line `bytes[PREFIX.length, end)` (the CRLF at `end` is checked). */
function parseLine(bytes: Uint8Array, end: number): ProxyHeader {
  const start = PREFIX.length;
  let word: (typeof WORDS)[number] | undefined;
  for (const candidate of WORDS) {
    if (isWordAt(bytes, start, end, candidate.word)) {
      word = candidate;
      break;
    }
  }
  if (word === undefined) {
    let wordEnd = start;
    while (wordEnd < end && bytes[wordEnd] !== SPACE) wordEnd++;
    throw syntax(`unknown protocol ${JSON.stringify(latin1(bytes, start, Math.min(wordEnd, start + 16)))}`);
  }
  // The spec: for UNKNOWN the receiver ignores the rest of the line.
  if (word === WORDS[2]) return { version: 1, command: "proxy", family: "unspec", protocol: "unspec", tlvs: {} };
  const inet6 = word === WORDS[1];
  // Four fields, each after exactly one space: their [start, end) pairs.
  const bounds = [0, 0, 0, 0, 0, 0, 0, 0];
  let found = 0;
  let fieldStart = start + word.word.length + 1;
  for (let i = fieldStart; i <= end; i++) {
    if (i < end && bytes[i] !== SPACE) continue;
    if (i === fieldStart || found === 8) {
      throw syntax(`${inet6 ? "TCP6" : "TCP4"} needs 4 fields after it separated by single spaces`);
    }
    bounds[found++] = fieldStart;
    bounds[found++] = i;
    fieldStart = i + 1;
  }
  if (found !== 8) {
    throw syntax(`${inet6 ? "TCP6" : "TCP4"} needs 4 fields after it separated by single spaces`);
  }
  return {
    version: 1,
    command: "proxy",
    family: inet6 ? "inet6" : "inet",
    protocol: "stream",
    sourceAddress: parseAddress(latin1(bytes, bounds[0]!, bounds[1]!), inet6),
    sourcePort: parsePort(bytes, bounds[4]!, bounds[5]!),
    destinationAddress: parseAddress(latin1(bytes, bounds[2]!, bounds[3]!), inet6),
    destinationPort: parsePort(bytes, bounds[6]!, bounds[7]!),
    tlvs: {},
  };
}

/** Whether `word` is at `start`, followed by a space or the line's end. */
function isWordAt(bytes: Uint8Array, start: number, end: number, word: Uint8Array): boolean {
  const after = start + word.length;
  if (after > end) return false;
  for (let i = 0; i < word.length; i++) if (bytes[start + i] !== word[i]) return false;
  return after === end || bytes[after] === SPACE;
}

/** Address bytes while parsing a line (used at once, so one buffer serves every call). */
const scratch = new Uint8Array(16);

function parseAddress(text: string, inet6: boolean): string {
  if (!(inet6 ? parseIpv6Into(text, scratch) : parseIpv4Into(text, scratch, 0))) {
    throw new ProxyHeaderError(
      "EPROXY_ADDRESS",
      `PROXY v1 line: ${JSON.stringify(text.slice(0, 45))} is not an ${inet6 ? "IPv6" : "IPv4"} address`,
    );
  }
  // Strictly parsed IPv4 text (no leading zeros) is already canonical.
  return inet6 ? formatIpv6(scratch) : text;
}

/** A decimal port 0-65535 in `bytes[start, end)`, without leading zeros as the spec asks. */
function parsePort(bytes: Uint8Array, start: number, end: number): number {
  const length = end - start;
  let value = 0;
  let valid = length > 0 && length <= 5 && (length === 1 || bytes[start] !== 0x30);
  for (let i = start; valid && i < end; i++) {
    const digit = bytes[i]! - 0x30;
    valid = digit >= 0 && digit <= 9;
    value = value * 10 + digit;
  }
  if (!valid || value > 65535) {
    throw new ProxyHeaderError(
      "EPROXY_PORT",
      `PROXY v1 line: ${JSON.stringify(latin1(bytes, start, Math.min(end, start + 16)))} is not a port`,
    );
  }
  return value;
}

/**
 * The fewest bytes that could complete the partial line `bytes[0, have)`
 * (no CR or LF in it yet), or a ProxyHeaderError when no completion can be
 * valid. One pass over the bytes: this runs once per read while a header
 * trickles in.
 */
function missingAtLeast(bytes: Uint8Array, have: number): number {
  const start = PREFIX.length;
  let wordEnd = start;
  while (wordEnd < have && bytes[wordEnd] !== SPACE) wordEnd++;
  let matched: { word: Uint8Array; shortest: number } | undefined;
  let shortest = Infinity;
  for (const candidate of WORDS) {
    const word = candidate.word;
    const length = wordEnd - start;
    if (length > word.length || (wordEnd < have && length !== word.length)) continue;
    let same = true;
    for (let i = 0; same && i < length; i++) same = bytes[start + i] === word[i];
    if (!same) continue;
    matched = candidate;
    shortest = Math.min(shortest, candidate.shortest);
  }
  if (matched === undefined) {
    throw syntax(`unknown protocol ${JSON.stringify(latin1(bytes, start, Math.min(wordEnd, start + 16)))}`);
  }
  // Still inside the protocol word: the shortest line any matching word allows.
  if (wordEnd === have) return Math.max(1, shortest - have);
  if (matched === WORDS[2]) return 2; // UNKNOWN: anything may follow, then CRLF
  const inet6 = matched === WORDS[1];
  const minimum = inet6 ? FIELD_MIN_INET6 : FIELD_MIN_INET;
  const maximum = inet6 ? FIELD_MAX_INET6 : FIELD_MAX_INET;
  let field = 0;
  let length = 0;
  let fieldStart = wordEnd + 1;
  for (let i = fieldStart; i < have; i++) {
    const c = bytes[i]!;
    if (c === SPACE) {
      if (length === 0) throw syntax("two spaces in a row");
      if (++field > 3) throw syntax(`${inet6 ? "TCP6" : "TCP4"} takes exactly 4 fields`);
      length = 0;
      fieldStart = i + 1;
      continue;
    }
    const digit = c >= 0x30 && c <= 0x39;
    const allowed = field >= 2
      ? digit
      : inet6
      ? digit || c === 0x2e || c === 0x3a || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66)
      : digit || c === 0x2e;
    if (!allowed || ++length > maximum[field]!) {
      const text = JSON.stringify(latin1(bytes, fieldStart, i + 1));
      throw field < 2
        ? new ProxyHeaderError("EPROXY_ADDRESS", `PROXY v1 line: ${text} cannot start an address`)
        : new ProxyHeaderError("EPROXY_PORT", `PROXY v1 line: ${text} cannot start a port`);
    }
  }
  let missing = 2 + Math.max(0, minimum[field]! - length); // the CRLF, and the rest of this field
  for (let next = field + 1; next < 4; next++) missing += 1 + minimum[next]!;
  return missing;
}

/** Writes the v1 line for a checked header (`inet`, `inet6` or `unspec`, command `proxy`). */
export function buildV1(header: CheckedHeader): Uint8Array {
  const line = header.family === "unspec"
    ? "PROXY UNKNOWN\r\n"
    : `PROXY ${
      header.family === "inet" ? "TCP4" : "TCP6"
    } ${header.sourceAddress} ${header.destinationAddress} ${header.sourcePort} ${header.destinationPort}\r\n`;
  const out = new Uint8Array(line.length);
  for (let i = 0; i < line.length; i++) out[i] = line.charCodeAt(i);
  return out;
}
