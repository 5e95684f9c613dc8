/**
 * parseProxyHeader / buildProxyHeader: Ranch's ranch_proxy_header unit cases
 * (the spec's v1 examples, v2 for every family, the regression packet from
 * AWS, error cases, build→parse round trips for every family and TLV,
 * padding, checksum), plus the error codes and the needMore contract.
 */
import assert from "node:assert/strict";
import { ProxyHeaderError } from "../src/errors.ts";
import {
  buildProxyHeader,
  parseProxyHeader,
  type ProxyHeader,
  type ProxyHeaderInit,
  type ProxyHeaderParseResult,
} from "../src/proxy/proxy_header.ts";
import { suite, test } from "./_harness.ts";
import { bytes, text } from "./_fixtures.ts";

const SIGNATURE = [13, 10, 13, 10, 0, 13, 10, 81, 85, 73, 84, 10];
const GET = "GET / HTTP/1.1\r\n";

/** Bytes from numbers and ASCII strings. */
function raw(...parts: (number | string | number[] | Uint8Array)[]): Uint8Array {
  const out: number[] = [];
  for (const part of parts) {
    if (typeof part === "number") out.push(part);
    else if (typeof part === "string") out.push(...bytes(part));
    else out.push(...part);
  }
  return new Uint8Array(out);
}

function parsed(result: ProxyHeaderParseResult): { header: ProxyHeader; rest: string; length: number } {
  assert.ok(
    result.header !== undefined,
    `expected a complete header, got needMore ${"needMore" in result ? result.needMore : ""}`,
  );
  return { header: result.header, rest: text(result.rest)!, length: result.length };
}

function parseError(input: Uint8Array | string): string {
  const data = typeof input === "string" ? bytes(input) : input;
  try {
    const result = parseProxyHeader(data);
    assert.fail(`expected a ProxyHeaderError, got ${JSON.stringify(result.header ?? result)}`);
  } catch (error) {
    if (!(error instanceof ProxyHeaderError)) throw error;
    return error.code;
  }
}

const inet: ProxyHeader = {
  version: 2,
  command: "proxy",
  family: "inet",
  protocol: "stream",
  sourceAddress: "127.0.0.1",
  sourcePort: 1234,
  destinationAddress: "10.11.12.13",
  destinationPort: 23456,
  tlvs: {},
};

function roundTrip(header: ProxyHeader, options = {}): void {
  const data = buildProxyHeader(header, options);
  const result = parsed(parseProxyHeader(data));
  assert.deepEqual(result.header, header);
  assert.equal(result.length, data.length);
  assert.equal(result.rest, "");
}

suite("proxy header v1", () => {
  test("parse: a request that is not a PROXY header", () => {
    assert.equal(parseError(GET), "EPROXY_SIGNATURE");
    assert.equal(parseError("\x16\x03\x01\x02\x00"), "EPROXY_SIGNATURE"); // a TLS ClientHello
  });

  test("parse: the spec's examples", () => {
    const max4 = parsed(parseProxyHeader(bytes("PROXY TCP4 255.255.255.255 255.255.255.255 65535 65535\r\n")));
    assert.deepEqual(max4.header, {
      version: 1,
      command: "proxy",
      family: "inet",
      protocol: "stream",
      sourceAddress: "255.255.255.255",
      sourcePort: 65535,
      destinationAddress: "255.255.255.255",
      destinationPort: 65535,
      tlvs: {},
    });
    assert.equal(max4.length, 56);
    const ffff = "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff";
    const max6 = parsed(parseProxyHeader(bytes(`PROXY TCP6 ${ffff} ${ffff} 65535 65535\r\n`)));
    assert.equal(max6.length, 104);
    assert.equal(max6.header.family, "inet6");
    assert.equal(max6.header.sourceAddress, ffff);
    const unknown = { version: 1, command: "proxy", family: "unspec", protocol: "unspec", tlvs: {} };
    assert.deepEqual(parsed(parseProxyHeader(bytes("PROXY UNKNOWN\r\n"))).header, unknown);
    const worst = parsed(parseProxyHeader(bytes(`PROXY UNKNOWN ${ffff} ${ffff} 65535 65535\r\n`)));
    assert.deepEqual(worst.header, unknown);
    assert.equal(worst.length, 107, "the spec's worst case fits exactly");
    const http = parsed(
      parseProxyHeader(bytes(`PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n${GET}Host: 192.168.0.11\r\n\r\n`)),
    );
    assert.equal(http.header.sourceAddress, "192.168.0.1");
    assert.equal(http.header.sourcePort, 56324);
    assert.equal(http.header.destinationAddress, "192.168.0.11");
    assert.equal(http.header.destinationPort, 443);
    assert.equal(http.rest, `${GET}Host: 192.168.0.11\r\n\r\n`);
  });

  test("parse: tomciopp/proxy_protocol's cases (Ranch's port)", () => {
    const tcp4 = parsed(parseProxyHeader(bytes("PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\nGET / HTTP/1.1\r")));
    assert.equal(tcp4.rest, "GET / HTTP/1.1\r");
    assert.equal(parseError("PROXY TCP4 192.1638.0.1 192.168.0.11 56324 443\r\nGET / HTTP/1.1\r"), "EPROXY_ADDRESS");
    assert.equal(parseError("PROXY TCP4 192.168.0.1 192.168.0.11 1111111 443\r\nGET / HTTP/1.1\r"), "EPROXY_PORT");
    const full6 = "2001:0db8:0000:0042:0000:8a2e:0370";
    const tcp6 = parsed(parseProxyHeader(bytes(`PROXY TCP6 ${full6}:7334 ${full6}:7335 4124 443\r\nGET / HTTP/1.1\r`)));
    // Written the way runtimes print peer addresses (RFC 5952).
    assert.equal(tcp6.header.sourceAddress, "2001:db8:0:42:0:8a2e:370:7334");
    assert.equal(tcp6.header.destinationAddress, "2001:db8:0:42:0:8a2e:370:7335");
    assert.equal(tcp6.header.sourcePort, 4124);
    assert.equal(tcp6.rest, "GET / HTTP/1.1\r");
    assert.equal(
      parseError(`PROXY TCP6 ${full6}:7334 2001:0db8:00;0:0042:0000:8a2e:0370:7335 4124 443\r\nGET / HTTP/1.1\r`),
      "EPROXY_ADDRESS",
    );
    assert.equal(parseError(`PROXY TCP6 ${full6}:7334 ${full6}:7335 4124 foo\r\nGET / HTTP/1.1\r`), "EPROXY_PORT");
    assert.equal(
      parsed(parseProxyHeader(bytes("PROXY UNKNOWN 4124 443\r\nGET / HTTP/1.1\r"))).rest,
      "GET / HTTP/1.1\r",
    );
    assert.equal(parsed(parseProxyHeader(bytes("PROXY UNKNOWN\r\nGET / HTTP/1.1\r"))).header.family, "unspec");
  });

  test("parse: compressed and IPv4-mapped IPv6 addresses, as HAProxy sends them", () => {
    const header = parsed(parseProxyHeader(bytes("PROXY TCP6 ::ffff:192.0.2.7 ::1 40000 443\r\n"))).header;
    assert.equal(header.sourceAddress, "::ffff:192.0.2.7");
    assert.equal(header.destinationAddress, "::1");
    assert.equal(
      parsed(parseProxyHeader(bytes("PROXY TCP6 FE80::A 2001:DB8::1 1 2\r\n"))).header.sourceAddress,
      "fe80::a",
    );
  });

  test("parse: malformed lines name their problem", () => {
    assert.equal(parseError("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n"), "EPROXY_SYNTAX"); // LF without CR
    assert.equal(parseError("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\rX"), "EPROXY_SYNTAX"); // CR without LF
    assert.equal(parseError("PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n"), "EPROXY_SYNTAX");
    assert.equal(parseError("PROXY UNKNOWNX\r\n"), "EPROXY_SYNTAX");
    assert.equal(parseError("PROXY TCP4 1.2.3.4  5.6.7.8 1 2\r\n"), "EPROXY_SYNTAX");
    assert.equal(parseError("PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n"), "EPROXY_SYNTAX");
    assert.equal(parseError("PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n"), "EPROXY_SYNTAX");
    assert.equal(parseError("PROXY TCP4 1.2.3.4 5.6.7.8 1 2 \r\n"), "EPROXY_SYNTAX");
    assert.equal(parseError("PROXY TCP4 ::1 ::1 1 2\r\n"), "EPROXY_ADDRESS");
    assert.equal(parseError("PROXY TCP6 1.2.3.4 5.6.7.8 1 2\r\n"), "EPROXY_ADDRESS");
    assert.equal(parseError("PROXY TCP4 01.2.3.4 5.6.7.8 1 2\r\n"), "EPROXY_ADDRESS"); // would read as octal
    assert.equal(parseError("PROXY TCP4 1.2.3.4 5.6.7.8 01 2\r\n"), "EPROXY_PORT");
    assert.equal(parseError("PROXY TCP4 1.2.3.4 5.6.7.8 1 65536\r\n"), "EPROXY_PORT");
    assert.equal(parseError("PROXY\r\n"), "EPROXY_SIGNATURE");
    assert.equal(parseError("PROXX TCP4"), "EPROXY_SIGNATURE");
  });

  test("parse: a line without CRLF in 107 bytes is too long, whatever it holds", () => {
    assert.equal(parseError(`PROXY UNKNOWN ${"x".repeat(100)}`), "EPROXY_TOO_LONG");
    assert.equal(parseError(`PROXY UNKNOWN ${"x".repeat(92)}\r\n`), "EPROXY_TOO_LONG"); // 108 bytes
    assert.equal(parsed(parseProxyHeader(bytes(`PROXY UNKNOWN ${"x".repeat(91)}\r\n`))).length, 107);
    assert.equal(parsed(parseProxyHeader(bytes(`PROXY UNKNOWN ${"x".repeat(90)}\r\n`))).length, 106);
  });

  test("parse: a valid beginning asks for more, refusing junk at once", () => {
    const start = parseProxyHeader(bytes("PROXY TCP4 1.2"));
    assert.ok(start.header === undefined && start.needMore >= 1);
    assert.equal(parseError("PROXY TCP4 1.2x"), "EPROXY_ADDRESS");
    assert.equal(parseError("PROXY TCP4 1.2.3.4 5.6.7.8 8x"), "EPROXY_PORT");
    assert.equal(parseError("PROXY FTP"), "EPROXY_SYNTAX");
    assert.equal(parseError("POST / HT"), "EPROXY_SIGNATURE");
    assert.deepEqual(parseProxyHeader(new Uint8Array(0)), { header: undefined, needMore: 15 });
  });

  test("build: the spec's example line, TCP6 and UNKNOWN", () => {
    const tcp4 = buildProxyHeader({
      ...inet,
      sourceAddress: "192.168.0.1",
      sourcePort: 56324,
      destinationAddress: "192.168.0.11",
      destinationPort: 443,
    }, {
      version: 1,
    });
    assert.equal(text(tcp4), "PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n");
    const tcp6 = buildProxyHeader({
      ...inet,
      version: 1,
      family: "inet6",
      sourceAddress: "2001:DB8:0::1",
      destinationAddress: "::1",
    });
    assert.equal(text(tcp6), "PROXY TCP6 2001:db8::1 ::1 1234 23456\r\n");
    assert.equal(text(buildProxyHeader({ family: "unspec", protocol: "unspec" }, { version: 1 })), "PROXY UNKNOWN\r\n");
  });

  test("build → parse: UNKNOWN, TCP4, TCP6 (Ranch v1_test)", () => {
    roundTrip({ version: 1, command: "proxy", family: "unspec", protocol: "unspec", tlvs: {} });
    roundTrip({ ...inet, version: 1 });
    roundTrip({
      ...inet,
      version: 1,
      family: "inet6",
      sourceAddress: "1:2:3:4:5:6:7:8",
      destinationAddress: "ffff:d903:8ae:14d:1:270f:309:8",
    });
  });
});

suite("proxy header v2", () => {
  const ipv4 = [127, 0, 0, 1, 192, 168, 0, 1, 1, 188, 1, 187]; // 127.0.0.1:444 -> 192.168.0.1:443
  const ipv6 = [
    ...[21, 156, 16, 144, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
    ...[32, 1, 13, 184, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
    ...[1, 188, 1, 187],
  ];

  test("parse: TCP and UDP over IPv4 (Ranch parse_v2_test)", () => {
    for (const [byte, protocol] of [[0x11, "stream"], [0x12, "dgram"]] as const) {
      const result = parsed(parseProxyHeader(raw(SIGNATURE, 0x21, byte, 0, 12, ipv4, GET)));
      assert.deepEqual(result.header, {
        version: 2,
        command: "proxy",
        family: "inet",
        protocol,
        sourceAddress: "127.0.0.1",
        sourcePort: 444,
        destinationAddress: "192.168.0.1",
        destinationPort: 443,
        tlvs: {},
      });
      assert.equal(result.rest, GET);
      assert.equal(result.length, 28);
    }
  });

  test("parse: TCP and UDP over IPv6", () => {
    for (const [byte, protocol] of [[0x21, "stream"], [0x22, "dgram"]] as const) {
      const result = parsed(parseProxyHeader(raw(SIGNATURE, 0x21, byte, 0, 36, ipv6, GET)));
      assert.equal(result.header.family, "inet6");
      assert.equal(result.header.protocol, protocol);
      assert.equal(result.header.sourceAddress, "159c:1090:1::");
      assert.equal(result.header.destinationAddress, "2001:db8:1::");
      assert.equal(result.header.sourcePort, 444);
      assert.equal(result.header.destinationPort, 443);
      assert.equal(result.rest, GET);
    }
  });

  test("parse: UNIX stream and datagram", () => {
    const path = bytes("/var/pgsql_sock");
    const field = new Uint8Array(108);
    field.set(path);
    for (const [byte, protocol] of [[0x31, "stream"], [0x32, "dgram"]] as const) {
      const result = parsed(parseProxyHeader(raw(SIGNATURE, 0x21, byte, 0, 216, field, field, GET)));
      assert.deepEqual(result.header, {
        version: 2,
        command: "proxy",
        family: "unix",
        protocol,
        sourceAddress: "/var/pgsql_sock",
        destinationAddress: "/var/pgsql_sock",
        tlvs: {},
      });
      assert.equal(result.rest, GET);
    }
    const full = new Uint8Array(108).fill(0x61); // a 108-byte path has no NUL
    assert.equal(
      parsed(parseProxyHeader(raw(SIGNATURE, 0x21, 0x31, 0, 216, full, field))).header.sourceAddress,
      "a".repeat(108),
    );
  });

  test("parse: a real header from AWS (CRC32C verified, its custom TLV kept raw)", () => {
    const aws = raw(
      SIGNATURE,
      [33, 17, 0, 84, 172, 31, 7, 113, 172, 31, 10, 31, 200, 242, 0, 80, 3, 0, 4, 232, 214, 137, 45, 234, 0, 23, 1],
      "vpce-08d2bf15fac5001c9",
      [4, 0, 36],
      new Uint8Array(36),
    );
    const result = parsed(parseProxyHeader(aws));
    assert.equal(result.length, aws.length);
    assert.equal(result.header.sourceAddress, "172.31.7.113");
    assert.equal(result.header.sourcePort, 51442);
    assert.equal(result.header.destinationAddress, "172.31.10.31");
    assert.equal(result.header.destinationPort, 80);
    assert.deepEqual(result.header.tlvs, { unknown: [{ type: 0xea, value: raw(1, "vpce-08d2bf15fac5001c9") }] });
    const tampered = aws.slice();
    tampered[19] = 113; // the source port's low byte
    tampered[19] = 0xf3;
    assert.equal(parseError(tampered), "EPROXY_CHECKSUM");
  });

  test("parse: LOCAL ignores the family and everything after the fixed part", () => {
    const local = { version: 2, command: "local", family: "unspec", protocol: "unspec", tlvs: {} };
    assert.deepEqual(parsed(parseProxyHeader(raw(SIGNATURE, 0x20, 0x00, 0, 0, GET))).header, local);
    const withBlock = parsed(parseProxyHeader(raw(SIGNATURE, 0x20, 0x11, 0, 12, ipv4, GET)));
    assert.deepEqual(withBlock.header, local);
    assert.equal(withBlock.rest, GET, "the declared length is skipped, not assumed zero");
    assert.equal(parsed(parseProxyHeader(raw(SIGNATURE, 0x20, 0xff, 0, 0))).header.command, "local");
  });

  test("parse: UNSPEC keeps its TLVs; a half-unspecified family skips the block", () => {
    const unspec = parsed(parseProxyHeader(raw(SIGNATURE, 0x21, 0x00, 0, 5, 0x01, 0, 2, "h2", GET)));
    assert.deepEqual(unspec.header, {
      version: 2,
      command: "proxy",
      family: "unspec",
      protocol: "unspec",
      tlvs: { alpn: "h2" },
    });
    assert.equal(unspec.rest, GET);
    const half = parsed(parseProxyHeader(raw(SIGNATURE, 0x21, 0x10, 0, 12, ipv4, GET)));
    assert.deepEqual(half.header, { version: 2, command: "proxy", family: "unspec", protocol: "unspec", tlvs: {} });
    assert.equal(half.rest, GET);
  });

  test("parse: bad fixed fields name their problem", () => {
    assert.equal(parseError(raw(SIGNATURE, 0x11, 0x11, 0, 12, ipv4)), "EPROXY_VERSION");
    assert.equal(parseError(raw(SIGNATURE, 0x22, 0x11, 0, 12, ipv4)), "EPROXY_COMMAND");
    assert.equal(parseError(raw(SIGNATURE, 0x21, 0x41, 0, 12, ipv4)), "EPROXY_FAMILY");
    assert.equal(parseError(raw(SIGNATURE, 0x21, 0x13, 0, 12, ipv4)), "EPROXY_PROTOCOL");
    assert.equal(parseError(raw(SIGNATURE, 0x21, 0x11, 0, 11, ipv4)), "EPROXY_LENGTH");
    assert.equal(parseError(raw(SIGNATURE, 0x21, 0x21, 0, 12, ipv4)), "EPROXY_LENGTH");
    assert.equal(parseError(raw(SIGNATURE, 0x21, 0x31, 0, 215)), "EPROXY_LENGTH");
    assert.equal(parseError(raw(SIGNATURE.slice(0, 11), 0x0b)), "EPROXY_SIGNATURE");
    // Errors in the fixed part show before the rest arrives.
    assert.equal(parseError(raw(SIGNATURE, 0x31)), "EPROXY_VERSION");
  });

  test("parse: bad TLVs name their problem", () => {
    const header = (...tlv: (number | string | number[] | Uint8Array)[]) => {
      const body = raw(...tlv);
      return raw(SIGNATURE, 0x21, 0x11, 0, 12 + body.length, ipv4, body);
    };
    assert.equal(parseError(header(0x01, 0, 5, "h2")), "EPROXY_TLV"); // runs past the end
    assert.equal(parseError(header(0x01, 0)), "EPROXY_TLV"); // a stray partial TLV header
    assert.equal(parseError(header(0x05, 0, 129, new Uint8Array(129))), "EPROXY_TLV");
    assert.equal(parsed(parseProxyHeader(header(0x05, 0, 128, new Uint8Array(128)))).header.tlvs.uniqueId?.length, 128);
    assert.equal(parseError(header(0x03, 0, 3, 0, 0, 0)), "EPROXY_TLV");
    assert.equal(parseError(header(0x03, 0, 4, 0, 0, 0, 0)), "EPROXY_CHECKSUM");
    assert.equal(parseError(header(0x20, 0, 4, 1, 0, 0, 0)), "EPROXY_TLV"); // SSL shorter than 5
    assert.equal(parseError(header(0x20, 0, 8, 1, 0, 0, 0, 0, 0x21, 0, 9)), "EPROXY_TLV"); // sub-TLV overrun
  });

  test("parse: duplicated and unknown SSL sub-TLVs", () => {
    const ssl = raw(0x20, 0, 5 + 5 + 4, 0x05, 0, 0, 0, 1, 0x21, 0, 2, "v1", 0x26, 0, 1, 7);
    const result = parsed(parseProxyHeader(raw(SIGNATURE, 0x21, 0x11, 0, 12 + ssl.length, ipv4, ssl)));
    assert.deepEqual(result.header.tlvs.ssl, {
      ssl: true,
      certificateOnConnection: false,
      certificateInSession: true,
      verified: false,
      version: "v1",
      unknown: [{ type: 0x26, value: raw(7) }],
    });
  });

  test("parse: the rest is a view into the input, not a copy", () => {
    const input = raw(SIGNATURE, 0x20, 0, 0, 0, GET);
    const result = parseProxyHeader(input);
    assert.ok(result.header !== undefined);
    assert.equal(result.rest.buffer, input.buffer);
    assert.equal(result.rest.byteOffset, 16);
  });

  test("build: the same bytes as Ranch's sample header", () => {
    const built = buildProxyHeader({
      family: "inet",
      protocol: "stream",
      sourceAddress: "127.0.0.1",
      sourcePort: 444,
      destinationAddress: "192.168.0.1",
      destinationPort: 443,
    });
    assert.deepEqual(built, raw(SIGNATURE, 0x21, 0x11, 0, 12, ipv4));
    assert.deepEqual(
      buildProxyHeader({ command: "local", family: "unspec", protocol: "unspec" }),
      raw(SIGNATURE, 0x20, 0, 0, 0),
    );
  });

  test("build → parse: LOCAL, UNSPEC and every family (Ranch v2_test)", () => {
    roundTrip({ version: 2, command: "local", family: "unspec", protocol: "unspec", tlvs: {} });
    roundTrip({ version: 2, command: "proxy", family: "unspec", protocol: "unspec", tlvs: {} });
    roundTrip(inet);
    roundTrip({ ...inet, protocol: "dgram" });
    roundTrip({
      ...inet,
      family: "inet6",
      sourceAddress: "1:2:3:4:5:6:7:8",
      destinationAddress: "ffff:d903:8ae:14d:1:270f:309:8",
    });
    roundTrip({
      ...inet,
      family: "inet6",
      protocol: "dgram",
      sourceAddress: "::ffff:10.0.0.1",
      destinationAddress: "::",
    });
    for (const protocol of ["stream", "dgram"] as const) {
      roundTrip({
        version: 2,
        command: "proxy",
        family: "unix",
        protocol,
        sourceAddress: "/run/source.sock",
        destinationAddress: "/run/destination.sock",
        tlvs: {},
      });
    }
  });

  test("build → parse: every TLV (Ranch v2_tlvs_test)", () => {
    roundTrip({ ...inet, tlvs: { alpn: "h2" } });
    roundTrip({ ...inet, tlvs: { authority: "internal.example.org" } });
    roundTrip({ ...inet, tlvs: { netns: "/var/run/netns/example" } });
    roundTrip({
      ...inet,
      tlvs: {
        ssl: {
          ssl: true,
          certificateOnConnection: true,
          certificateInSession: true,
          verified: true,
          version: "TLSv1.3",
          cipher: "ECDHE-RSA-AES128-GCM-SHA256",
          signatureAlgorithm: "SHA256",
          keyAlgorithm: "RSA2048",
          commonName: "example.com",
        },
      },
    });
    roundTrip({
      ...inet,
      tlvs: { ssl: { ssl: false, certificateOnConnection: false, certificateInSession: false, verified: false } },
    });
    // Unknown TLVs come back in the order they were sent.
    roundTrip({
      ...inet,
      tlvs: {
        unknown: [{ type: 0xea, value: raw(1, "instance-id") }, {
          type: 0xff,
          value: raw(1, 2, 3, 4, 5, 6, 7, 8, 9, 0),
        }],
      },
    });
    for (const length of [0, 1, 64, 128]) {
      roundTrip({ ...inet, tlvs: { uniqueId: new Uint8Array(length).fill(length) } });
    }
    roundTrip({
      version: 2,
      command: "proxy",
      family: "unix",
      protocol: "stream",
      sourceAddress: "/a",
      destinationAddress: "/b",
      tlvs: {
        alpn: "http/1.1",
        authority: "é.example",
        uniqueId: raw(1, 2),
        netns: "ns",
        unknown: [{ type: 0xe0, value: raw() }],
      },
    });
  });

  test("build → parse: checksum and padding (Ranch v2_checksum_test, v2_padding_test)", () => {
    const plain = buildProxyHeader(inet);
    const summed = buildProxyHeader(inet, { checksum: "crc32c" });
    assert.equal(summed.length, plain.length + 7);
    roundTrip(inet, { checksum: "crc32c" });
    const padded = buildProxyHeader(inet, { padding: 123 });
    assert.equal(padded.length, plain.length + 123);
    roundTrip(inet, { padding: 123 });
    roundTrip({ ...inet, tlvs: { alpn: "h2", uniqueId: raw(9) } }, { padding: 3, checksum: "crc32c" });
    roundTrip({ version: 2, command: "proxy", family: "unspec", protocol: "unspec", tlvs: {} }, { checksum: "crc32c" });
    // Every single-bit error in a checksummed header is caught (or breaks the framing).
    const header = buildProxyHeader({ ...inet, tlvs: { authority: "example.org" } }, { checksum: "crc32c" });
    for (let i = 16; i < header.length; i++) {
      // Flipping the CRC32C TLV's type byte turns it into an unknown TLV: nothing left to check.
      if (i === header.length - 7) continue;
      const flipped = header.slice();
      flipped[i]! ^= 0x04;
      assert.throws(() => parseProxyHeader(flipped), ProxyHeaderError, `flip at byte ${i}`);
    }
  });

  test("build → parse: the largest header there is", () => {
    const value = new Uint8Array(65535 - 12 - 3);
    const header = buildProxyHeader({ ...inet, tlvs: { unknown: [{ type: 0xf0, value }] } });
    assert.equal(header.length, 16 + 65535);
    assert.equal(parsed(parseProxyHeader(header)).header.tlvs.unknown?.[0]?.value.length, value.length);
    assert.throws(
      () => buildProxyHeader({ ...inet, tlvs: { unknown: [{ type: 0xf0, value }] } }, { padding: 3 }),
      RangeError,
    );
  });
});

suite("proxy header build misuse", () => {
  const misuse: [string, () => unknown, ErrorConstructor | RangeErrorConstructor | TypeErrorConstructor][] = [
    ["v1 LOCAL", () => buildProxyHeader({ ...inet, command: "local" }, { version: 1 }), TypeError],
    [
      "v1 UNIX",
      () =>
        buildProxyHeader({ ...inet, family: "unix", sourceAddress: "/a", destinationAddress: "/b" }, { version: 1 }),
      TypeError,
    ],
    ["v1 DGRAM", () => buildProxyHeader({ ...inet, protocol: "dgram" }, { version: 1 }), TypeError],
    ["v1 TLVs", () => buildProxyHeader({ ...inet, tlvs: { alpn: "h2" } }, { version: 1 }), TypeError],
    ["v1 checksum", () => buildProxyHeader(inet, { version: 1, checksum: "crc32c" }), TypeError],
    ["version 3", () => buildProxyHeader(inet, { version: 3 as 2 }), RangeError],
    ["an IPv6 address for inet", () => buildProxyHeader({ ...inet, sourceAddress: "::1" }), TypeError],
    ["a missing address", () => buildProxyHeader({ ...inet, destinationAddress: undefined }), TypeError],
    ["port 65536", () => buildProxyHeader({ ...inet, sourcePort: 65536 }), RangeError],
    ["a fractional port", () => buildProxyHeader({ ...inet, destinationPort: 1.5 }), RangeError],
    ["half unspec", () => buildProxyHeader({ ...inet, protocol: "unspec" }), TypeError],
    [
      "a 109-byte path",
      () => buildProxyHeader({ ...inet, family: "unix", sourceAddress: "a".repeat(109), destinationAddress: "/b" }),
      RangeError,
    ],
    ["padding 2", () => buildProxyHeader(inet, { padding: 2 }), RangeError],
    ["checksum md5", () => buildProxyHeader(inet, { checksum: "md5" as "crc32c" }), TypeError],
    [
      "a raw TLV posing as ALPN",
      () => buildProxyHeader({ ...inet, tlvs: { unknown: [{ type: 1, value: raw() }] } }),
      RangeError,
    ],
    ["a 129-byte unique id", () => buildProxyHeader({ ...inet, tlvs: { uniqueId: new Uint8Array(129) } }), RangeError],
    ["a misspelt TLV", () => buildProxyHeader({ ...inet, tlvs: { alnp: "h2" } as never }), TypeError],
    ["LOCAL with TLVs", () => buildProxyHeader({ ...inet, command: "local", tlvs: { alpn: "h2" } }), TypeError],
    ["an unknown family", () => buildProxyHeader({ ...inet, family: "ipx" as "inet" }), TypeError],
  ];
  for (const [name, build, type] of misuse) {
    test(`build refuses ${name}`, () => {
      assert.throws(build, type);
    });
  }

  test("the header's version is used unless the option says otherwise", () => {
    const header: ProxyHeaderInit = { ...inet, version: 1 };
    assert.equal(text(buildProxyHeader(header))!.startsWith("PROXY TCP4"), true);
    assert.equal(buildProxyHeader(header, { version: 2 })[12], 0x21);
    assert.equal(buildProxyHeader({ ...inet, version: undefined })[12], 0x21);
  });
});

suite("proxy header needMore", () => {
  const headers: [string, Uint8Array][] = [
    ["v1 TCP4", buildProxyHeader({ ...inet, sourceAddress: "192.168.100.200", sourcePort: 65535 }, { version: 1 })],
    [
      "v1 TCP6",
      buildProxyHeader({ ...inet, family: "inet6", sourceAddress: "2001:db8::1", destinationAddress: "::1" }, {
        version: 1,
      }),
    ],
    ["v1 UNKNOWN", bytes("PROXY UNKNOWN\r\n")],
    ["v1 UNKNOWN with fields", bytes("PROXY UNKNOWN 1.2.3.4 5.6.7.8 1 2\r\n")],
    ["v2 LOCAL", buildProxyHeader({ command: "local", family: "unspec", protocol: "unspec" })],
    ["v2 inet with TLVs", buildProxyHeader({ ...inet, tlvs: { alpn: "h2" } }, { checksum: "crc32c" })],
  ];
  for (const [name, header] of headers) {
    test(`every prefix of ${name} asks for more, never past its end`, () => {
      for (let have = 0; have < header.length; have++) {
        const result = parseProxyHeader(header.subarray(0, have));
        assert.ok(result.header === undefined, `prefix ${have} parsed as complete`);
        assert.ok(
          result.needMore >= 1 && have + result.needMore <= header.length,
          `prefix ${have}: needMore ${result.needMore}`,
        );
      }
      // Reading exactly what it asks for lands on the end of the header.
      let have = 0;
      for (let step = 0; step < header.length; step++) {
        const result = parseProxyHeader(header.subarray(0, have));
        if (result.header !== undefined) break;
        have += result.needMore;
      }
      assert.equal(have, header.length);
    });
  }
});
