// The load generator's per-connection header: byte for byte what the encoder writes for the same
// endpoints, at every port length, written where asked and nowhere else.

import { describe, expect, test } from "bun:test";
import { encodeProxyV1, encodeProxyV2, ProxyHeaderTemplate, TEMPLATE_MAX_LENGTH, type ProxyVersion } from "../../src/proxy/index.ts";

const PORTS = [0, 1, 9, 10, 99, 100, 999, 1000, 9999, 10000, 40312, 65535];
const PAIRS: [string, string, number][] = [
  ["127.0.0.1", "127.0.0.1", 9999],
  ["192.0.2.10", "198.51.100.1", 7],
  ["::1", "::1", 65535],
  ["fd00:1111:2222:3333:4444:5555:6666:7771", "fd00:1111:2222:3333:4444:5555:6666:7772", 443],
];

describe("ProxyHeaderTemplate", () => {
  for (const version of ["v1", "v2"] as ProxyVersion[]) {
    test(`${version}: the encoder's bytes for every source port length, at an offset, nothing else touched`, () => {
      const encode = version === "v1" ? encodeProxyV1 : encodeProxyV2;
      for (const [src, dst, dport] of PAIRS) {
        const t = new ProxyHeaderTemplate(version, src, { address: dst, port: dport });
        for (const port of PORTS) {
          const want = encode({ source: { address: src, port }, destination: { address: dst, port: dport } });
          const buf = new Uint8Array(3 + TEMPLATE_MAX_LENGTH + 3).fill(0xaa);
          const n = t.writeInto(buf, 3, port);
          expect({ src, port, n, len: t.length(port) }).toEqual({ src, port, n: want.length, len: want.length });
          expect(Buffer.from(buf.subarray(3, 3 + n)).toString("latin1")).toBe(Buffer.from(want).toString("latin1"));
          expect([...buf.subarray(0, 3), ...buf.subarray(3 + n)].every((b) => b === 0xaa)).toBe(true);
        }
      }
    });
  }

  test("the longest header fits TEMPLATE_MAX_LENGTH (v1 TCP6 with full-length addresses and 5-digit ports)", () => {
    const [src, dst] = PAIRS[3]!;
    const t = new ProxyHeaderTemplate("v1", src, { address: dst, port: 65535 });
    expect(t.length(65535)).toBe(104);
    expect(t.length(65535)).toBeLessThanOrEqual(TEMPLATE_MAX_LENGTH);
  });

  test("a source that is not an address is the encoder's TypeError", () => {
    expect(() => new ProxyHeaderTemplate("v2", "localhost", { address: "127.0.0.1", port: 1 })).toThrow(TypeError);
  });
});
