import { describe, expect, test } from "bun:test";
import { serve } from "./helpers/server.ts";
import { connect } from "./helpers/client.ts";
import { runCli, spawnServer } from "./helpers/process.ts";
import { parsePrometheus, sample } from "./helpers/prometheus.ts";
import { parseCidr, refusal } from "../src/server/access.ts";
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

describe("access control", () => {
  test("CIDR parsing and the deny-wins rule", () => {
    expect(parseCidr("10.0.0.0/8")).toMatchObject({ base: 0x0a000000, mask: 0xff000000 });
    expect(parseCidr("127.0.0.2")).toMatchObject({ mask: 0xffffffff });
    for (const bad of ["10.0.0.1/8", "10.0.0.0/33", "10.0.0/8", "::1/128", "x", "1.2.3.4/8/9"]) expect(parseCidr(bad)).toBeNull();
    const access = { allow: [parseCidr("127.0.0.0/8")!], deny: [parseCidr("127.0.0.2")!], maxPerIp: 0 };
    expect(refusal(access, "127.0.0.1")).toBeNull();
    expect(refusal(access, "127.0.0.2")).toBe("--deny 127.0.0.2");
    expect(refusal(access, "10.1.2.3")).toBe("not in --allow 127.0.0.0/8");
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
    expect(sample(second, "tcp_echo_connections_accepted_total")).toBe(4);
    expect(sample(second, "tcp_echo_connections_closed_total", { reason: "peer-closed" })).toBe(3);
    expect(sample(second, "tcp_echo_connections_closed_total", { reason: "denied" })).toBe(1);
    expect(sample(second, "tcp_echo_received_bytes_total")).toBe(15);
    expect(sample(second, "tcp_echo_sent_bytes_total")).toBe(15);
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
