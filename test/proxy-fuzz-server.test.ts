// 10,000 mutated PROXY headers (bit flips, truncations, huge lengths, wrong families and versions)
// at a listening tcp-echo, 500 connections at a time, while a healthy proxied connection keeps
// echoing: no crash, nothing echoed but what followed a header that happened to stay valid, every
// connection accounted for (a header counted, or an error under a reason), memory flat.
import { expect, test } from "bun:test";
import { renderMetrics } from "../src/ops/index.ts";
import { python } from "./helpers/python.ts";
import { parsePrometheus, total } from "./helpers/prometheus.ts";
import { serve } from "./helpers/server.ts";
import { connect } from "./helpers/client.ts";

const FUZZ = String.raw`
import json, random, selectors, socket, struct, sys, time
port, n, seed = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
rng = random.Random(seed)
SIG = b"\r\n\r\n\x00\r\nQUIT\n"
def v2():
    body = socket.inet_aton("198.51.100.%d" % rng.randrange(256)) + socket.inet_aton("10.0.0.1") + struct.pack("!HH", rng.randrange(65536), 443)
    body += struct.pack("!BH", 0x05, 4) + b"uid%d" % rng.randrange(10)
    return SIG + b"\x21\x11" + struct.pack("!H", len(body)) + body
def v1():
    return b"PROXY TCP4 198.51.100.%d 10.0.0.1 %d 80\r\n" % (rng.randrange(256), rng.randrange(1, 65536))
def mutate(h):
    h = bytearray(h)
    kind = rng.randrange(6)
    if kind == 0:
        for _ in range(rng.randrange(1, 4)):
            i = rng.randrange(len(h)); h[i] ^= 1 << rng.randrange(8)
    elif kind == 1:
        h = h[:rng.randrange(len(h))]
    elif kind == 2 and len(h) > 16 and h[:12] == SIG:
        h[14:16] = struct.pack("!H", rng.choice([0, 1, 0xffff, 0x8000, rng.randrange(65536)]))
    elif kind == 3 and len(h) > 14 and h[:12] == SIG:
        h[13] = rng.randrange(256)
    elif kind == 4 and len(h) > 13 and h[:12] == SIG:
        h[12] = rng.randrange(256)
    else:
        h[rng.randrange(len(h))] = rng.randrange(256)
    return bytes(h)
PAYLOAD = b"#payload#"
cases = [mutate(v2() if rng.random() < 0.6 else v1()) for _ in range(n)]
sel = selectors.DefaultSelector()
results = {"echoed": 0, "nothing": 0, "other": 0}
def finish(st):
    # A header that stayed valid (perhaps shorter than built: a mutated length) is consumed, and
    # everything after it comes back: a tail of what was sent. Anything else would be a bug.
    got, data = st["got"], st["data"]
    results["nothing" if got == b"" else "echoed" if data.endswith(got) else "other"] += 1
i = 0
open_ = 0
while i < n or open_:
    while i < n and open_ < 500:
        s = socket.socket(); s.setblocking(False)
        try: s.connect(("127.0.0.1", port))
        except BlockingIOError: pass
        sel.register(s, selectors.EVENT_WRITE, {"data": cases[i] + PAYLOAD, "got": b"", "sent": False, "t": time.monotonic()})
        i += 1; open_ += 1
    for key, ev in sel.select(timeout=1):
        s, st = key.fileobj, key.data
        try:
            if not st["sent"]:
                s.send(st["data"]); st["sent"] = True
                try: s.shutdown(socket.SHUT_WR)
                except OSError: pass
                sel.modify(s, selectors.EVENT_READ, st)
                continue
            d = s.recv(65536)
            if d:
                st["got"] += d
                continue
        except (ConnectionResetError, BrokenPipeError, ConnectionRefusedError, OSError):
            pass
        sel.unregister(s); s.close(); open_ -= 1
        finish(st)
print(json.dumps(results))
`;

function rssKiB(): number {
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(require("node:fs").readFileSync("/proc/self/status", "utf8"));
  return Number(m![1]);
}

test("10,000 mutated headers: no crash, no echo of a refused one, each accounted for, memory flat, healthy traffic served meanwhile", async () => {
  await using s = serve({ proxyProtocol: "any", proxyTimeout: 0.5, timeout: 0 }, "warn");
  // A healthy proxied connection, pinging throughout.
  const healthy = await connect(s.port);
  await healthy.writeAll(new TextEncoder().encode("PROXY TCP4 192.0.2.1 10.0.0.1 1234 80\r\n"));
  let pings = 0;
  let stop = false;
  const pinger = (async () => {
    while (!stop) {
      await healthy.writeAll(new Uint8Array([pings & 0xff]));
      await healthy.waitBytes(++pings, 5000);
      await Bun.sleep(20);
    }
  })();
  Bun.gc(true);
  const before = rssKiB();
  const out = JSON.parse(await python(FUZZ, [s.port, 10_000, 7], 120_000)) as { echoed: number; nothing: number; other: number };
  stop = true;
  await pinger;
  // Everything the peers saw: nothing back, or exactly the payload after a header that stayed valid.
  expect(out.other).toBe(0);
  expect(out.nothing + out.echoed).toBe(10_000);
  expect(out.nothing).toBeGreaterThan(5_000);
  expect(pings).toBeGreaterThan(10);
  const fam = parsePrometheus(renderMetrics({ stats: s.handle.stats(), processes: [], workers: null }, true));
  const headers = total(fam, "tcp_echo_proxy_protocol_headers_total");
  const errors = total(fam, "tcp_echo_proxy_protocol_errors_total");
  // The healthy connection's header is one of the accepted; each fuzz connection is one or the other
  // (or closed by its peer before its header was complete: a FIN from a truncated header).
  const early = s.handle.stats().closed["peer-closed"] - out.echoed;
  expect(headers + errors + early).toBe(10_001);
  expect(headers).toBe(out.echoed + 1);
  for (const reason of ["bad-signature", "bad-v1"]) expect(total(fam, "tcp_echo_proxy_protocol_errors_total", { reason })).toBeGreaterThan(0);
  Bun.gc(true);
  expect(rssKiB() - before).toBeLessThan(64 * 1024);
  healthy.socket.end();
}, 120_000);
