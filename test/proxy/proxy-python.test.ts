// The parser against a second implementation: python3 builds v1 lines and v2 headers by hand with
// struct (every family, LOCAL, every TLV, SSL sub-TLVs, CRC32C by a bitwise CRC) and says what it
// put in; and python3 decodes what our encoder writes.

import { describe, expect, test } from "bun:test";
import {
  encodeProxyV1,
  encodeProxyV2,
  parseProxyHeader,
  proxyHeaderJson,
  proxyTlv,
  type ProxyAccept,
  type ProxyV2Init,
} from "../../src/proxy/index.ts";
import { concat, fromHex, pythonCases, pythonDecode } from "./proxy-python.ts";

const cases = pythonCases(20261201);

// Payload that starts like a line end and holds another header: a parser that reads one byte too
// far, or scans past its header, turns this red.
const PAYLOAD = concat(new TextEncoder().encode("\r\nPROXY TCP4 1.1.1.1 2.2.2.2 1 2\r\n"), Uint8Array.from({ length: 256 }, (_, i) => i));

function acceptsFor(name: string): ProxyAccept[] {
  return name.startsWith("v1") ? ["v1", "any"] : ["v2", "any"];
}

describe("headers built by python3", () => {
  test("python built every case the tests count on", () => {
    expect(cases.length).toBeGreaterThan(150);
    const names = cases.map((c) => c.name);
    for (const family of ["unspec", "inet", "inet6", "unix"]) expect(names).toContain(`v2 local ${family} ${family === "unspec" ? "unspec" : "stream"}`);
    expect(names).toContain("v2 ssl with every sub-tlv, crc32c first");
    expect(names).toContain("v1 unknown longest (107 bytes)");
  });

  test("a header arriving one byte at a time is incomplete until its last byte, then exactly what python put in", () => {
    for (const c of cases) {
      const header = fromHex(c.hex);
      const full = concat(header, PAYLOAD);
      for (const accept of acceptsFor(c.name)) {
        for (let k = 1; k < header.length; k++) {
          const r = parseProxyHeader(full.subarray(0, k), accept);
          if (r.kind !== "incomplete") throw new Error(`${c.name} (${accept}): ${r.kind} after ${k} of ${header.length} bytes: ${JSON.stringify(r)}`);
        }
        for (const buf of [full.subarray(0, header.length), full]) {
          const r = parseProxyHeader(buf, accept);
          if (r.kind !== "ok") throw new Error(`${c.name} (${accept}): ${JSON.stringify(r)}`);
          expect({ name: c.name, length: r.length, header: proxyHeaderJson(r.header) }).toEqual({ name: c.name, length: header.length, header: c.expected });
          expect(r.header.raw).toEqual(header);
        }
      }
    }
  });

  test("split into two segments at every byte boundary, the header ends exactly where python's did", () => {
    for (const c of cases) {
      const header = fromHex(c.hex);
      const full = concat(header, PAYLOAD);
      for (let k = 0; k <= full.length; k++) {
        // A caller's accumulation: a fresh buffer per segment, concatenated when more is needed.
        let acc: Uint8Array = full.slice(0, k);
        let unread = full.slice(k);
        let r = parseProxyHeader(acc, "any");
        if (r.kind === "incomplete") {
          acc = concat(acc, unread);
          unread = new Uint8Array(0);
          r = parseProxyHeader(acc, "any");
        }
        if (r.kind !== "ok" || r.length !== header.length) throw new Error(`${c.name}: split at ${k}: ${JSON.stringify(r)}`);
        // What the caller echoes: the rest of its buffer, then the segments still to come.
        expect(concat(acc.subarray(r.length), unread)).toEqual(PAYLOAD);
      }
    }
  });

  test("the parsed header does not alias the caller's buffer", () => {
    for (const c of cases) {
      const buf = concat(fromHex(c.hex), PAYLOAD);
      const r = parseProxyHeader(buf, "any");
      if (r.kind !== "ok") throw new Error(c.name);
      buf.fill(0x41);
      expect(proxyHeaderJson(r.header)).toEqual(c.expected);
    }
  });
});

describe("our encoder, decoded by python3", () => {
  const inits: { name: string; bytes: Uint8Array }[] = [];
  const v2 = (name: string, init: ProxyV2Init) => inits.push({ name, bytes: encodeProxyV2(init) });
  inits.push({ name: "v1 tcp4", bytes: encodeProxyV1({ source: { address: "203.0.113.7", port: 51234 }, destination: { address: "10.0.0.5", port: 443 } }) });
  inits.push({ name: "v1 tcp6", bytes: encodeProxyV1({ source: { address: "2001:DB8:0:0:1:0:0:1", port: 0 }, destination: { address: "::1", port: 65535 } }) });
  inits.push({ name: "v1 mixed families map to IPv6", bytes: encodeProxyV1({ source: { address: "192.0.2.1", port: 1 }, destination: { address: "2001:db8::2", port: 2 } }) });
  inits.push({ name: "v1 unknown", bytes: encodeProxyV1() });
  v2("v2 local", { command: "local" });
  v2("v2 local crc32c", { command: "local", crc32c: true });
  v2("v2 inet dgram", { source: { address: "198.51.100.1", port: 53 }, destination: { address: "198.51.100.2", port: 5353 }, transport: "dgram" });
  v2("v2 inet6 every tlv + crc32c", {
    source: { address: "2001:db8::7", port: 40000 },
    destination: { address: "fe80::1:2:3:4", port: 443 },
    crc32c: true,
    tlvs: [
      proxyTlv.alpn("h2"),
      proxyTlv.authority("example.com"),
      proxyTlv.noop(5),
      proxyTlv.uniqueId("req-42"),
      proxyTlv.ssl({ client: 0x07, verify: 0, sub: [{ type: 0x21, value: "TLSv1.3" }, { type: 0x22, value: "alice" }, { type: 0x23, value: "TLS_AES_128_GCM_SHA256" }, { type: 0x24, value: "RSA-SHA256" }, { type: 0x25, value: "RSA2048" }, { type: 0x28, value: Uint8Array.of(0x30, 0x82) }] }),
      proxyTlv.netns("blue"),
      proxyTlv.aws("vpce-0123456789abcdef0"),
      proxyTlv.azure(0xfedcba98),
      proxyTlv.gcp(0xfedcba9876543210n),
      { type: 0xf3, value: Uint8Array.of(0, 1, 2) },
    ],
  });
  v2("v2 unix", { source: { path: "/run/lb.sock" }, destination: { path: "@abstract" } });

  test("python reads back every field our encoder wrote, and so does our parser", () => {
    const decoded = pythonDecode(inits.map((i) => i.bytes));
    inits.forEach((init, n) => {
      const ours = parseProxyHeader(init.bytes, "any");
      if (ours.kind !== "ok") throw new Error(`${init.name}: ${JSON.stringify(ours)}`);
      expect({ name: init.name, ...proxyHeaderJson(ours.header), length: ours.length }).toEqual({ name: init.name, ...(decoded[n] as object) } as never);
    });
    // And the values are the ones we meant, not merely agreed on.
    const byName = (name: string) => decoded[inits.findIndex((i) => i.name === name)] as Record<string, unknown>;
    expect(byName("v1 tcp6").source).toEqual({ address: "2001:db8::1:0:0:1", port: 0 });
    expect(byName("v1 mixed families map to IPv6").source).toEqual({ address: "::ffff:192.0.2.1", port: 1 });
    expect(byName("v2 unix").destination).toEqual({ path: "@abstract" });
    const tlvs = byName("v2 inet6 every tlv + crc32c").tlvs as { name: string; value?: unknown }[];
    expect(tlvs.map((t) => [t.name, t.value])).toEqual([
      ["alpn", "h2"],
      ["authority", "example.com"],
      ["noop", undefined],
      ["unique-id", "req-42"],
      ["ssl", undefined],
      ["netns", "blue"],
      ["aws", "vpce-0123456789abcdef0"],
      ["azure", 0xfedcba98],
      ["gcp", "18364758544493064720"],
      ["unknown", undefined],
      ["crc32c", expect.any(Number)],
    ]);
  });
});
