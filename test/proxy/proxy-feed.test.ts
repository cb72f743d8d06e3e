// The server's header accumulation (feedHeader): whatever the reads, the header it returns and the
// payload after it are those of the whole bytes parsed at once, up to the largest v2 header one byte
// per read; the gathered bytes are a copy (the reads' buffers may be reused).

import { describe, expect, test } from "bun:test";
import { encodeProxyV1, encodeProxyV2, parseProxyHeader, proxyTlv } from "../../src/proxy/index.ts";
import { feedHeader, newProxyState, pendingBytes, type HeaderStep } from "../../src/server/proxy-header.ts";

const inet = { source: { address: "203.0.113.7", port: 51234 }, destination: { address: "10.0.0.5", port: 443 } };
const PAYLOAD = new TextEncoder().encode("payload after the header\n");

/** Feeds `data` in reads of the given sizes (the last one takes the rest), each read a fresh buffer overwritten after use. */
function feed(data: Uint8Array, sizes: (i: number) => number, mode: "v1" | "v2" | "any" = "any"): { step: HeaderStep; reads: number } {
  const st = newProxyState("127.0.0.1:1");
  let at = 0;
  let reads = 0;
  while (at < data.length) {
    const n = Math.min(sizes(reads), data.length - at);
    const read = data.slice(at, at + n);
    at += n;
    reads++;
    const step = feedHeader(st, read, mode);
    // What the server does not keep may be reused by the next read.
    const copy = step.kind === "ok" ? { ...step, rest: step.rest.slice() } : step;
    read.fill(0xee);
    if (step.kind !== "incomplete") return { step: copy, reads };
    // (Checked on short inputs: on the 64 KiB one this check alone would be quadratic.)
    if (data.length < 4096) expect(pendingBytes(st)).toEqual(data.subarray(0, at));
  }
  return { step: { kind: "incomplete" }, reads };
}

describe("feedHeader", () => {
  const big = encodeProxyV2({ ...inet, tlvs: [proxyTlv.noop(0xffff - 12 - 3)] });
  const cases: [string, Uint8Array][] = [
    ["v1 TCP4", encodeProxyV1(inet)],
    ["v2 with TLVs and crc32c", encodeProxyV2({ ...inet, tlvs: [proxyTlv.uniqueId("abc"), proxyTlv.authority("example.com")], crc32c: true })],
    ["v2 of the largest length (65535)", big],
  ];
  for (const [name, header] of cases) {
    test(`${name}: reads of 1, 2, 3, 7 and 1000 bytes give the whole parse's header and exactly the payload`, () => {
      const data = new Uint8Array([...header, ...PAYLOAD]);
      const whole = parseProxyHeader(data, "any");
      if (whole.kind !== "ok") throw new Error("the encoder's header does not parse");
      for (const size of [1, 2, 3, 7, 1000]) {
        const { step } = feed(data, () => size);
        expect(step.kind).toBe("ok");
        if (step.kind !== "ok") continue;
        expect(step.header).toEqual(whole.header);
        // The rest of the read that completed the header: the payload's first bytes, nothing else.
        const done = Math.ceil(header.length / size) * size;
        expect(step.rest).toEqual(data.subarray(header.length, Math.min(done, data.length)));
      }
    });
  }

  test("an error keeps the bytes seen for the log line; the state is clean after", () => {
    const st = newProxyState("127.0.0.1:1");
    const bad = new TextEncoder().encode("PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n");
    let step: HeaderStep = { kind: "incomplete" };
    for (let i = 0; i < bad.length && step.kind === "incomplete"; i++) step = feedHeader(st, bad.slice(i, i + 1), "v1");
    expect(step).toMatchObject({ kind: "error", reason: "bad-v1", seen: bad });
    expect(pendingBytes(st)).toEqual(new Uint8Array(0));
  });
});
