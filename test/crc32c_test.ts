/**
 * CRC32C against the vectors of RFC 3720 (iSCSI) appendix B.4 and the
 * catalogue check value, and continued checksums against one-shot ones.
 */
import assert from "node:assert/strict";
import { crc32c } from "../src/proxy/crc32c.ts";
import { suite, test } from "./_harness.ts";
import { pattern } from "./_fixtures.ts";

/** A straightforward bit-at-a-time CRC32C, to check the table-driven one against. */
function bitwiseCrc32c(data: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of data) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return ~crc >>> 0;
}

suite("crc32c", () => {
  test("RFC 3720 B.4: 32 bytes of zeros, of ones, incrementing, decrementing", () => {
    assert.equal(crc32c(new Uint8Array(32)), 0x8a9136aa);
    assert.equal(crc32c(new Uint8Array(32).fill(0xff)), 0x62a8ab43);
    assert.equal(crc32c(Uint8Array.from({ length: 32 }, (_, i) => i)), 0x46dd794e);
    assert.equal(crc32c(Uint8Array.from({ length: 32 }, (_, i) => 31 - i)), 0x113fdb5c);
  });

  test("RFC 3720 B.4: an iSCSI read command PDU", () => {
    // 16 bytes to a row, as in a hex dump: deno fmt would give each of the 48 its own line.
    // deno-fmt-ignore
    const pdu = new Uint8Array([
      0x01, 0xc0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
      0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x18,
      0x28, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    ]);
    assert.equal(crc32c(pdu), 0xd9963a56);
  });

  test('the catalogue check value of "123456789", and the empty input', () => {
    assert.equal(crc32c(new TextEncoder().encode("123456789")), 0xe3069283);
    assert.equal(crc32c(new Uint8Array(0)), 0);
  });

  test("agrees with a bitwise CRC on every length from 0 to 100 and on a large buffer", () => {
    for (let length = 0; length <= 100; length++) {
      const data = pattern(length, length + 1);
      assert.equal(crc32c(data), bitwiseCrc32c(data), `length ${length}`);
    }
    const large = pattern(70_000, 7);
    assert.equal(crc32c(large), bitwiseCrc32c(large));
  });

  test("a checksum continued over pieces equals the one-shot checksum, at every split", () => {
    const data = pattern(37, 3);
    const whole = crc32c(data);
    for (let split = 0; split <= data.length; split++) {
      assert.equal(crc32c(data.subarray(split), crc32c(data.subarray(0, split))), whole, `split at ${split}`);
    }
  });

  test("works on a view into a larger buffer", () => {
    const backing = pattern(64, 9);
    const view = backing.subarray(5, 45);
    assert.equal(crc32c(view), bitwiseCrc32c(view.slice()));
  });
});
