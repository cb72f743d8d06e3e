// Strictness: bad v1 lines and bad v2 headers, each refused with its exact reason, and refused at
// the earliest byte that proves it (every shorter prefix is "incomplete", that byte is the error).

import { describe, expect, test } from "bun:test";
import { parseProxyHeader, type ProxyAccept, type ProxyErrorReason } from "../../src/proxy/index.ts";

const enc = new TextEncoder();
const SIG = [0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a];

/** A v2 header by hand: signature, ver_cmd, fam, then `body` with its length (or `len`). */
function v2(verCmd: number, fam: number, body: number[] = [], len = body.length): Uint8Array {
  return Uint8Array.from([...SIG, verCmd, fam, len >> 8, len & 0xff, ...body]);
}
const INET = [192, 0, 2, 1, 198, 51, 100, 2, 0x30, 0x39, 0x01, 0xbb];
const tlv = (type: number, value: number[], len = value.length) => [type, len >> 8, len & 0xff, ...value];
const bytes = (n: number, b = 0x61) => new Array<number>(n).fill(b);

/** CRC32C by the definition (bitwise), to build a header whose checksum is right but for one bit. */
function crc32cBitwise(data: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of data) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}
function withCrc(body: number[], crcAt: number, flip = 0): Uint8Array {
  const h = v2(0x21, 0x11, body);
  const crc = (crc32cBitwise(h) ^ flip) >>> 0;
  new DataView(h.buffer).setUint32(16 + crcAt, crc);
  return h;
}

interface Case {
  readonly name: string;
  readonly input: Uint8Array | string;
  readonly accept?: ProxyAccept;
  readonly reason: Exclude<ProxyErrorReason, "timeout">;
  /** The prefix length at which the error must come (default: only the whole input is checked). */
  readonly at?: number;
}

const V1 = "PROXY TCP4 192.0.2.1 198.51.100.2 12345 443\r\n";
const cases: Case[] = [
  // Signature and version choice.
  { name: "HTTP instead of a header", input: "GET / HTTP/1.1\r\n", reason: "bad-signature", at: 1 },
  { name: "TLS ClientHello instead of a header", input: Uint8Array.of(0x16, 0x03, 0x01, 0x00, 0xa5), reason: "bad-signature", at: 1 },
  { name: "PROXX", input: "PROXX TCP4 1.2.3.4 1.2.3.4 1 2\r\n", reason: "bad-signature", at: 5 },
  { name: "PROXY without its space", input: "PROXYTCP4 1.2.3.4 1.2.3.4 1 2\r\n", reason: "bad-signature", at: 6 },
  { name: "v1 line where only v2 is accepted", input: V1, accept: "v2", reason: "bad-signature", at: 1 },
  { name: "v2 header where only v1 is accepted", input: v2(0x21, 0x11, INET), accept: "v1", reason: "bad-signature", at: 1 },
  { name: "v2 signature wrong at byte 5", input: Uint8Array.of(0x0d, 0x0a, 0x0d, 0x0a, 0x01), reason: "bad-signature", at: 5 },
  { name: "v2 signature wrong at byte 12", input: Uint8Array.of(...SIG.slice(0, 11), 0x0d, 0x21), reason: "bad-signature", at: 12 },
  // v1 grammar (section 2.1).
  { name: "two spaces after PROXY", input: "PROXY  TCP4 1.2.3.4 1.2.3.4 1 2\r\n", reason: "bad-v1", at: 7 },
  { name: "lower-case protocol", input: "PROXY tcp4 1.2.3.4 1.2.3.4 1 2\r\n", reason: "bad-v1", at: 7 },
  { name: "TCP5", input: "PROXY TCP5 1.2.3.4 1.2.3.4 1 2\r\n", reason: "bad-v1", at: 10 },
  { name: "UDP4", input: "PROXY UDP4 1.2.3.4 1.2.3.4 1 2\r\n", reason: "bad-v1", at: 8 },
  { name: "TCP4 without its space", input: "PROXY TCP4\r\n", reason: "bad-v1", at: 11 },
  { name: "UNKNOWN glued to more", input: "PROXY UNKNOWNX\r\n", reason: "bad-v1", at: 14 },
  { name: "line ends inside the protocol word", input: "PROXY UNK\r\n", reason: "bad-v1", at: 10 },
  { name: "LF alone ends the line", input: "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n", reason: "bad-v1", at: 31 },
  { name: "CR alone ends the line", input: "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\rX", reason: "bad-v1", at: 32 },
  { name: "CR CR LF", input: "PROXY UNKNOWN\r\r\n", reason: "bad-v1", at: 15 },
  { name: "LF alone in an UNKNOWN line", input: "PROXY UNKNOWN a\nb\r\n", reason: "bad-v1", at: 16 },
  { name: "two spaces between fields", input: "PROXY TCP4 1.2.3.4  5.6.7.8 1 2\r\n", reason: "bad-v1" },
  { name: "trailing space", input: "PROXY TCP4 1.2.3.4 5.6.7.8 1 2 \r\n", reason: "bad-v1" },
  { name: "a port missing", input: "PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n", reason: "bad-v1" },
  { name: "nothing after TCP4", input: "PROXY TCP4 \r\n", reason: "bad-v1" },
  { name: "IPv4 with a leading zero", input: "PROXY TCP4 01.2.3.4 5.6.7.8 1 2\r\n", reason: "bad-v1" },
  { name: "IPv4 octet 256", input: "PROXY TCP4 1.2.3.256 5.6.7.8 1 2\r\n", reason: "bad-v1" },
  { name: "IPv4 with three parts", input: "PROXY TCP4 1.2.3 5.6.7.8 1 2\r\n", reason: "bad-v1" },
  { name: "IPv4 with five parts", input: "PROXY TCP4 1.2.3.4.5 5.6.7.8 1 2\r\n", reason: "bad-v1" },
  { name: "IPv6 under TCP4", input: "PROXY TCP4 ::1 ::1 1 2\r\n", reason: "bad-v1" },
  { name: "IPv4 under TCP6", input: "PROXY TCP6 1.2.3.4 ::1 1 2\r\n", reason: "bad-v1" },
  { name: "IPv6 zone id", input: "PROXY TCP6 fe80::1%eth0 ::1 1 2\r\n", reason: "bad-v1", at: 19 },
  { name: "IPv6 in brackets", input: "PROXY TCP6 [::1] ::1 1 2\r\n", reason: "bad-v1", at: 12 },
  { name: "IPv6 with nine groups", input: "PROXY TCP6 1:2:3:4:5:6:7:8:9 ::1 1 2\r\n", reason: "bad-v1" },
  { name: "IPv6 with seven groups and no ::", input: "PROXY TCP6 1:2:3:4:5:6:7 ::1 1 2\r\n", reason: "bad-v1" },
  { name: "IPv6 with two ::", input: "PROXY TCP6 1::2::3 ::1 1 2\r\n", reason: "bad-v1" },
  { name: "IPv6 with :: standing for nothing", input: "PROXY TCP6 1:2:3:4::5:6:7:8 ::1 1 2\r\n", reason: "bad-v1" },
  { name: "IPv6 group of five digits", input: "PROXY TCP6 12345::1 ::1 1 2\r\n", reason: "bad-v1" },
  { name: "IPv6 with a lone leading colon", input: "PROXY TCP6 :1::2 ::1 1 2\r\n", reason: "bad-v1" },
  { name: "IPv6 with a lone trailing colon", input: "PROXY TCP6 1::2: ::1 1 2\r\n", reason: "bad-v1" },
  { name: "IPv6 ::: ", input: "PROXY TCP6 ::: ::1 1 2\r\n", reason: "bad-v1" },
  { name: "IPv6 IPv4 tail with a leading zero", input: "PROXY TCP6 ::ffff:1.2.3.04 ::1 1 2\r\n", reason: "bad-v1" },
  { name: "IPv6 IPv4 tail not last", input: "PROXY TCP6 ::1.2.3.4:1 ::1 1 2\r\n", reason: "bad-v1" },
  { name: "port with a leading zero", input: "PROXY TCP4 1.2.3.4 5.6.7.8 01 2\r\n", reason: "bad-v1" },
  { name: "port 65536", input: "PROXY TCP4 1.2.3.4 5.6.7.8 1 65536\r\n", reason: "bad-v1" },
  { name: "port 100000", input: "PROXY TCP4 1.2.3.4 5.6.7.8 100000 2\r\n", reason: "bad-v1" },
  { name: "negative port", input: "PROXY TCP4 1.2.3.4 5.6.7.8 -1 2\r\n", reason: "bad-v1", at: 28 },
  { name: "hex port", input: "PROXY TCP4 1.2.3.4 5.6.7.8 1e3 2\r\n", reason: "bad-v1" },
  { name: "NUL in a TCP4 line", input: "PROXY TCP4 1.2.3.4\0 5.6.7.8 1 2\r\n", reason: "bad-v1", at: 19 },
  { name: "no CRLF within 107 bytes", input: `PROXY UNKNOWN ${"a".repeat(200)}`, reason: "bad-v1", at: 106 },
  { name: "a 108-byte line", input: `PROXY UNKNOWN ${"a".repeat(92)}\r\n`, reason: "bad-v1", at: 106 },
  // v2 fixed part (section 2.2).
  { name: "v2 version 1", input: v2(0x11, 0x11, INET), reason: "unsupported-version", at: 13 },
  { name: "v2 version 3", input: v2(0x31, 0x11, INET), reason: "unsupported-version", at: 13 },
  { name: "v2 command 2", input: v2(0x22, 0x11, INET), reason: "unsupported-command", at: 13 },
  { name: "v2 command 15", input: v2(0x2f, 0x11, INET), reason: "unsupported-command", at: 13 },
  { name: "v2 family 4", input: v2(0x21, 0x41, INET), reason: "bad-family", at: 14 },
  { name: "v2 family 15", input: v2(0x21, 0xf1, INET), reason: "bad-family", at: 14 },
  { name: "v2 transport 3", input: v2(0x21, 0x13, INET), reason: "bad-family", at: 14 },
  { name: "v2 LOCAL with family 4", input: v2(0x20, 0x40), reason: "bad-family", at: 14 },
  { name: "v2 INET length 11", input: v2(0x21, 0x11, INET.slice(0, 11)), reason: "bad-length", at: 16 },
  { name: "v2 INET6 length 35", input: v2(0x21, 0x21, bytes(35, 0)), reason: "bad-length", at: 16 },
  { name: "v2 UNIX length 215", input: v2(0x21, 0x31, bytes(215, 0)), reason: "bad-length", at: 16 },
  { name: "v2 INET length 0", input: v2(0x21, 0x11), reason: "bad-length", at: 16 },
  // TLV framing (section 2.2) and fixed sizes.
  { name: "TLV head cut after 2 bytes", input: v2(0x21, 0x11, [...INET, 0x01, 0x00]), reason: "bad-tlv" },
  { name: "TLV head cut after 1 byte", input: v2(0x20, 0x00, [0x04]), reason: "bad-tlv" },
  { name: "TLV value longer than the header", input: v2(0x21, 0x11, [...INET, ...tlv(0x02, bytes(5), 10)]), reason: "bad-tlv" },
  { name: "TLV value 1 byte too long", input: v2(0x21, 0x11, [...INET, ...tlv(0x04, bytes(3), 4)]), reason: "bad-tlv" },
  { name: "CRC32C of 3 bytes", input: v2(0x21, 0x11, [...INET, ...tlv(0x03, [0, 0, 0])]), reason: "bad-tlv" },
  { name: "CRC32C of 5 bytes", input: v2(0x21, 0x11, [...INET, ...tlv(0x03, [0, 0, 0, 0, 0])]), reason: "bad-tlv" },
  { name: "two CRC32C TLVs", input: v2(0x21, 0x11, [...INET, ...tlv(0x03, [0, 0, 0, 0]), ...tlv(0x03, [0, 0, 0, 0])]), reason: "bad-tlv" },
  { name: "CRC32C off by one bit", input: withCrc([...INET, ...tlv(0x03, [0, 0, 0, 0])], 15, 1), reason: "crc-mismatch" },
  { name: "CRC32C computed without zeroing its field", input: v2(0x21, 0x11, [...INET, ...tlv(0x03, [0, 0, 0, 0])]), reason: "crc-mismatch" },
  { name: "UNIQUE_ID of 129 bytes", input: v2(0x21, 0x11, [...INET, ...tlv(0x05, bytes(129))]), reason: "bad-tlv" },
  { name: "SSL TLV of 4 bytes", input: v2(0x21, 0x11, [...INET, ...tlv(0x20, [1, 0, 0, 0])]), reason: "bad-tlv" },
  { name: "SSL sub-TLV running past the SSL TLV", input: v2(0x21, 0x11, [...INET, ...tlv(0x20, [1, 0, 0, 0, 0, ...tlv(0x21, bytes(3), 4)])]), reason: "bad-tlv" },
  { name: "SSL sub-TLV head cut", input: v2(0x21, 0x11, [...INET, ...tlv(0x20, [1, 0, 0, 0, 0, 0x22, 0x00])]), reason: "bad-tlv" },
];

describe("strictness: each bad header gets its exact reason", () => {
  for (const c of cases) {
    test(`${c.name} -> ${c.reason}${c.at ? ` at byte ${c.at}` : ""}`, () => {
      const input = typeof c.input === "string" ? enc.encode(c.input) : c.input;
      const accept = c.accept ?? "any";
      const r = parseProxyHeader(input, accept);
      expect(r.kind === "error" ? r.reason : r.kind).toBe(c.reason);
      if (c.at !== undefined) {
        for (let k = 1; k < c.at; k++) expect(`${k}: ${parseProxyHeader(input.subarray(0, k), accept).kind}`).toBe(`${k}: incomplete`);
        const early = parseProxyHeader(input.subarray(0, c.at), accept);
        expect(early.kind === "error" ? early.reason : early.kind).toBe(c.reason);
      }
    });
  }
});

describe("the edges that must be accepted", () => {
  const ok: [string, Uint8Array | string][] = [
    ["a 107-byte UNKNOWN line", `PROXY UNKNOWN ${"a".repeat(90)}\r\n`],
    ["UNKNOWN with bytes no TCP line may hold", "PROXY UNKNOWN \0\x7f\xff\r\n"],
    ["ports 0 and 65535", "PROXY TCP4 0.0.0.0 255.255.255.255 0 65535\r\n"],
    ["IPv6 in upper case, uncompressed, with an IPv4 tail", "PROXY TCP6 0:0:0:0:0:FFFF:192.0.2.1 2001:DB8:0000:0000:0000:0000:0000:0001 1 2\r\n"],
    ["IPv6 :: standing for one group", "PROXY TCP6 1:2:3::5:6:7:8 :: 1 2\r\n"],
    ["UNIQUE_ID of 128 bytes", v2(0x21, 0x11, [...INET, ...tlv(0x05, bytes(128))])],
    ["an empty TLV of every kind that may be empty", v2(0x21, 0x11, [...INET, ...tlv(0x01, []), ...tlv(0x02, []), ...tlv(0x04, []), ...tlv(0x05, []), ...tlv(0x30, []), ...tlv(0xea, []), ...tlv(0xee, []), ...tlv(0xe0, [])])],
    ["LOCAL with an INET address block", v2(0x20, 0x11, INET)],
    ["LOCAL naming INET6 without its address block (the family is ignored for LOCAL)", v2(0x20, 0x21, tlv(0x04, [0]))],
    ["PROXY with AF_UNSPEC and TLVs only", v2(0x21, 0x00, tlv(0x04, [0, 0]))],
    ["INET with transport UNSPEC", v2(0x21, 0x10, INET)],
  ];
  for (const [name, input] of ok) {
    test(`${name} is accepted`, () => {
      const bytesIn = typeof input === "string" ? Uint8Array.from(input, (ch) => ch.charCodeAt(0)) : input;
      const r = parseProxyHeader(bytesIn, "any");
      expect(r.kind === "ok" ? r.length : JSON.stringify(r)).toBe(bytesIn.length);
    });
  }

  test("LOCAL naming a family without addresses: its bytes are TLVs, no endpoints", () => {
    const r = parseProxyHeader(v2(0x20, 0x11, [...tlv(0x05, [0x61]), ...tlv(0x04, [])]), "v2");
    if (r.kind !== "ok") throw new Error(JSON.stringify(r));
    expect(r.header).toMatchObject({ command: "local", family: "inet", source: null, destination: null });
    expect(r.header.tlvs.map((t) => t.name)).toEqual(["unique-id", "noop"]);
  });

  test("a v2 length of 65535 waits for its bytes instead of failing", () => {
    const h = v2(0x21, 0x11, [...INET, ...tlv(0x04, bytes(100, 0), 65535 - 15)], 65535);
    expect(parseProxyHeader(h, "v2").kind).toBe("incomplete");
    const full = new Uint8Array(16 + 65535);
    full.set(h);
    const r = parseProxyHeader(full, "v2");
    expect(r.kind === "ok" ? r.length : r.kind).toBe(16 + 65535);
  });
});
