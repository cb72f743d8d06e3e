// CRC32C against RFC 3720 appendix B.4 (the iSCSI examples; the CRC there is listed in wire order,
// least significant byte first) and the CRC catalogue's check value.

import { describe, expect, test } from "bun:test";
import { crc32c, crc32cUpdate } from "../../src/proxy/index.ts";

const iscsiRead10 = new Uint8Array(48);
iscsiRead10.set([0x01, 0xc0], 0);
iscsiRead10[16] = 0x14;
iscsiRead10[22] = 0x04;
iscsiRead10[27] = 0x14;
iscsiRead10[31] = 0x18;
iscsiRead10[32] = 0x28;
iscsiRead10[40] = 0x02;

const vectors: [string, Uint8Array, number][] = [
  ["32 bytes of zeroes (CRC aa 36 91 8a)", new Uint8Array(32), 0x8a9136aa],
  ["32 bytes of ones (CRC 43 ab a8 62)", new Uint8Array(32).fill(0xff), 0x62a8ab43],
  ["32 incrementing bytes 00..1f (CRC 4e 79 dd 46)", Uint8Array.from({ length: 32 }, (_, i) => i), 0x46dd794e],
  ["32 decrementing bytes 1f..00 (CRC 5c db 3f 11)", Uint8Array.from({ length: 32 }, (_, i) => 31 - i), 0x113fdb5c],
  ["an iSCSI SCSI Read (10) command PDU (CRC 56 3a 96 d9)", iscsiRead10, 0xd9963a56],
  ['check value of "123456789"', new TextEncoder().encode("123456789"), 0xe3069283],
  ["no bytes", new Uint8Array(0), 0],
];

describe("CRC32C", () => {
  for (const [name, data, crc] of vectors) {
    test(`RFC 3720 B.4 / catalogue: ${name}`, () => {
      expect(crc32c(data).toString(16)).toBe(crc.toString(16));
    });
  }

  test("equals the bitwise definition on every length from 0 to 100", () => {
    // The slicing-by-8 tables against the polynomial itself, across the 8-byte loop and the tail.
    const bitwise = (d: Uint8Array) => {
      let c = 0xffffffff;
      for (const b of d) {
        c ^= b;
        for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
      }
      return (c ^ 0xffffffff) >>> 0;
    };
    let x = 12345;
    const data = Uint8Array.from({ length: 100 }, () => (x = (x * 1103515245 + 12345) >>> 0) >>> 24);
    for (let n = 0; n <= data.length; n++) expect(crc32c(data.subarray(0, n))).toBe(bitwise(data.subarray(0, n)));
  });

  test("every split of a message gives the same CRC through crc32cUpdate, at every alignment", () => {
    // The 8-byte main loop and the byte tail must agree wherever a chunk starts and ends.
    const data = Uint8Array.from({ length: 300 }, (_, i) => (i * 131 + 7) & 0xff);
    const whole = crc32c(data);
    for (let k = 0; k <= data.length; k++) {
      expect(crc32cUpdate(crc32c(data, 0, k), data, k)).toBe(whole);
    }
    for (let off = 0; off < 9; off++) expect(crc32c(data.subarray(off))).toBe(crc32c(data, off));
  });
});
