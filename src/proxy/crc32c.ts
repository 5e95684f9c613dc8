/**
 * CRC32C (Castagnoli), the checksum of the PROXY protocol v2 `CRC32C` TLV
 * (and of iSCSI and SCTP, RFC 3720 / RFC 4960).
 *
 * @module
 */

/** The reflected Castagnoli polynomial 0x1EDC6F41. */
const POLYNOMIAL = 0x82f63b78;

/**
 * Eight lookup tables for slicing-by-8: table k maps a byte to its CRC
 * contribution k bytes further on, so the loop folds 8 bytes per step.
 */
const TABLES: Uint32Array = makeTables();

function makeTables(): Uint32Array {
  const tables = new Uint32Array(8 * 256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLYNOMIAL : c >>> 1;
    tables[n] = c;
  }
  for (let n = 0; n < 256; n++) {
    let c = tables[n]!;
    for (let t = 1; t < 8; t++) {
      c = tables[c & 0xff]! ^ (c >>> 8);
      tables[t * 256 + n] = c;
    }
  }
  return tables;
}

/**
 * The CRC32C of `data`, as an unsigned 32-bit number. Pass the result of
 * a previous call as `previous` to continue over more bytes:
 * `crc32c(b, crc32c(a))` equals the CRC32C of `a` followed by `b`.
 *
 * @example The check value of the CRC catalogue, and a continued checksum
 * ```ts
 * import assert from "node:assert/strict";
 * import { crc32c } from "./crc32c.ts";
 * const bytes = new TextEncoder().encode("123456789");
 * assert(crc32c(bytes) === 0xe3069283);
 * assert(crc32c(bytes.subarray(4), crc32c(bytes.subarray(0, 4))) === 0xe3069283);
 * ```
 */
export function crc32c(data: Uint8Array, previous = 0): number {
  const t = TABLES;
  let crc = ~previous >>> 0;
  let i = 0;
  const end8 = data.length - (data.length % 8);
  while (i < end8) {
    const lo = crc ^ (data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24));
    crc = t[1792 + (lo & 0xff)]! ^
      t[1536 + ((lo >>> 8) & 0xff)]! ^
      t[1280 + ((lo >>> 16) & 0xff)]! ^
      t[1024 + (lo >>> 24)]! ^
      t[768 + data[i + 4]!]! ^
      t[512 + data[i + 5]!]! ^
      t[256 + data[i + 6]!]! ^
      t[data[i + 7]!]!;
    i += 8;
  }
  while (i < data.length) crc = t[(crc ^ data[i++]!) & 0xff]! ^ (crc >>> 8);
  return ~crc >>> 0;
}
