// The encoder: exact bytes for known headers, the CRC32C protecting every byte, input errors, and
// encoder -> parser round trips.

import { describe, expect, test } from "bun:test";
import {
  encodeProxyV1,
  encodeProxyV2,
  parseProxyHeader,
  proxyTlv,
  type ProxyHeader,
  type ProxyV2Init,
} from "../../src/proxy/index.ts";

const text = (b: Uint8Array) => new TextDecoder().decode(b);

function parsed(bytes: Uint8Array): ProxyHeader {
  const r = parseProxyHeader(bytes, "any");
  if (r.kind !== "ok") throw new Error(JSON.stringify(r));
  expect(r.length).toBe(bytes.length);
  return r.header;
}

describe("exact bytes", () => {
  test("v1: the spec's example line (section 2.1)", () => {
    const line = encodeProxyV1({ source: { address: "192.168.0.1", port: 56324 }, destination: { address: "192.168.0.11", port: 443 } });
    expect(text(line)).toBe("PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n");
  });

  test("v1: IPv6 written in RFC 5952 form whatever the input spelling, UNKNOWN without addresses", () => {
    const line = encodeProxyV1({ source: { address: "2001:DB8:0:0:0:0:0:1", port: 1 }, destination: { address: "0:0:0:0:0:ffff:c000:201", port: 2 } });
    expect(text(line)).toBe("PROXY TCP6 2001:db8::1 ::ffff:192.0.2.1 1 2\r\n");
    expect(text(encodeProxyV1())).toBe("PROXY UNKNOWN\r\n");
  });

  test("v2: LOCAL health check is the 16 fixed bytes", () => {
    expect(Array.from(encodeProxyV2({ command: "local" }))).toEqual([13, 10, 13, 10, 0, 13, 10, 81, 85, 73, 84, 10, 0x20, 0x00, 0, 0]);
  });

  test("v2: the bytes proxy-protocol-js documents for LOCAL DGRAM 127.0.0.1:12345 -> 192.0.2.1:54321", () => {
    const bytes = encodeProxyV2({ command: "local", transport: "dgram", source: { address: "127.0.0.1", port: 12345 }, destination: { address: "192.0.2.1", port: 54321 } });
    expect(Array.from(bytes)).toEqual([13, 10, 13, 10, 0, 13, 10, 81, 85, 73, 84, 10, 32, 18, 0, 12, 127, 0, 0, 1, 192, 0, 2, 1, 48, 57, 212, 49]);
  });

  test("v2: TLVs in order, each type, length (network order), value; the CRC32C last", () => {
    const bytes = encodeProxyV2({ source: { address: "1.2.3.4", port: 1 }, destination: { address: "5.6.7.8", port: 2 }, tlvs: [proxyTlv.alpn("h2"), proxyTlv.azure(0x01020304)], crc32c: true });
    expect(Buffer.from(bytes.subarray(12, 28)).toString("hex")).toBe("2111" + "0020" + "01020304" + "05060708" + "0001" + "0002");
    expect(Buffer.from(bytes.subarray(28, 41)).toString("hex")).toBe("010002" + "6832" + "ee0005" + "01" + "04030201");
    expect(Buffer.from(bytes.subarray(41, 44)).toString("hex")).toBe("030004");
    expect(bytes.length).toBe(48);
  });
});

describe("the CRC32C", () => {
  test("a single changed byte anywhere in a checksummed header is never accepted, but for the CRC TLV's type", () => {
    const bytes = encodeProxyV2({
      source: { address: "2001:db8::1", port: 443 },
      destination: { address: "2001:db8::2", port: 8443 },
      tlvs: [proxyTlv.uniqueId("abc"), proxyTlv.authority("example.com")],
      crc32c: true,
    });
    expect(parseProxyHeader(bytes, "v2").kind).toBe("ok");
    // Changing the CRC32C TLV's own type byte makes it another TLV and the header an unchecked
    // one: the protocol cannot tell that from a sender that sends no checksum.
    const crcType = bytes.length - 7;
    expect(bytes[crcType]).toBe(0x03);
    for (let i = 0; i < bytes.length; i++) {
      if (i === crcType) continue;
      for (const flip of [0x01, 0x80]) {
        const bad = bytes.slice();
        bad[i]! ^= flip;
        expect(`${i}^${flip}: ${parseProxyHeader(bad, "v2").kind}`).not.toBe(`${i}^${flip}: ok`);
      }
    }
  });
});

describe("round trips: what we encode parses back to what we meant", () => {
  const cases: [string, ProxyV2Init, Record<string, unknown>][] = [
    ["IPv4 stream", { source: { address: "203.0.113.7", port: 51234 }, destination: { address: "10.0.0.5", port: 443 } }, { family: "inet", transport: "stream", command: "proxy", source: { family: "inet", address: "203.0.113.7", port: 51234 } }],
    ["IPv6 dgram", { transport: "dgram", source: { address: "::1", port: 0 }, destination: { address: "fe80::", port: 65535 } }, { family: "inet6", transport: "dgram", destination: { family: "inet6", address: "fe80::", port: 65535 } }],
    ["mixed families as IPv4-mapped IPv6", { source: { address: "192.0.2.1", port: 1 }, destination: { address: "2001:db8::1", port: 2 } }, { family: "inet6", source: { family: "inet6", address: "::ffff:192.0.2.1", port: 1 } }],
    ["UNIX paths", { source: { path: "/run/a.sock" }, destination: { path: "@b" } }, { family: "unix", source: { family: "unix", path: "/run/a.sock" }, destination: { family: "unix", path: "@b" } }],
    ["LOCAL", { command: "local" }, { command: "local", family: "unspec", transport: "unspec", source: null, destination: null }],
    ["LOCAL naming a family, no addresses", { command: "local", family: "inet6", transport: "stream" }, { command: "local", family: "inet6", transport: "stream", source: null }],
  ];
  for (const [name, init, want] of cases) {
    test(name, () => {
      expect(parsed(encodeProxyV2(init))).toMatchObject(want);
    });
  }

  test("every TLV builder decodes to its value", () => {
    const h = parsed(
      encodeProxyV2({
        command: "local",
        tlvs: [
          proxyTlv.alpn("http/1.1"),
          proxyTlv.authority("bücher.example"),
          proxyTlv.noop(3),
          proxyTlv.uniqueId(Uint8Array.of(0xab, 0x12)),
          proxyTlv.netns("blue"),
          proxyTlv.ssl({ client: 0x03, verify: 0x12345678, sub: [{ type: 0x21, value: "TLSv1.3" }, { type: 0x28, value: Uint8Array.of(0x30) }] }),
          proxyTlv.aws("vpce-abc"),
          proxyTlv.azure(4294967295),
          proxyTlv.gcp(18446744073709551615n),
        ],
        crc32c: true,
      }),
    );
    const [alpn, authority, noop, uniqueId, netns, ssl, aws, azure, gcp, crc] = h.tlvs;
    expect(alpn).toMatchObject({ name: "alpn", text: "http/1.1" });
    expect(authority).toMatchObject({ name: "authority", text: "bücher.example" });
    expect(noop).toMatchObject({ name: "noop", value: new Uint8Array(3) });
    expect(uniqueId).toMatchObject({ name: "unique-id", value: Uint8Array.of(0xab, 0x12) });
    expect(netns).toMatchObject({ name: "netns", text: "blue" });
    expect(ssl).toMatchObject({ name: "ssl", client: 3, verify: 0x12345678, sub: [{ name: "version", text: "TLSv1.3" }, { name: "client-cert", text: null, value: Uint8Array.of(0x30) }] });
    expect(aws).toMatchObject({ name: "aws", subtype: 1, vpceId: "vpce-abc" });
    expect(azure).toMatchObject({ name: "azure", subtype: 1, linkId: 4294967295 });
    expect(gcp).toMatchObject({ name: "gcp", pscConnectionId: 18446744073709551615n });
    expect(crc?.name).toBe("crc32c");
  });
});

describe("input errors throw", () => {
  const ip = (address: string, port = 1) => ({ address, port });
  test.each([
    ["a source without a destination", () => encodeProxyV2({ source: ip("1.2.3.4") })],
    ["not an address", () => encodeProxyV1({ source: ip("example.com"), destination: ip("1.2.3.4") })],
    ["an address in brackets", () => encodeProxyV2({ source: ip("[::1]"), destination: ip("::1") })],
    ["port 65536", () => encodeProxyV2({ source: ip("1.2.3.4", 65536), destination: ip("1.2.3.4") })],
    ["port 1.5", () => encodeProxyV1({ source: ip("1.2.3.4", 1.5), destination: ip("1.2.3.4") })],
    ["a UNIX path in v1", () => encodeProxyV1({ source: { path: "/a" }, destination: { path: "/b" } })],
    ["a UNIX path with an IP", () => encodeProxyV2({ source: { path: "/a" }, destination: ip("1.2.3.4") })],
    ["a 109-byte path", () => encodeProxyV2({ source: { path: "/".repeat(109) }, destination: { path: "/b" } })],
    ["a TLV type 256", () => encodeProxyV2({ tlvs: [{ type: 256, value: "" }] })],
    ["a TLV of 65536 bytes", () => encodeProxyV2({ tlvs: [{ type: 4, value: new Uint8Array(65536) }] })],
    ["a header over 65535 bytes", () => encodeProxyV2({ tlvs: [{ type: 4, value: new Uint8Array(40000) }, { type: 4, value: new Uint8Array(40000) }] })],
  ])("%s", (_name, f) => {
    expect(f).toThrow();
  });
});
