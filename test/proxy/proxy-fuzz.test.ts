// A deterministic fuzzer: 10,000 mutations of valid headers (bit flips, truncations, huge lengths,
// wrong families, random TLVs, inserted and deleted bytes). The parser must never throw, answer
// only incomplete/ok/error with a known reason, agree with itself on every prefix, and every "ok"
// must re-encode to the same header.

import { expect, test } from "bun:test";
import {
  PROXY_ERROR_REASONS,
  encodeProxyHeader,
  encodeProxyV1,
  encodeProxyV2,
  formatProxySummary,
  parseProxyHeader,
  proxyHeaderJson,
  proxyTlv,
  type ProxyAccept,
  type ProxyParse,
} from "../../src/proxy/index.ts";

const SEED = 0x5eed14;
const CASES = 10_000;

/** mulberry32: small, seeded, good enough to pick mutations. */
function makeRng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function bases(): Uint8Array[] {
  const ssl = proxyTlv.ssl({ client: 5, verify: 1, sub: [{ type: 0x21, value: "TLSv1.2" }, { type: 0x22, value: "cn" }, { type: 0x23, value: "AES" }] });
  const every = [proxyTlv.alpn("h2"), proxyTlv.authority("a.example"), proxyTlv.uniqueId("u-1"), ssl, proxyTlv.netns("ns"), proxyTlv.aws("vpce-1"), proxyTlv.azure(7), proxyTlv.gcp(9n), proxyTlv.noop(2), { type: 0xf5, value: "x" }];
  const inet = { source: { address: "192.0.2.1", port: 1000 }, destination: { address: "198.51.100.2", port: 443 } };
  const inet6 = { source: { address: "2001:db8::1", port: 1000 }, destination: { address: "::ffff:10.0.0.1", port: 443 } };
  return [
    encodeProxyV2({ ...inet }),
    encodeProxyV2({ ...inet, tlvs: every, crc32c: true }),
    encodeProxyV2({ ...inet6, tlvs: [ssl, proxyTlv.uniqueId("z")] }),
    encodeProxyV2({ ...inet6, transport: "dgram", crc32c: true }),
    encodeProxyV2({ source: { path: "/a" }, destination: { path: "@b" }, tlvs: [proxyTlv.authority("x")] }),
    encodeProxyV2({ command: "local" }),
    encodeProxyV2({ command: "local", crc32c: true }),
    encodeProxyV2({ command: "local", family: "inet", transport: "stream", tlvs: [proxyTlv.noop(1)] }),
    encodeProxyV1(inet),
    encodeProxyV1(inet6),
    encodeProxyV1({ source: { address: "1:2:3:4:5:6:7:8", port: 65535 }, destination: { address: "::", port: 0 } }),
    encodeProxyV1(),
  ];
}

const V1_BYTES = Array.from(" .:0123456789abcdefABCDEF\r\nPROXYTCP46UNKNOWN-\0", (c) => c.charCodeAt(0));

function mutate(src: Uint8Array, rng: () => number): Uint8Array {
  const int = (n: number) => Math.floor(rng() * n);
  let b = Array.from(src);
  const isV2 = b[0] === 0x0d;
  const kind = int(10);
  switch (kind) {
    case 0: // bit flips
      for (let k = 1 + int(3); k > 0; k--) {
        const at = int(b.length);
        b[at] = b[at]! ^ (1 << int(8));
      }
      break;
    case 1: // truncation
      b = b.slice(0, int(b.length));
      break;
    case 2: // huge or random length
      if (isV2) {
        const len = rng() < 0.5 ? 0xffff : int(0x10000);
        b[14] = len >> 8;
        b[15] = len & 0xff;
      } else b = b.concat(new Array<number>(int(200)).fill(0x61));
      break;
    case 3: // wrong family / version / command byte
      if (isV2) b[12 + int(2)] = int(256);
      else b[6 + int(5)] = V1_BYTES[int(V1_BYTES.length)]!;
      break;
    case 4: {
      // a random TLV appended, the header length fixed up (or not)
      const value = Array.from({ length: int(rng() < 0.8 ? 12 : 300) }, () => int(256));
      const claimed = rng() < 0.8 ? value.length : int(0x10000);
      const type = rng() < 0.5 ? [1, 2, 3, 4, 5, 0x20, 0x30, 0xe0, 0xea, 0xee][int(10)]! : int(256);
      b = b.concat([type, claimed >> 8, claimed & 0xff, ...value]);
      if (isV2 && rng() < 0.9) {
        const len = Math.min(0xffff, b.length - 16);
        b[14] = len >> 8;
        b[15] = len & 0xff;
      }
      break;
    }
    case 5: // a TLV or sub-TLV length byte changed
      if (b.length > 18) b[17 + int(b.length - 17)] = int(256);
      break;
    case 6: // inserted bytes
      b.splice(int(b.length + 1), 0, ...Array.from({ length: 1 + int(3) }, () => (isV2 ? int(256) : V1_BYTES[int(V1_BYTES.length)]!)));
      break;
    case 7: // deleted bytes
      b.splice(int(b.length), 1 + int(3));
      break;
    case 8: // a v1 byte replaced by one the grammar knows, or a v2 byte by anything
      b[int(b.length)] = isV2 ? int(256) : V1_BYTES[int(V1_BYTES.length)]!;
      break;
    default: // two mutations
      return mutate(mutate(src, rng), rng);
  }
  return Uint8Array.from(b);
}

const REASONS = new Set<string>(PROXY_ERROR_REASONS.filter((r) => r !== "timeout"));

function check(buf: Uint8Array, accept: ProxyAccept, what: string): ProxyParse {
  let r: ProxyParse;
  try {
    r = parseProxyHeader(buf, accept);
  } catch (e) {
    throw new Error(`${what}: threw ${e}`);
  }
  if (r.kind === "error") {
    if (!REASONS.has(r.reason) || r.detail.length === 0) throw new Error(`${what}: bad error ${JSON.stringify(r)}`);
  } else if (r.kind !== "incomplete" && r.kind !== "ok") {
    throw new Error(`${what}: kind ${(r as { kind: string }).kind}`);
  }
  return r;
}

test("10,000 mutated headers: never a throw, a known reason, the same answer on every prefix, ok re-encodes", () => {
  const rng = makeRng(SEED);
  const seeds = bases();
  const seen = new Map<string, number>();
  const started = performance.now();
  for (let n = 0; n < CASES; n++) {
    const buf = mutate(seeds[n % seeds.length]!, rng);
    const accept: ProxyAccept = (["any", "any", "v1", "v2"] as const)[n % 4]!;
    const what = `case ${n} (${accept}) ${Buffer.from(buf).toString("hex")}`;
    const r = check(buf, accept, what);
    const key = r.kind === "error" ? r.reason : r.kind;
    seen.set(key, (seen.get(key) ?? 0) + 1);

    // A decision taken on a prefix is the decision on the whole: no valid header is refused
    // early, and no error is taken back when more bytes come.
    const k = Math.floor(rng() * buf.length);
    const p = check(buf.subarray(0, k), accept, `${what} prefix ${k}`);
    if (p.kind === "error" && (r.kind !== "error" || r.reason !== p.reason)) throw new Error(`${what}: prefix ${k} says ${p.reason}, whole says ${JSON.stringify(r)}`);
    if (p.kind === "ok" && (r.kind !== "ok" || r.length !== p.length)) throw new Error(`${what}: prefix ${k} ok, whole ${r.kind}`);

    if (r.kind !== "ok") continue;
    const h = r.header;
    if (r.length > buf.length || !Buffer.from(h.raw).equals(Buffer.from(buf.subarray(0, r.length)))) throw new Error(`${what}: raw is not the header bytes`);
    // The log forms work on anything the parser accepts, and put no control byte in a line.
    const summary = formatProxySummary(h);
    if (/[\x00-\x1f\x7f]/.test(summary)) throw new Error(`${what}: control byte in ${JSON.stringify(summary)}`);
    JSON.stringify(proxyHeaderJson(h));
    const again = encodeProxyHeader(h);
    if (h.version === 2) {
      // Addresses and TLVs carry every header byte: the re-encoding is the same bytes.
      if (!Buffer.from(again).equals(Buffer.from(h.raw))) throw new Error(`${what}: re-encoded as ${Buffer.from(again).toString("hex")}`);
    } else {
      // v1 spells addresses canonically and drops UNKNOWN's ignored rest: the same header, not
      // the same bytes.
      const back = parseProxyHeader(again, "any");
      if (back.kind !== "ok") throw new Error(`${what}: re-encoding does not parse: ${JSON.stringify(back)}`);
      expect(proxyHeaderJson(back.header)).toEqual(proxyHeaderJson(h));
    }
  }
  const elapsed = performance.now() - started;
  // Every outcome is reached, so the mutations exercise every refusal path.
  expect([...seen.keys()].sort()).toEqual([...REASONS, "incomplete", "ok"].sort());
  console.log(`fuzz: ${CASES} cases in ${elapsed.toFixed(0)} ms`, Object.fromEntries(seen));
  expect(elapsed).toBeLessThan(5000);
});
