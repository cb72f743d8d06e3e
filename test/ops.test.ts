import { describe, expect, test } from "bun:test";
import { serve } from "./helpers/server.ts";
import { connect } from "./helpers/client.ts";
import { runCli, spawnServer } from "./helpers/process.ts";
import { parsePrometheus, sample, total } from "./helpers/prometheus.ts";
import { parseCidr, perIpKey, refusal } from "../src/server/access.ts";
import { python } from "./helpers/python.ts";

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

describe("access control", () => {
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

  test("malformed CIDRs are bad input: exit 2, one line", async () => {
    for (const [flag, value] of [["--allow", "10.0.0.1/8"], ["--deny", "300.0.0.0/8"], ["--allow", ","]] as const) {
      const r = await runCli(["serve", flag, value]);
      expect(r.code).toBe(2);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
      expect(r.stderr).toContain(`${flag}: `);
    }
  });
});

describe("metrics and health", () => {
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
    await p.log.waitFor((e) => e.event === "close" && e.reason === "denied");
    await Bun.sleep(50);
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

  test("--stats-interval logs counters and rates", async () => {
    await using p = await spawnServer(["--stats-interval", "0.2"]);
    const c = await connect(p.port);
    await c.writeAll(new TextEncoder().encode("abc"));
    await c.waitBytes(3);
    const line = await p.log.waitFor((e) => e.event === "stats" && e.bytes_in === 3);
    expect(line).toMatchObject({ open: 1, accepted: 1, bytes_out: 3 });
    expect(typeof line.in_bytes_per_s).toBe("number");
    c.socket.end();
  });
});
