/**
 * Fuzzes `parseProxyHeader` in the process of the runtime under test: half
 * the inputs from fast-check (random bytes behind either signature, and
 * valid headers cut or spliced), half by seeded byte mutation of valid v1
 * and v2 headers. What must hold for every input: it throws nothing but a
 * `ProxyHeaderError`; a parsed header's `length` fits the input and `rest`
 * is exactly the bytes after it; changing the bytes after the header does
 * not change the header (nothing read past the declared length); an
 * incomplete one asks for at least one more byte.
 *
 * @module
 */
import fc from "fast-check";
import { buildProxyHeader, parseProxyHeader, type ProxyHeaderInit, ProxyHeaderError } from "../mod.ts";

const encoder = new TextEncoder();
const seeds: ProxyHeaderInit[] = [
  { family: "inet", protocol: "stream", sourceAddress: "10.0.0.1", sourcePort: 1234, destinationAddress: "10.0.0.2", destinationPort: 80 },
  { family: "inet6", protocol: "stream", sourceAddress: "2001:db8::1", sourcePort: 1, destinationAddress: "::1", destinationPort: 443 },
  { family: "unspec", protocol: "unspec" },
  { family: "unix", protocol: "stream", sourceAddress: "/tmp/a.sock", destinationAddress: "/tmp/b.sock" },
  {
    family: "inet",
    protocol: "dgram",
    sourceAddress: "192.0.2.1",
    sourcePort: 53,
    destinationAddress: "192.0.2.2",
    destinationPort: 5353,
    tlvs: { alpn: "h2", authority: "example.com", uniqueId: new Uint8Array([1, 2, 3]), netns: "blue" },
  },
  { command: "local", family: "unspec", protocol: "unspec" },
];

/** Valid headers: every seed in v2 (with and without checksum and padding) and the TCP ones in v1. */
export function corpus(): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const seed of seeds) {
    out.push(buildProxyHeader(seed, { version: 2 }));
    out.push(buildProxyHeader(seed, { version: 2, checksum: "crc32c", padding: 7 }));
    if (seed.protocol !== "dgram" && seed.family !== "unix" && seed.command !== "local") {
      out.push(buildProxyHeader(seed, { version: 1 }));
    }
  }
  out.push(encoder.encode("PROXY TCP4 255.255.255.255 255.255.255.255 65535 65535\r\n"));
  return out;
}

/** A small seeded PRNG (mulberry32), so a failing run can be replayed with its seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function mutate(input: Uint8Array, random: () => number): Uint8Array {
  let bytes = Uint8Array.from(input);
  const at = () => Math.floor(random() * Math.max(1, bytes.length));
  const rounds = 1 + Math.floor(random() * 4);
  for (let r = 0; r < rounds; r++) {
    const i = at();
    switch (Math.floor(random() * 7)) {
      case 0: // flip a bit
        bytes[i] = bytes[i]! ^ (1 << Math.floor(random() * 8));
        break;
      case 1: // replace a byte
        bytes[i] = Math.floor(random() * 256);
        break;
      case 2: // truncate
        bytes = bytes.slice(0, i);
        break;
      case 3: { // insert a random run
        const run = Uint8Array.from({ length: 1 + Math.floor(random() * 8) }, () => Math.floor(random() * 256));
        bytes = Uint8Array.from([...bytes.subarray(0, i), ...run, ...bytes.subarray(i)]);
        break;
      }
      case 4: // delete a run
        bytes = Uint8Array.from([...bytes.subarray(0, i), ...bytes.subarray(i + 1 + Math.floor(random() * 8))]);
        break;
      case 5: // tamper with v2's length field (bytes 14-15) or a TLV length
        if (bytes.length > 15) {
          const j = random() < 0.5 ? 14 + Math.floor(random() * 2) : 16 + Math.floor(random() * (bytes.length - 16));
          bytes[j] = [0, 0xff, bytes[j]! + 1, bytes[j]! - 1][Math.floor(random() * 4)]! & 0xff;
        }
        break;
      default: // extreme values at a point
        bytes[i] = random() < 0.5 ? 0 : 0xff;
    }
  }
  return bytes;
}

/** Tally of one fuzz run; `bad` holds the first few inputs that broke a rule. */
export interface FuzzParseResult {
  iterations: number;
  parsed: number;
  incomplete: number;
  rejected: number;
  bad: { rule: string; input: number[]; error?: string }[];
  maxMs: number;
  /** The input that took `maxMs` (a GC pause lands on whatever input is running). */
  slowest: number[];
}

/** Runs `iterations` inputs (half fast-check, half mutation) through parseProxyHeader. */
export function fuzzParse(iterations: number, seed: number): FuzzParseResult {
  const result: FuzzParseResult = { iterations: 0, parsed: 0, incomplete: 0, rejected: 0, bad: [], maxMs: 0, slowest: [] };
  const flag = (rule: string, input: Uint8Array, error?: unknown) => {
    if (result.bad.length < 5) result.bad.push({ rule, input: [...input], error: error === undefined ? undefined : String(error) });
  };
  const check = (input: Uint8Array) => {
    result.iterations++;
    const started = performance.now();
    try {
      const parsed = parseProxyHeader(input);
      if (parsed.header === undefined) {
        result.incomplete++;
        if (!(parsed.needMore >= 1)) flag("needMore < 1", input);
        return;
      }
      result.parsed++;
      const { length, rest } = parsed;
      if (!(length > 0 && length <= input.length)) return flag("length outside the input", input);
      if (rest.length !== input.length - length || rest.byteOffset !== input.byteOffset + length) {
        return flag("rest is not the bytes after the header", input);
      }
      // Other bytes after the header must not change what was parsed.
      const other = Uint8Array.from([...input.subarray(0, length), 0x0d, 0x0a, 0xff, 0x00]);
      const again = parseProxyHeader(other);
      if (again.header === undefined || again.length !== length || !sameHeader(again.header, parsed.header)) {
        flag("bytes after the header changed it", input);
      }
    } catch (error) {
      if (error instanceof ProxyHeaderError) result.rejected++;
      else flag("threw something other than ProxyHeaderError", input, error);
    } finally {
      const ms = performance.now() - started;
      if (ms > result.maxMs) {
        result.maxMs = ms;
        result.slowest = [...input];
      }
    }
  };
  const valid = corpus();
  const random = prng(seed);
  const mutated = Math.ceil(iterations / 2);
  for (let i = 0; i < mutated; i++) check(mutate(valid[i % valid.length]!, random));
  const v2Signature = [0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a];
  const arbitrary = fc.oneof(
    fc.uint8Array({ maxLength: 64 }).map((tail) => Uint8Array.from([...v2Signature, ...tail])),
    fc.uint8Array({ maxLength: 120 }).map((tail) => Uint8Array.from([...encoder.encode("PROXY "), ...tail])),
    fc.tuple(fc.constantFrom(...valid), fc.nat(), fc.uint8Array({ maxLength: 16 })).map(([v, cut, tail]) =>
      Uint8Array.from([...v.subarray(0, cut % (v.length + 1)), ...tail])
    ),
    fc.uint8Array({ maxLength: 300 }),
  );
  fc.assert(fc.property(arbitrary, (input) => void check(input)), { numRuns: iterations - mutated, seed });
  return result;
}

function sameHeader(a: unknown, b: unknown): boolean {
  const plain = (value: unknown) => JSON.stringify(value, (_key, v) => (v instanceof Uint8Array ? [...v] : v));
  return plain(a) === plain(b);
}
