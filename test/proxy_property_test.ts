/**
 * Property tests of the PROXY header code with fast-check: build→parse is
 * the identity on generated headers; parsing any bytes either succeeds,
 * asks for more, or throws ProxyHeaderError, and never depends on bytes
 * past the header; every prefix of a valid header asks for more without
 * asking past its end. Run counts stay moderate so this takes a few
 * seconds on every runtime.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { ProxyHeaderError } from "../src/errors.ts";
import { formatIpv6, parseIpv4, parseIpv6 } from "../src/proxy/_address.ts";
import {
  buildProxyHeader,
  type BuildProxyHeaderOptions,
  parseProxyHeader,
  type ProxyHeader,
  type ProxyProtocol,
  type ProxyRawTlv,
  type ProxySslInfo,
  type ProxyTlvs,
} from "../src/proxy/proxy_header.ts";
import { suite, test } from "./_harness.ts";
import { concatBytes } from "./_fixtures.ts";

/** Runs per property; PROXY_PROPERTY_RUNS=20000 for a longer search. */
const RUNS = Number(globalThis.process?.env?.PROXY_PROPERTY_RUNS ?? 300);
const KNOWN_TYPES = [0x01, 0x02, 0x03, 0x04, 0x05, 0x20, 0x30];
const SSL_TYPES = [0x21, 0x22, 0x23, 0x24, 0x25];

/** IPv6 text as the WHATWG URL parser canonicalises it: an implementation independent of ours. */
function urlCanonical(address: string): string {
  return new URL(`http://[${address}]/`).hostname.slice(1, -1);
}

/** 16-bit groups, zero half of the time, so runs of zeros (and "::") are common. */
const group = fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 0xffff }));
const ipv6Bytes = fc.array(group, { minLength: 8, maxLength: 8 }).map((groups) => {
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    out[2 * i] = g >> 8;
    out[2 * i + 1] = g & 0xff;
  });
  return out;
});
const ipv6 = ipv6Bytes.map((b) => formatIpv6(b));
const text = fc.string({ unit: "grapheme", maxLength: 24 });
const rawTlv = (reserved: number[]): fc.Arbitrary<ProxyRawTlv> =>
  fc.record({
    type: fc.integer({ min: 0, max: 255 }).filter((t) => !reserved.includes(t)),
    value: fc.uint8Array({ maxLength: 24 }),
  }, { noNullPrototype: true });
const ssl: fc.Arbitrary<ProxySslInfo> = fc.record(
  {
    ssl: fc.boolean(),
    certificateOnConnection: fc.boolean(),
    certificateInSession: fc.boolean(),
    verified: fc.boolean(),
    version: text,
    commonName: text,
    cipher: text,
    signatureAlgorithm: text,
    keyAlgorithm: text,
    unknown: fc.array(rawTlv(SSL_TYPES), { minLength: 1, maxLength: 2 }),
  },
  { requiredKeys: ["ssl", "certificateOnConnection", "certificateInSession", "verified"], noNullPrototype: true },
);
const tlvs: fc.Arbitrary<ProxyTlvs> = fc.record(
  {
    alpn: text,
    authority: text,
    uniqueId: fc.uint8Array({ maxLength: 128 }),
    ssl,
    netns: text,
    unknown: fc.array(rawTlv(KNOWN_TYPES), { minLength: 1, maxLength: 3 }),
  },
  { requiredKeys: [], noNullPrototype: true },
);
/** fc.record may make null-prototype objects, which deepStrictEqual tells apart from parsed headers. */
const plainObject = (header: ProxyHeader): ProxyHeader => ({ ...header });
const port = fc.integer({ min: 0, max: 65535 });
const stream = fc.constantFrom("stream" as const, "dgram" as const);
const unixPath = fc.string({ unit: "grapheme", maxLength: 30 }).filter((p) =>
  !p.includes("\0") && new TextEncoder().encode(p).length <= 108
);

/** A `proxy` header of an IP family: both addresses from `address`, both ports from `port`. */
function ipHeader(
  version: 1 | 2,
  family: "inet" | "inet6",
  address: fc.Arbitrary<string>,
  protocol: fc.Arbitrary<ProxyProtocol>,
  tlvs: fc.Arbitrary<ProxyTlvs>,
): fc.Arbitrary<ProxyHeader> {
  return fc.record({
    version: fc.constant(version),
    command: fc.constant("proxy" as const),
    family: fc.constant(family),
    protocol,
    sourceAddress: address,
    sourcePort: port,
    destinationAddress: address,
    destinationPort: port,
    tlvs,
  });
}

const v1Header: fc.Arbitrary<ProxyHeader> = fc.oneof(
  fc.constant<ProxyHeader>({ version: 1, command: "proxy", family: "unspec", protocol: "unspec", tlvs: {} }),
  ipHeader(1, "inet", fc.ipV4(), fc.constant("stream" as const), fc.constant({})),
  ipHeader(1, "inet6", ipv6, fc.constant("stream" as const), fc.constant({})),
).map(plainObject);

const v2Header: fc.Arbitrary<ProxyHeader> = fc.oneof(
  fc.constant<ProxyHeader>({ version: 2, command: "local", family: "unspec", protocol: "unspec", tlvs: {} }),
  fc.record({
    version: fc.constant(2 as const),
    command: fc.constant("proxy" as const),
    family: fc.constant("unspec" as const),
    protocol: fc.constant("unspec" as const),
    tlvs,
  }),
  ipHeader(2, "inet", fc.ipV4(), stream, tlvs),
  ipHeader(2, "inet6", ipv6, stream, tlvs),
  fc.record({
    version: fc.constant(2 as const),
    command: fc.constant("proxy" as const),
    family: fc.constant("unix" as const),
    protocol: stream,
    sourceAddress: unixPath,
    destinationAddress: unixPath,
    tlvs,
  }),
).map(plainObject);

/** A header with build options that fit its version. */
const headerAndOptions: fc.Arbitrary<[ProxyHeader, BuildProxyHeaderOptions]> = fc.oneof(
  fc.tuple(v1Header, fc.constant({})),
  fc.tuple(
    v2Header,
    fc.record({ checksum: fc.constant("crc32c" as const), padding: fc.integer({ min: 3, max: 300 }) }, {
      requiredKeys: [],
    }),
  ),
);

/** Parses, turning a ProxyHeaderError into its code; anything else thrown fails the property. */
function parseOrCode(bytes: Uint8Array): ReturnType<typeof parseProxyHeader> | string {
  try {
    return parseProxyHeader(bytes);
  } catch (error) {
    if (error instanceof ProxyHeaderError) return error.code;
    throw error;
  }
}

suite("proxy header properties", () => {
  test("IPv6 text is written as the URL parser writes it (IPv4-mapped aside)", () => {
    // Full, uncompressed text in mixed case: nothing of our formatter goes into the input.
    const fullText = fc.tuple(fc.array(group, { minLength: 8, maxLength: 8 }), fc.boolean()).map(([groups, upper]) => {
      const text = groups.map((g) => g.toString(16).padStart(4, "0")).join(":");
      return upper ? text.toUpperCase() : text;
    });
    fc.assert(
      fc.property(fullText, (address) => {
        const ours = formatIpv6(parseIpv6(address)!);
        if (ours.startsWith("::ffff:") && ours.includes(".")) assert.deepEqual(parseIpv6(ours), parseIpv6(address));
        else assert.equal(ours, urlCanonical(address));
      }),
      { numRuns: RUNS },
    );
  });

  test("every IPv6 text form parses, and our text of it parses back to the same bytes", () => {
    fc.assert(
      fc.property(fc.ipV6(), (address) => {
        const bytes = parseIpv6(address);
        assert.ok(bytes !== undefined, `${address} should parse`);
        const ours = formatIpv6(bytes);
        assert.deepEqual(parseIpv6(ours), bytes);
        // The URL parser as an oracle where it takes the text (Bun 1.4's refuses some valid
        // dotted forms such as "::0:0:0:0:1.2.3.4").
        let canonical: string | undefined;
        try {
          canonical = urlCanonical(address);
        } catch {
          canonical = undefined;
        }
        if (canonical !== undefined && !(ours.startsWith("::ffff:") && ours.includes("."))) {
          assert.equal(ours, canonical);
        }
      }),
      { numRuns: RUNS },
    );
    fc.assert(fc.property(fc.ipV4(), (address) => assert.ok(parseIpv4(address) !== undefined)), { numRuns: 100 });
  });

  test("parse(build(header)) is the header, and the bytes after it are the rest", () => {
    fc.assert(
      fc.property(headerAndOptions, fc.uint8Array({ maxLength: 32 }), ([header, options], trailing) => {
        const built = buildProxyHeader(header, options);
        const result = parseProxyHeader(concatBytes([built, trailing]));
        assert.ok(result.header !== undefined);
        assert.deepEqual(result.header, header);
        assert.equal(result.length, built.length);
        assert.deepEqual(result.rest, trailing);
      }),
      { numRuns: RUNS },
    );
  });

  test("every prefix of a valid header asks for more, never past the header's end", () => {
    fc.assert(
      fc.property(headerAndOptions, fc.nat(), ([header, options], seed) => {
        const built = buildProxyHeader(header, options);
        const have = seed % built.length;
        const result = parseProxyHeader(built.subarray(0, have));
        assert.ok(result.header === undefined, `a ${have}-byte prefix of ${built.length} parsed as complete`);
        assert.ok(result.needMore >= 1 && have + result.needMore <= built.length);
      }),
      { numRuns: RUNS },
    );
  });

  // Arbitrary bytes mostly fail at the signature: also start some with each signature.
  const v2Signature = new Uint8Array([13, 10, 13, 10, 0, 13, 10, 81, 85, 73, 84, 10]);
  const v1Alphabet = fc.constantFrom(..."PROXY TCP46UNKOW0123456789.:abcdef \r\n");
  const anyBytes = fc.oneof(
    fc.uint8Array({ maxLength: 64 }),
    fc.uint8Array({ maxLength: 300 }).map((tail) => concatBytes([v2Signature, tail])),
    fc.tuple(fc.constantFrom(0x20, 0x21), fc.uint8Array({ maxLength: 300 })).map(([verCmd, tail]) =>
      concatBytes([v2Signature, new Uint8Array([verCmd]), tail])
    ),
    fc.array(v1Alphabet, { maxLength: 120 }).map((chars) => new TextEncoder().encode(`PROXY ${chars.join("")}`)),
  );

  test("parse of any bytes succeeds, asks for more, or throws ProxyHeaderError, looking no further than the header", () => {
    fc.assert(
      fc.property(anyBytes, fc.uint8Array({ minLength: 1, maxLength: 16 }), (bytes, other) => {
        const result = parseOrCode(bytes);
        if (typeof result === "string" || result.header === undefined) return;
        assert.ok(result.length <= bytes.length);
        assert.deepEqual(result.rest, bytes.subarray(result.length));
        // The same header with anything else after it parses the same.
        const header = bytes.subarray(0, result.length);
        assert.deepEqual(parseOrCode(concatBytes([header, other])), {
          header: result.header,
          length: result.length,
          rest: other,
        });
      }),
      { numRuns: RUNS * 2 },
    );
  });

  test("a corrupted valid header still only parses or throws ProxyHeaderError", () => {
    fc.assert(
      fc.property(headerAndOptions, fc.nat(), fc.integer({ min: 1, max: 255 }), ([header, options], at, flip) => {
        const built = buildProxyHeader(header, options).slice();
        built[at % built.length]! ^= flip;
        parseOrCode(built);
      }),
      { numRuns: RUNS },
    );
  });
});
