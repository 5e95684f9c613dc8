/**
 * IP address text <-> bytes for the PROXY protocol. Parsing is strict where
 * the spec is (IPv4 without leading zeros); IPv6 text is written the way the
 * runtimes print peer addresses (RFC 5952: lower case, the longest run of
 * zero groups compressed, `::ffff:a.b.c.d` for IPv4-mapped addresses), so a
 * header's address compares equal to `socket.peername().address`.
 *
 * @module
 */

/** The 4 bytes of a dotted-quad IPv4 address, or `undefined` when `text` is not one. */
export function parseIpv4(text: string): Uint8Array | undefined {
  const out = new Uint8Array(4);
  return parseIpv4Into(text, out, 0) ? out : undefined;
}

/** Writes the 4 bytes of dotted-quad `text` into `out` at `offset`; false when `text` is not one. */
export function parseIpv4Into(text: string, out: Uint8Array, offset: number): boolean {
  let part = 0;
  let value = 0;
  let digits = 0;
  for (let i = 0; i <= text.length; i++) {
    const c = i < text.length ? text.charCodeAt(i) : 0x2e; // a final "." closes the last part
    if (c === 0x2e) {
      if (digits === 0 || part > 3) return false;
      out[offset + part++] = value;
      value = 0;
      digits = 0;
    } else if (c >= 0x30 && c <= 0x39) {
      // A leading zero would read as octal in some parsers: the spec forbids it.
      if (digits === 1 && value === 0) return false;
      value = value * 10 + (c - 0x30);
      if (value > 255) return false;
      digits++;
    } else {
      return false;
    }
  }
  return part === 4;
}

/** The 16 bytes of an IPv6 address (any valid text form, no zone), or `undefined`. */
export function parseIpv6(text: string): Uint8Array | undefined {
  const out = new Uint8Array(16);
  return parseIpv6Into(text, out) ? out : undefined;
}

/**
 * Writes the 16 bytes of IPv6 `text` into `out` (which may hold anything);
 * false when `text` is not an address. Parsers reuse one `out`: small typed
 * arrays cost about a microsecond each to allocate on Deno.
 */
export function parseIpv6Into(text: string, out: Uint8Array): boolean {
  if (text.length < 2 || text.length > 45) return false;
  out.fill(0);
  // An embedded IPv4 address may only end the text, and fills the last two groups.
  let body = text;
  let groupsWanted = 8;
  if (text.includes(".")) {
    const colon = text.lastIndexOf(":");
    if (colon === -1 || !parseIpv4Into(text.slice(colon + 1), out, 12)) return false;
    body = text.slice(0, text[colon - 1] === ":" ? colon + 1 : colon);
    groupsWanted = 6;
  }
  const gap = body.indexOf("::");
  if (gap !== -1 && body.indexOf("::", gap + 1) !== -1) return false;
  const head = splitGroups(gap === -1 ? body : body.slice(0, gap));
  const tail = splitGroups(gap === -1 ? "" : body.slice(gap + 2));
  if (head === undefined || tail === undefined) return false;
  const count = head.length + tail.length;
  // "::" stands for at least one zero group.
  if (gap === -1 ? count !== groupsWanted : count >= groupsWanted) return false;
  head.forEach((value, i) => writeGroup(out, i, value));
  tail.forEach((value, i) => writeGroup(out, groupsWanted - tail.length + i, value));
  return true;
}

function splitGroups(text: string): number[] | undefined {
  if (text === "") return [];
  const groups: number[] = [];
  for (const group of text.split(":")) {
    if (group.length === 0 || group.length > 4) return undefined;
    let value = 0;
    for (let k = 0; k < group.length; k++) {
      const digit = hexDigit(group.charCodeAt(k));
      if (digit < 0) return undefined;
      value = value * 16 + digit;
    }
    groups.push(value);
  }
  return groups;
}

function writeGroup(out: Uint8Array, index: number, value: number): void {
  out[2 * index] = value >> 8;
  out[2 * index + 1] = value & 0xff;
}

function hexDigit(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  return -1;
}

/** Dotted-quad text of 4 bytes at `offset`. */
export function formatIpv4(bytes: Uint8Array, offset = 0): string {
  return `${bytes[offset]}.${bytes[offset + 1]}.${bytes[offset + 2]}.${bytes[offset + 3]}`;
}

/** RFC 5952 text of 16 bytes at `offset`. */
export function formatIpv6(bytes: Uint8Array, offset = 0): string {
  const group = (i: number) => (bytes[offset + 2 * i]! << 8) | bytes[offset + 2 * i + 1]!;
  if (group(0) === 0 && group(1) === 0 && group(2) === 0 && group(3) === 0 && group(4) === 0 && group(5) === 0xffff) {
    return `::ffff:${formatIpv4(bytes, offset + 12)}`;
  }
  // The longest run of at least two zero groups becomes "::" (the first one on a tie).
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0, run = 0; i < 8; i++) {
    run = group(i) === 0 ? run + 1 : 0;
    if (run > bestLength) {
      bestLength = run;
      bestStart = i - run + 1;
    }
  }
  let text = "";
  for (let i = 0; i < 8; i++) {
    if (i === bestStart) {
      text += "::";
      i += bestLength - 1;
      continue;
    }
    if (text !== "" && !text.endsWith(":")) text += ":";
    text += group(i).toString(16);
  }
  return text;
}
