// 1,000 handshakes that stop half-way (a whole ClientHello, then nothing), twice: every one is
// reset at --timeout, counted, and the server's memory does not grow from one round to the next.
import { afterAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { makePki } from "../helpers/pki.ts";
import { spawnServer } from "../helpers/process.ts";
import { parsePrometheus, sample } from "../helpers/prometheus.ts";
import { py } from "../helpers/tls-peers.ts";
import { until } from "../helpers/wait.ts";

const pki = makePki();
afterAll(() => pki.dispose());

/** N connections at once, each sending a real ClientHello and then nothing; when each was ended. */
const ROUND = String.raw`
import json, resource, select, socket, ssl, sys, time
port, n = int(sys.argv[1]), int(sys.argv[2])
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, n + 64)), hard))
ctx = ssl.create_default_context()
inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
t = ctx.wrap_bio(inc, out, server_hostname="foo.test")
try:
    t.do_handshake()
except ssl.SSLWantReadError:
    pass
hello = out.read()
socks, start, ended, how = [], {}, {}, {}
for i in range(n):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(hello)
    s.setblocking(False)
    start[s.fileno()] = time.monotonic()
    socks.append(s)
deadline = time.monotonic() + 15
live = {s.fileno(): s for s in socks}
while live and time.monotonic() < deadline:
    r, _, _ = select.select(list(live.values()), [], [], 0.2)
    for s in r:
        fd = s.fileno()
        try:
            d = s.recv(65536)
            if d:
                continue  # the server's first flight
            how[fd] = "fin"
        except ConnectionResetError:
            how[fd] = "rst"
        ended[fd] = time.monotonic() - start[fd]
        del live[fd]
print(json.dumps({"open": len(live), "after": sorted(ended.values()), "how": sorted(set(how.values()))}))
`;

function rssKiB(pid: number): number {
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]);
}

describe("1,000 handshakes that stop half-way", () => {
  test("each is reset at --timeout 1 and counted as a timeout; server RSS after a second round is within 9 MiB of after the first (a leak of the round would be 12)", async () => {
    await using p = await spawnServer(["--tls-cert", pki.foo.cert, "--tls-key", pki.foo.key, "--timeout", "1", "--metrics", "127.0.0.1:0"]);
    const m = await p.log.waitFor((e) => e.event === "metrics");
    const rss: number[] = [rssKiB(p.proc.pid)];
    for (let round = 0; round < 2; round++) {
      const r = JSON.parse((await py(ROUND, [p.port, 1000], 60_000)).out) as { open: number; after: number[]; how: string[] };
      expect(r.open).toBe(0);
      expect(r.how).toEqual(["rst"]);
      expect(r.after.length).toBe(1000);
      // Not before the timeout (the first byte came with the connect). How late is the server's
      // own measure, from its accept to its reset: python3's clock also counts the server accepting
      // 1,000 connects late and its own select() over 1,000 sockets, which a loaded CI run
      // stretched to 4.4 s. Bun's socket timer, with its 4 s granularity, would make a close last
      // about 4 s (and log a backstop line); no deadline at all leaves them open.
      expect(r.after[0]!).toBeGreaterThanOrEqual(0.95);
      expect(r.after[999]!).toBeLessThan(1 + 8);
      await until(() => p.log.of("close").length >= 1000 * (round + 1), "the round's close lines");
      const ms = p.log
        .of("close")
        .slice(1000 * round)
        .map((e) => e.duration_ms as number)
        .sort((a, b) => a - b);
      console.log(`round ${round}: server close durations ms min ${ms[0]} p50 ${ms[500]} max ${ms[999]}; peer last ${r.after[999]}`);
      expect(ms[0]!).toBeGreaterThanOrEqual(1000);
      // 2.5 s of room for 1,000 deadlines falling together while other test files load both cores
      // (a full parallel run saw 2.65 s); Bun's timer fires at 4.0 s for timeout(1).
      expect(ms[999]!).toBeLessThan(1000 + 2500);
      expect(p.log.of("backstop")).toEqual([]);
      rss.push(rssKiB(p.proc.pid));
    }
    const metrics = parsePrometheus(await (await fetch(`http://127.0.0.1:${m.port}/metrics`)).text());
    expect(sample(metrics, "tcp_echo_tls_handshakes_total", { listener: "main", version: "TLSv1.3", result: "timeout" })).toBe(2000);
    expect(sample(metrics, "tcp_echo_connections_closed_total", { listener: "main", reason: "tls-timeout" })).toBe(2000);
    expect(sample(metrics, "tcp_echo_connections_open", { listener: "main" })).toBe(0);
    console.log(`RSS KiB: start ${rss[0]}, after round 1 ${rss[1]}, after round 2 ${rss[2]}`);
    // An idle TLS connection holds 12.6 KiB in Bun (experiments/tls/FINDINGS.md §i): a round whose
    // 1,000 connections stayed in memory would add 12 MiB. Garbage not yet collected moved RSS by
    // up to 6.2 MiB between rounds in a full parallel run, so the bound is 9 MiB.
    expect(rss[2]! - rss[1]!).toBeLessThan(9 * 1024);
  }, 90_000);
});
