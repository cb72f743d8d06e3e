// `bun bench/proxy-parse.ts [N]`: the PROXY header parser's cost per header (src/proxy), for the
// header shapes load balancers send. Each shape runs once per round and the rounds interleave, so a
// machine that drifts between speed levels moves every shape alike; the median round is shown.

import { encodeProxyV1, encodeProxyV2, parseProxyHeader, proxyTlv } from "../src/proxy/index.ts";

const N = Number(process.argv[2] ?? 100_000);
const ROUNDS = 7;

const inet = { source: { address: "203.0.113.7", port: 51234 }, destination: { address: "10.0.0.5", port: 443 } };
const inet6 = { source: { address: "2001:db8::7", port: 51234 }, destination: { address: "2001:db8::5", port: 443 } };
const haproxyTlvs = [proxyTlv.uniqueId("7F000001:D2F2_0A000005:01BB_6655A1B2_0001:1F2E"), proxyTlv.authority("example.com"), proxyTlv.alpn("h2")];

const shapes: [string, Uint8Array][] = [
  ["v2 IPv4, no TLVs (AWS NLB, nginx)", encodeProxyV2(inet)],
  ["v2 IPv4 + unique-id, authority, alpn", encodeProxyV2({ ...inet, tlvs: haproxyTlvs })],
  ["v2 IPv4 + unique-id, authority, alpn, crc32c", encodeProxyV2({ ...inet, tlvs: haproxyTlvs, crc32c: true })],
  ["v2 IPv6 + AWS VPC endpoint id", encodeProxyV2({ ...inet6, tlvs: [proxyTlv.aws("vpce-08d2bf15fac5001c9")] })],
  ["v2 LOCAL (health check)", encodeProxyV2({ command: "local" })],
  ["v1 TCP4", encodeProxyV1(inet)],
  ["v1 TCP6", encodeProxyV1(inet6)],
];

let sink = 0;
const run = (buf: Uint8Array) => {
  const r = parseProxyHeader(buf, "any");
  if (r.kind !== "ok") throw new Error(JSON.stringify(r));
  sink += r.length;
};
for (const [, buf] of shapes) for (let i = 0; i < 20_000; i++) run(buf);

const times = shapes.map((): number[] => []);
for (let round = 0; round < ROUNDS; round++) {
  shapes.forEach(([, buf], s) => {
    const t0 = Bun.nanoseconds();
    for (let i = 0; i < N; i++) run(buf);
    times[s]!.push((Bun.nanoseconds() - t0) / N / 1000);
  });
}

console.log(`parseProxyHeader, ${N} headers x ${ROUNDS} interleaved rounds (Bun ${Bun.version})`);
shapes.forEach(([name, buf], s) => {
  const t = times[s]!.sort((a, b) => a - b);
  const median = t[ROUNDS >> 1]!;
  console.log(`${name.padEnd(48)} ${String(buf.length).padStart(4)} B  median ${median.toFixed(3)} µs/header  (min ${t[0]!.toFixed(3)})`);
});
if (sink === 0) console.log("(nothing parsed)");
