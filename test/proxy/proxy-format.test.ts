// The log forms: RFC 5952 addresses, the one-line summary, the JSON object; and that network bytes
// reach a pretty line only as printable ASCII or hex.

import { describe, expect, test } from "bun:test";
import {
  encodeProxyV1,
  encodeProxyV2,
  formatProxyDetails,
  formatProxyEndpoints,
  formatProxySummary,
  parseProxyHeader,
  proxyHeaderJson,
  proxyTlv,
  type ProxyHeader,
  type ProxyV2Init,
} from "../../src/proxy/index.ts";
import { formatIpv6, parseIpv6Into } from "../../src/net/ip.ts";

function header(bytes: Uint8Array): ProxyHeader {
  const r = parseProxyHeader(bytes, "any");
  if (r.kind !== "ok") throw new Error(JSON.stringify(r));
  return r.header;
}
const v2 = (init: ProxyV2Init) => header(encodeProxyV2(init));
const ip = (address: string, port: number) => ({ address, port });

describe("IPv6 text (RFC 5952)", () => {
  test.each([
    ["2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1"], // 4.1 no leading zeros, 4.2.1 longest run
    ["2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"], // 4.2.2 one zero group stays
    ["2001:0:0:1:0:0:0:1", "2001:0:0:1::1"], // 4.2.3 the longest run
    ["2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"], // 4.2.3 the first of equal runs
    ["2001:DB8::ABCD", "2001:db8::abcd"], // 4.3 lower case
    ["0:0:0:0:0:0:0:0", "::"],
    ["0:0:0:0:0:0:0:1", "::1"],
    ["1:0:0:0:0:0:0:0", "1::"],
    ["0:0:0:0:0:ffff:c000:0201", "::ffff:192.0.2.1"], // 5 IPv4-mapped
    ["::102:304", "::102:304"], // IPv4-compatible (deprecated) stays hex
  ])("%s -> %s", (input, want) => {
    const out = new Uint8Array(16);
    const bytes = Uint8Array.from(input, (c) => c.charCodeAt(0));
    expect(parseIpv6Into(bytes, 0, bytes.length, out)).toBe(true);
    expect(formatIpv6(out)).toBe(want);
  });
});

describe("one-line summary", () => {
  test("the issue's example: endpoints, then version and TLVs in wire order", () => {
    const h = v2({ source: ip("203.0.113.7", 51234), destination: ip("10.0.0.5", 443), tlvs: [proxyTlv.uniqueId("ab12cd34"), proxyTlv.authority("example.com")] });
    expect(formatProxySummary(h)).toBe("203.0.113.7:51234 -> 10.0.0.5:443 (PROXY v2, unique-id ab12cd34, authority example.com)");
    expect(formatProxyEndpoints(h)).toBe("203.0.113.7:51234 -> 10.0.0.5:443");
    expect(formatProxyDetails(h)).toBe("PROXY v2, unique-id ab12cd34, authority example.com");
  });

  test("IPv6 in brackets with the port, v1", () => {
    const h = header(encodeProxyV1({ source: ip("2001:db8::7", 40000), destination: ip("::1", 443) }));
    expect(formatProxySummary(h)).toBe("[2001:db8::7]:40000 -> [::1]:443 (PROXY v1)");
  });

  test("no endpoints to use: LOCAL, UNSPEC, v1 UNKNOWN", () => {
    expect(formatProxySummary(v2({ command: "local", crc32c: true }))).toBe("PROXY v2 LOCAL, crc32c ok");
    expect(formatProxyEndpoints(v2({ command: "local", source: ip("1.2.3.4", 1), destination: ip("1.2.3.4", 2) }))).toBeNull();
    expect(formatProxySummary(v2({}))).toBe("PROXY v2 UNSPEC");
    expect(formatProxySummary(header(encodeProxyV1()))).toBe("PROXY v1 UNKNOWN");
  });

  test("datagram, UNIX paths, SSL, cloud and unknown TLVs", () => {
    const h = v2({
      transport: "dgram",
      source: { path: "/run/a.sock" },
      destination: { path: "@b" },
      tlvs: [
        proxyTlv.ssl({ client: 0x05, verify: 0, sub: [{ type: 0x21, value: "TLSv1.3" }, { type: 0x22, value: "alice" }, { type: 0x28, value: new Uint8Array(900) }] }),
        proxyTlv.aws("vpce-0a1b"),
        proxyTlv.azure(305419896),
        proxyTlv.gcp(43686719580552292n),
        { type: 0xee, value: Uint8Array.of(2, 1) },
        { type: 0xf1, value: Uint8Array.of(0xde, 0xad) },
        proxyTlv.noop(4),
        proxyTlv.alpn("h2"),
        proxyTlv.netns("blue"),
      ],
    });
    expect(formatProxySummary(h)).toBe(
      "/run/a.sock -> @b (PROXY v2 dgram, ssl client=0x05 verify=0 version=TLSv1.3 cn=alice client-cert=900B, aws-vpce-id vpce-0a1b, " +
        "azure-link-id 305419896, gcp-psc-id 43686719580552292, azure 0201, tlv 0xf1 dead, noop 4B, alpn h2, netns blue)",
    );
  });

  test("network bytes never put a control byte in the line: shown as hex instead", () => {
    const h = v2({
      source: ip("1.2.3.4", 1),
      destination: ip("1.2.3.4", 2),
      tlvs: [proxyTlv.authority("evil\nINFO forged"), proxyTlv.uniqueId(Uint8Array.of(0x1b, 0x5b, 0x32, 0x4a)), proxyTlv.aws("vpce\r")],
    });
    const s = formatProxySummary(h);
    expect(s).not.toMatch(/[\x00-\x1f\x7f]/);
    expect(s).toContain("authority 6576696c0a494e464f20666f72676564");
    expect(s).toContain("unique-id 1b5b324a");
    expect(s).toContain("aws-vpce-id 767063650d");
  });

  test("a long value is cut with ...", () => {
    const s = formatProxySummary(v2({ tlvs: [proxyTlv.authority("a".repeat(100))] }));
    expect(s).toBe(`PROXY v2 UNSPEC, authority ${"a".repeat(64)}...`);
  });
});

describe("JSON form", () => {
  test("names, hex for binary values, decimal text for 64-bit ids", () => {
    const h = v2({
      source: ip("2001:db8::1", 1),
      destination: ip("2001:db8::2", 2),
      tlvs: [proxyTlv.uniqueId(Uint8Array.of(0xab, 0x12)), proxyTlv.ssl({ client: 0x07, verify: 3, sub: [{ type: 0x23, value: "AES" }] }), proxyTlv.gcp(18446744073709551615n), { type: 0x02, value: Uint8Array.of(0xff) }],
    });
    expect(proxyHeaderJson(h)).toEqual({
      version: 2,
      command: "proxy",
      family: "inet6",
      transport: "stream",
      source: { address: "2001:db8::1", port: 1 },
      destination: { address: "2001:db8::2", port: 2 },
      tlvs: [
        { type: 5, name: "unique-id", hex: "ab12", value: null },
        { type: 32, name: "ssl", hex: "07" + "00000003" + "230003414553", client: 7, client_flags: ["ssl", "cert-conn", "cert-sess"], verify: 3, sub: [{ type: 35, name: "cipher", hex: "414553", value: "AES" }] },
        { type: 224, name: "gcp", hex: "ffffffffffffffff", value: "18446744073709551615" },
        { type: 2, name: "authority", hex: "ff", value: null },
      ],
    });
    expect(() => JSON.stringify(proxyHeaderJson(h))).not.toThrow();
  });
});
