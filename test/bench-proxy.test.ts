// `bench --proxy-protocol`: every new socket sends a PROXY header with its own addresses before its
// first payload byte; tcp-echo with --proxy-protocol counts exactly as many headers as the bench
// sent, reports each socket as itself, and nothing is lost or echoed wrong. Against a server that
// does not read PROXY, the echoed header is named and the run fails.
import { describe, expect, test } from "bun:test";
import { runBench, toLoadgenJson, type BenchMode, type BenchOptions } from "../src/bench/index.ts";
import { renderMetrics } from "../src/ops/index.ts";
import { expectClean } from "./helpers/bench-report.ts";
import { runCli } from "./helpers/process.ts";
import { parsePrometheus, total } from "./helpers/prometheus.ts";
import { serve, type TestServer } from "./helpers/server.ts";

const base = (host: string, port: number, mode: BenchMode, over: Partial<BenchOptions> = {}): BenchOptions => ({
  host,
  port,
  mode,
  connections: 4,
  size: mode === "stream" ? 16384 : 64,
  duration: 0.5,
  warmup: 0.1,
  rate: null,
  count: null,
  proxyProtocol: "v2",
  ...over,
});

function metric(s: TestServer, name: string, labels: Record<string, string> = {}): number {
  const fam = parsePrometheus(renderMetrics({ stats: s.handle.stats(), processes: [], workers: null }, true));
  return total(fam, name, labels);
}

/** The server's counters settle once every connection the bench closed has closed here too. */
async function settled(s: TestServer): Promise<void> {
  for (let i = 0; i < 500 && s.handle.stats().open > 0; i++) await Bun.sleep(10);
  expect(s.handle.stats().open).toBe(0);
}

describe("against tcp-echo --proxy-protocol: every header read, none refused, the echo exact", () => {
  const cases: [string, string, BenchMode, Partial<BenchOptions>][] = [
    ["v2", "127.0.0.1", "pingpong", {}],
    ["v2", "127.0.0.1", "connect", {}],
    ["v1", "127.0.0.1", "connect", { proxyProtocol: "v1" }],
    ["v2", "127.0.0.1", "stream", { connections: 2 }],
    ["v2", "::1", "connect", {}],
    // Larger than the payload copied behind the header (2 KiB): header + 2 KiB, then the rest.
    ["v2", "127.0.0.1", "pingpong", { size: 100_000, connections: 2 }],
  ];
  for (const [version, host, mode, over] of cases) {
    test(`${mode} ${version} over ${host} ${JSON.stringify(over)}: headers counted = headers sent, each naming its own socket`, async () => {
      await using s = serve({ host, proxyProtocol: version as "v1" | "v2" }, mode === "connect" ? "warn" : "info");
      const o = base(host, s.port, mode, over);
      const r = await runBench(o);
      expectClean(toLoadgenJson(r), mode, o.connections);
      await settled(s);
      expect(r.proxyHeaders).toBeGreaterThan(0);
      if (mode === "connect") expect(r.proxyHeaders).toBeGreaterThanOrEqual(r.messages);
      expect(metric(s, "tcp_echo_proxy_protocol_headers_total", { version: version.slice(1), command: "proxy" })).toBe(r.proxyHeaders);
      expect(s.handle.stats().proxyErrors).toEqual({});
      // Sockets the bench opened after its stop was asked are closed before any byte: at most one per loop.
      const accepted = s.handle.stats().accepted;
      expect(accepted - r.proxyHeaders).toBeGreaterThanOrEqual(0);
      expect(accepted - r.proxyHeaders).toBeLessThanOrEqual(o.connections);
      if (mode !== "connect") {
        // The header named each socket's own address and port: the client reported is the real peer.
        const opens = s.log.of("open");
        expect(opens).toHaveLength(r.proxyHeaders);
        for (const e of opens) expect({ peer: e.peer, dst: (e.proxy as { destination: unknown }).destination }).toEqual({ peer: e.via, dst: { address: host, port: s.port } });
      }
    });
  }

  test("paced, and idle without exchange: the header goes alone at once, so a short --proxy-protocol-timeout never fires", async () => {
    await using s = serve({ proxyProtocol: "v2", proxyTimeout: 0.2 }, "warn");
    // Two connections at 2 messages/s: the second's first message is due 0.5 s after it opens.
    const paced = await runBench(base("127.0.0.1", s.port, "pingpong", { connections: 2, rate: 2, duration: 1.2, warmup: 0 }));
    expect({ errors: paced.errors, mismatches: paced.mismatches, headers: paced.proxyHeaders }).toEqual({ errors: 0, mismatches: 0, headers: 2 });
    const idle = await runBench(base("127.0.0.1", s.port, "idle", { connections: 5, size: 0, duration: 0.5 }));
    expect({ errors: idle.errors, open: idle.openAtEnd, headers: idle.proxyHeaders }).toEqual({ errors: 0, open: 5, headers: 5 });
    await settled(s);
    expect(s.handle.stats().proxyErrors).toEqual({});
    expect(metric(s, "tcp_echo_proxy_protocol_headers_total")).toBe(7);
  });
});

// Each run is long enough for a loaded machine to get an echo back (a bench that saw no echo at all
// has nothing to call a mismatch): 0.3 s was not, under a full parallel test run.
describe("against a server that does not read PROXY", () => {
  test("tcp-echo without --proxy-protocol echoes the header: every socket a mismatch, named as such", async () => {
    await using s = serve({}, "warn");
    const r = await runBench(base("127.0.0.1", s.port, "connect", { connections: 2, duration: 1 }));
    expect(r.mismatches).toBeGreaterThan(0);
    expect(r.messages).toBe(0);
    expect(r.mismatchNote).toBe("the server echoed the PROXY v2 header: it does not read the PROXY protocol");
  });

  test("a header of another version: reset before any byte back, an error that says so", async () => {
    await using s = serve({ proxyProtocol: "v1" }, "warn");
    const r = await runBench(base("127.0.0.1", s.port, "pingpong", { connections: 2, duration: 1 }));
    expect(r.errors).toBeGreaterThan(0);
    expect(r.firstError).toEndWith(" before any byte came back (does the server read PROXY v2 headers?)");
  });

  test("the command: exit 1, the mismatch line says the header came back", async () => {
    await using s = serve({}, "warn");
    const r = await runCli(["bench", `127.0.0.1:${s.port}`, "--mode", "pingpong", "--proxy-protocol", "v1", "--duration", "1.5", "--warmup", "0", "--connections", "2"]);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 1, stderr: "" });
    expect(r.stdout).toStartWith(`pingpong 127.0.0.1:${s.port}: 2 connections, 64 B messages, a PROXY v1 header first on each connection\n`);
    expect(r.stdout).toMatch(/\n {2}mismatches +\d+ \(the server echoed the PROXY v1 header: it does not read the PROXY protocol\)\n/);
  });
});

describe("refused", () => {
  test("--proxy-protocol with --tls: exit 2, one line (the header would have to go in the clear before the handshake)", async () => {
    const r = await runCli(["bench", "127.0.0.1:9", "--mode", "connect", "--proxy-protocol", "v2", "--tls"]);
    expect({ code: r.code, stdout: r.stdout, stderr: r.stderr }).toEqual({
      code: 2,
      stdout: "",
      stderr: "tcp-echo: --proxy-protocol with --tls: a PROXY header goes in the clear before the TLS handshake, which this load generator cannot send (see tcp-echo bench --help)\n",
    });
  });
});
