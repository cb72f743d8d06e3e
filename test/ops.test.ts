import { describe, expect, test } from "bun:test";
import { serve } from "./helpers/server.ts";
import { connect } from "./helpers/client.ts";
import { runCli, spawnServer } from "./helpers/process.ts";
import { parsePrometheus, sample, total } from "./helpers/prometheus.ts";
import { parseCidr, perIpKey, refusal } from "../src/server/access.ts";
import { python } from "./helpers/python.ts";
import { until } from "./helpers/wait.ts";

/** Connects from a given loopback source address (127.0.0.0/8 is all ours) and echoes one byte. */
async function fromAddress(source: string, port: number): Promise<string> {
  const out = await python(
    `
import socket, sys
s = socket.socket(); s.bind((sys.argv[1], 0)); s.connect(("127.0.0.1", int(sys.argv[2])))
try:
    s.sendall(b"x")
    print("echoed" if s.recv(1) == b"x" else "closed")
except (ConnectionResetError, BrokenPipeError):
    print("reset")
`,
    [source, port],
  );
  return out.trim();
}

describe.concurrent("access control", () => {
  test("CIDR parsing (IPv4 and IPv6) and the deny-wins rule", () => {
    expect(parseCidr("10.0.0.0/8")).toMatchObject({ family: 4, bytes: new Uint8Array([10, 0, 0, 0]), prefix: 8 });
    expect(parseCidr("127.0.0.2")).toMatchObject({ family: 4, prefix: 32 });
    expect(parseCidr("2001:db8::/32")).toMatchObject({ family: 6, prefix: 32 });
    expect(parseCidr("::1")).toMatchObject({ family: 6, prefix: 128 });
    // Host bits set (a likely typo), bad prefixes, malformed addresses.
    for (const bad of ["10.0.0.1/8", "10.0.0.0/33", "10.0.0/8", "2001:db8::1/32", "::/129", "x", "1.2.3.4/8/9", "[::1]"]) expect({ bad, cidr: parseCidr(bad) }).toEqual({ bad, cidr: null });
    const access = { allow: [parseCidr("127.0.0.0/8")!, parseCidr("2001:db8::/32")!], deny: [parseCidr("127.0.0.2")!, parseCidr("2001:db8:bad::/48")!], maxPerIp: 0, perIpPrefix6: 64 };
    expect(refusal(access, "127.0.0.1")).toBeNull();
    expect(refusal(access, "127.0.0.2")).toBe("--deny 127.0.0.2");
    expect(refusal(access, "10.1.2.3")).toBe("not in --allow 127.0.0.0/8,2001:db8::/32");
    expect(refusal(access, "2001:db8:1::5")).toBeNull();
    expect(refusal(access, "2001:db8:bad::5")).toBe("--deny 2001:db8:bad::/48");
    expect(refusal(access, "2001:db9::1")).toBe("not in --allow 127.0.0.0/8,2001:db8::/32");
    // IPv4 rules never match an IPv6 address and the reverse.
    expect(refusal({ ...access, allow: null, deny: [parseCidr("0.0.0.0/0")!] }, "::1")).toBeNull();
  });

  test("--max-per-ip groups IPv6 peers by their prefix, IPv4 peers by address", () => {
    expect(perIpKey("127.0.0.1", 64)).toBe("127.0.0.1");
    expect(perIpKey("2001:db8:1:2:aaaa::1", 64)).toBe("2001:db8:1:2::/64");
    expect(perIpKey("2001:db8:1:2:bbbb::9", 64)).toBe("2001:db8:1:2::/64");
    expect(perIpKey("2001:db8:1:3::1", 64)).toBe("2001:db8:1:3::/64");
    expect(perIpKey("2001:db8:1:2:aaaa::1", 48)).toBe("2001:db8:1::/48");
    expect(perIpKey("::1", 128)).toBe("::1");
  });

  test("a denied address is refused before any byte is echoed, logged with the rule, and counted", async () => {
    await using s = serve({ access: { allow: null, deny: [parseCidr("127.0.0.2/32")!], maxPerIp: 0 } });
    expect(await fromAddress("127.0.0.2", s.port)).not.toBe("echoed");
    expect(await fromAddress("127.0.0.3", s.port)).toBe("echoed");
    const denied = await s.log.waitFor((e) => e.event === "denied");
    expect(denied).toMatchObject({ level: "info", peer: expect.stringMatching(/^127\.0\.0\.2:/), rule: "--deny 127.0.0.2/32" });
    await s.log.waitFor((e) => e.event === "close" && e.reason === "peer-closed");
    expect(s.handle.stats().closed).toMatchObject({ denied: 1, "peer-closed": 1 });
  });

  test("--allow admits only its networks", async () => {
    await using s = serve({ access: { allow: [parseCidr("127.0.0.4/31")!], deny: [], maxPerIp: 0 } });
    expect(await fromAddress("127.0.0.5", s.port)).toBe("echoed");
    expect(await fromAddress("127.0.0.6", s.port)).not.toBe("echoed");
    expect((await s.log.waitFor((e) => e.event === "denied")).rule).toBe("not in --allow 127.0.0.4/31");
  });

  test("--max-per-ip counts open connections per address", async () => {
    await using s = serve({ access: { allow: null, deny: [], maxPerIp: 2 } });
    const a = await connect(s.port);
    const b = await connect(s.port);
    const c = await connect(s.port);
    await c.closed;
    expect((await s.log.waitFor((e) => e.event === "denied")).rule).toBe("--max-per-ip 2");
    // Another address is not affected, and a slot frees when one closes.
    expect(await fromAddress("127.0.0.9", s.port)).toBe("echoed");
    a.socket.end();
    await s.log.waitFor((e) => e.event === "close" && e.conn === 1);
    const d = await connect(s.port);
    await d.writeAll(new Uint8Array([1]));
    await d.waitBytes(1);
    b.socket.end();
    d.socket.end();
  });

  test("--max-per-ip at warn: a slot frees when its peer resets, though the socket no longer knows its address", async () => {
    await using s = serve({ access: { allow: null, deny: [], maxPerIp: 1 } }, "warn");
    await python(
      `
import socket, struct, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"abc"); s.recv(3)
s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
s.close()  # RST
`,
      [s.port],
    );
    await until(() => s.handle.stats().open === 0, "the reset connection is closed");
    const d = await connect(s.port);
    await d.writeAll(new Uint8Array([1]));
    await d.waitBytes(1, 3000);
    expect(s.handle.stats().closed.denied).toBe(0);
    d.socket.end();
  });

  test("malformed CIDRs are bad input: exit 2, one line", async () => {
    for (const [flag, value] of [["--allow", "10.0.0.1/8"], ["--deny", "300.0.0.0/8"], ["--allow", ","]] as const) {
      const r = await runCli(["serve", flag, value]);
      expect(r.code).toBe(2);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
      expect(r.stderr).toContain(`${flag}: `);
    }
  });
});

describe.concurrent("metrics and health", () => {
  test("/metrics parses as Prometheus would and counts what the test did; counters only grow", async () => {
    await using p = await spawnServer(["--metrics", "127.0.0.1:0", "--deny", "127.0.0.2"]);
    const m = await p.log.waitFor((e) => e.event === "metrics");
    const url = `http://127.0.0.1:${m.port}`;
    const first = parsePrometheus(await (await fetch(`${url}/metrics`)).text());
    for (let i = 0; i < 3; i++) {
      const c = await connect(p.port);
      await c.writeAll(new TextEncoder().encode("hello"));
      await c.waitBytes(5);
      c.socket.end();
      await c.closed;
    }
    expect(await fromAddress("127.0.0.2", p.port)).not.toBe("echoed");
    // A connection is counted before its close line is logged: after four close lines the
    // counters are final.
    await p.log.waitFor(() => p.log.of("close").length >= 4);
    const res = await fetch(`${url}/metrics`);
    expect(res.headers.get("content-type")).toContain("text/plain; version=0.0.4");
    const second = parsePrometheus(await res.text());
    expect(total(second, "tcp_echo_connections_accepted_total")).toBe(4);
    expect(total(second, "tcp_echo_connections_closed_total", { reason: "peer-closed" })).toBe(3);
    expect(total(second, "tcp_echo_connections_closed_total", { reason: "denied" })).toBe(1);
    expect(total(second, "tcp_echo_received_bytes_total")).toBe(15);
    expect(total(second, "tcp_echo_sent_bytes_total")).toBe(15);
    expect(sample(second, "tcp_echo_connection_duration_seconds_count")).toBe(4);
    expect(sample(second, "tcp_echo_connection_duration_seconds_bucket", { le: "+Inf" })).toBe(4);
    expect(sample(second, "process_resident_memory_bytes")).toBeGreaterThan(1e6);
    for (const [name, f] of second) {
      if (f.type !== "counter") continue;
      for (const s of f.samples) {
        const before = first.get(name)!.samples.find((x) => JSON.stringify(x.labels) === JSON.stringify(s.labels))!;
        expect(s.value).toBeGreaterThanOrEqual(before.value);
      }
    }
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
    expect((await fetch(`${url}/nope`)).status).toBe(404);
  });

  test("/readyz turns 503 while draining, /healthz stays 200", async () => {
    await using p = await spawnServer(["--metrics", "127.0.0.1:0", "--shutdown-timeout", "3", "--timeout", "0"]);
    const m = await p.log.waitFor((e) => e.event === "metrics");
    const url = `http://127.0.0.1:${m.port}`;
    const c = await connect(p.port); // keeps the drain going: it does not close on our FIN
    await p.log.waitFor((e) => e.event === "open");
    p.proc.kill("SIGTERM");
    await p.log.waitFor((e) => e.event === "shutdown");
    expect((await fetch(`${url}/readyz`)).status).toBe(503);
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    c.socket.end();
    expect(await p.exited).toBe(0);
  });

  test("--stats-interval: each line's rates are the counters' changes since the line before, over the time between them", async () => {
    // Interleaved records: a line is echoed, the 4-byte record after it is not, so bytes in and
    // out differ; connections open and close in different numbers.
    await using p = await spawnServer(["--stats-interval", "0.25", "--record", "!I"]);
    const line = (text: string) => new Uint8Array([...new TextEncoder().encode(text), 0, 0, 0, 1]);
    const exchange = async (text: string) => {
      const c = await connect(p.port);
      await c.writeAll(line(text));
      await c.waitBytes(text.length);
      return c;
    };
    // Before the first line that the checks start from: the rates must not count these again.
    const first = await exchange("hi\n");
    const start = await p.log.waitFor((e) => e.event === "stats" && e.bytes_in === 7);
    const more = [await exchange("hello\n"), await exchange("hello\n")];
    first.socket.end();
    await p.log.waitFor((e) => e.event === "close");
    const end = await p.log.waitFor((e) => e.event === "stats" && e.bytes_in === 27 && (e.closed as Record<string, number>)["peer-closed"] === 1);
    const lines = p.log.of("stats");
    const pairs = lines.slice(lines.indexOf(start), lines.indexOf(end) + 1);
    expect(pairs.length).toBeGreaterThanOrEqual(2);
    const closed = (e: Record<string, unknown>) => Object.values(e.closed as Record<string, number>).reduce((a, b) => a + b, 0);
    const seen = { accepted: 0, closed: 0, in: 0, out: 0 };
    for (let i = 1; i < pairs.length; i++) {
      const [a, b] = [pairs[i - 1]!, pairs[i]!];
      const deltas = {
        accepted: (b.accepted as number) - (a.accepted as number),
        closed: closed(b) - closed(a),
        in: (b.bytes_in as number) - (a.bytes_in as number),
        out: (b.bytes_out as number) - (a.bytes_out as number),
      };
      const rates = { accepted: b.accepted_per_s, closed: b.closed_per_s, in: b.in_bytes_per_s, out: b.out_bytes_per_s } as Record<keyof typeof deltas, number>;
      // Every rate is its counter's change over one and the same interval. Rates are rounded to 0.1,
      // so each one allows a range of intervals: they must have one in common. (The log's time
      // fields cannot give the interval exactly: this VM's wall clock is stepped now and then,
      // 13 ms within a quarter of a second measured.)
      let [lo, hi] = [0, Infinity];
      for (const k of Object.keys(deltas) as (keyof typeof deltas)[]) {
        seen[k] += deltas[k];
        if (deltas[k] === 0) {
          expect({ k, rate: rates[k] }).toEqual({ k, rate: 0 });
          continue;
        }
        lo = Math.max(lo, deltas[k] / (rates[k] + 0.05));
        hi = Math.min(hi, deltas[k] / Math.max(rates[k] - 0.05, 0));
      }
      const logged = (Date.parse(b.time as string) - Date.parse(a.time as string)) / 1000;
      if (!(lo <= hi)) throw new Error(`no one interval fits the rates ${JSON.stringify(rates)} for the changes ${JSON.stringify(deltas)}`);
      // ... and that interval is the time between the two lines (a rate per millisecond would not be).
      expect(lo).toBeLessThan(logged * 1.25 + 0.02);
      expect(hi).toBeGreaterThan(logged * 0.75 - 0.02);
    }
    expect(seen).toEqual({ accepted: 2, closed: 1, in: 20, out: 12 });
    for (const c of more) c.socket.end();
  });
});
