// bench over IPv6 and names: the same byte checks over ::1 as over IPv4, a name resolved once to the
// first address that accepts a connection, and what the reports say about it.
import { describe, expect, test } from "bun:test";
import { chooseBenchTarget, formatReport, runBench, targetLabel, toLoadgenJson, type BenchMode, type BenchOptions } from "../src/bench/index.ts";
import { closeFd, reservePort } from "../src/net/index.ts";
import type { Lookup } from "../src/net/resolve.ts";
import { expectClean, parseJsonReport } from "./helpers/bench-report.ts";
import { spawnCorruptEcho } from "./helpers/peers.ts";
import { runCli } from "./helpers/process.ts";
import { serve, serveListeners } from "./helpers/server.ts";

const base = (host: string, port: number, mode: BenchMode, over: Partial<BenchOptions> = {}): BenchOptions => ({
  host,
  port,
  mode,
  connections: 4,
  size: mode === "stream" ? 16384 : 64,
  duration: 0.4,
  warmup: 0.1,
  rate: null,
  count: null,
  ...over,
});

const fake =
  (name: string, ...addresses: string[]): Lookup =>
  async (n) => {
    if (n !== name) throw Object.assign(new Error("getaddrinfo ENOTFOUND"), { code: "DNS_ENOTFOUND" });
    return addresses.map((address) => ({ address, family: address.includes(":") ? 6 : 4 }));
  };

/** The first address `getent ahosts NAME` lists, or null without getent. */
function firstAddress(name: string): string[] | null {
  const r = Bun.spawnSync(["getent", "ahosts", name], { stdout: "pipe", stderr: "pipe" });
  if (!r.success) return null;
  const out: string[] = [];
  for (const l of r.stdout.toString().split("\n")) {
    const m = /^(\S+)\s+STREAM\b/.exec(l);
    if (m && !out.includes(m[1]!)) out.push(m[1]!);
  }
  return out;
}
const localhost = firstAddress("localhost");

describe("over ::1, bytes are checked as over IPv4", () => {
  for (const mode of ["pingpong", "stream", "connect", "idle"] as const) {
    test(`${mode} against tcp-echo on [::1]: clean`, async () => {
      await using s = serveListeners([{ host: "::1" }], {}, "warn");
      const o = base("::1", s.port, mode, mode === "idle" ? { connections: 10, size: 32, duration: 0.2 } : {});
      expectClean(toLoadgenJson(await runBench(o)), mode, o.connections);
    });
  }

  test("the connections really are IPv6: the server logs [::1] peers", async () => {
    await using s = serveListeners([{ host: "::1" }], {}, "info");
    const r = await runBench(base("::1", s.port, "pingpong", { connections: 2, duration: 0.2 }));
    expect(r.errors).toBe(0);
    await s.log.waitFor((e) => e.event === "close");
    const peers = s.log.of("open").map((e) => e.peer as string);
    expect(peers.length).toBeGreaterThanOrEqual(2);
    for (const p of peers) expect(p).toMatch(/^\[::1\]:\d+$/);
  });

  test("a server on ::1 that corrupts its echo (corrupt-echo.py): mismatches counted, exit 1", async () => {
    await using peer = await spawnCorruptEcho(["--host", "::1", "--every", "5"]);
    const r = await runCli(["bench", "--mode", "stream", "--connections", "2", "--duration", "0.4", "--warmup", "0.1", "--json", `[::1]:${peer.port}`], { timeoutMs: 15_000 });
    expect(r.code).toBe(1);
    const report = parseJsonReport(r.stdout);
    expect(report.mismatches).toBeGreaterThan(0);
  });

  test("tcp-echo bench [::1]:PORT: loadgen's JSON, nothing on stderr; the human report names the address", async () => {
    await using s = serveListeners([{ host: "::1" }], {}, "warn");
    const json = await runCli(["bench", "--mode", "pingpong", "--duration", "0.3", "--warmup", "0.1", "--json", `[::1]:${s.port}`], { timeoutMs: 15_000 });
    expect(json.code).toBe(0);
    expect(json.stderr).toBe("");
    expectClean(parseJsonReport(json.stdout), "pingpong", 10);
    const human = await runCli(["bench", "--mode", "pingpong", "--duration", "0.3", "--warmup", "0.1", "--host", "::1", "--port", String(s.port)], { timeoutMs: 15_000 });
    expect(human.code).toBe(0);
    expect(human.stdout.split("\n")[0]).toBe(`pingpong [::1]:${s.port}: 10 connections, 64 B messages`);
  });
});

describe("a name: resolved once, the first address that accepts is used", () => {
  test("[refusing ::1, serving 127.0.0.1]: the probe fails over and the run is clean against 127.0.0.1", async () => {
    await using s = serve({}, "warn");
    await using _refuse6 = refusing("::1", s.port);
    const retries: string[] = [];
    const t = await chooseBenchTarget("echo.test", s.port, { lookup: fake("echo.test", "::1", "127.0.0.1"), onRetry: (f, next) => retries.push(`${f.address} ${f.reason} -> ${next}`) });
    expect(t).toMatchObject({ host: "127.0.0.1", probed: true });
    expect(retries).toEqual([`[::1]:${s.port} ECONNREFUSED -> 127.0.0.1:${s.port}`]);
    const o = { ...base(t.host, s.port, "pingpong"), label: targetLabel("echo.test", s.port, t.host) };
    const r = await runBench(o);
    expectClean(toLoadgenJson(r), "pingpong", 4);
    expect(formatReport(r, o).split("\n")[0]).toBe(`pingpong echo.test:${s.port} (127.0.0.1:${s.port}): 4 connections, 64 B messages`);
  });

  test("an IP address, or a name with one address, is not probed: a refusing port is left to the run to count", async () => {
    await using peer = refusing("127.0.0.1");
    expect(await chooseBenchTarget("127.0.0.1", peer.port)).toMatchObject({ host: "127.0.0.1", probed: false, failures: [] });
    expect(await chooseBenchTarget("one.test", peer.port, { lookup: fake("one.test", "127.0.0.1") })).toMatchObject({ host: "127.0.0.1", probed: false, failures: [] });
  });

  test("no address accepts: the first is used, every failure is kept", async () => {
    await using peer = refusing("127.0.0.1");
    await using _refuse6 = refusing("::1", peer.port);
    const t = await chooseBenchTarget("echo.test", peer.port, { lookup: fake("echo.test", "::1", "127.0.0.1") });
    expect(t.host).toBe("::1");
    expect(t.probed).toBe(false);
    expect(t.failures.map((f) => `${f.address} ${f.reason}`)).toEqual([`[::1]:${peer.port} ECONNREFUSED`, `127.0.0.1:${peer.port} ECONNREFUSED`]);
  });

  test("runBench itself takes only an IP address: a name is the caller's to resolve", () => {
    expect(() => runBench(base("localhost", 9999, "pingpong"))).toThrow(`bench: host "localhost" is not an IP address (resolve a name first: chooseBenchTarget)`);
  });

  test.skipIf(localhost === null)("tcp-echo bench localhost:PORT: stderr says what it resolved to; the report names both", async () => {
    const four = serve({}, "warn");
    await using _four = four;
    await using _six = serveListeners([{ host: "::1", port: four.port }], {}, "warn");
    const all = localhost!;
    const used = all[0]!.includes(":") ? `[${all[0]}]:${four.port}` : `${all[0]}:${four.port}`;
    const r = await runCli(["bench", "--mode", "pingpong", "--duration", "0.3", "--warmup", "0.1", `localhost:${four.port}`], { timeoutMs: 15_000 });
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(`bench: localhost resolved to ${all.join(", ")}; running against ${used}\n`);
    expect(r.stdout.split("\n")[0]).toBe(`pingpong localhost:${four.port} (${used}): 10 connections, 64 B messages`);
  });

  test("a name that does not resolve: one line, exit 1, no report", async () => {
    const r = await runCli(["bench", "--mode", "pingpong", "nosuch.invalid:9"]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(/^tcp-echo: cannot resolve nosuch\.invalid: [A-Z_]+[^\n]*\n$/);
  });
});

/** A socket bound to `host:port` (0: any) and never listening: the kernel answers a SYN with RST. */
function refusing(host: string, port = 0): AsyncDisposable & { port: number } {
  const r = reservePort(host, port, host.includes(":"));
  return { port: r.port, [Symbol.asyncDispose]: async () => closeFd(r.fd) };
}
