// `tcp-echo bench` as a process against our server: output, exit codes, signals, bad input.
import { describe, expect, test } from "bun:test";
import { parseJsonReport, expectClean, expectSchema } from "./helpers/bench-report.ts";
import { runCli, SOURCE_CLI } from "./helpers/process.ts";
import { pythonPeer } from "./helpers/client-peers.ts";
import { serve } from "./helpers/server.ts";
import { until } from "./helpers/wait.ts";

const bench = (port: number, args: string[], timeoutMs = 15_000) => runCli(["bench", "--port", String(port), ...args], { timeoutMs });

// Runs end at a count of messages: a fixed time can pass with none measured on a loaded machine.
describe.concurrent("output", () => {
  test("--json: one object with loadgen's schema, nothing else on stdout, nothing on stderr", async () => {
    await using server = serve({}, "warn");
    const r = await bench(server.port, ["--mode", "pingpong", "--connections", "5", "--count", "1000", "--warmup", "0.1", "--json"]);
    expect(r.code).toBe(0);
    expectClean(parseJsonReport(r.stdout), "pingpong", 5);
    expect(r.stderr).toBe("");
  });

  test("without --json: a readable report; no progress line when not on a terminal", async () => {
    await using server = serve({}, "warn");
    const r = await bench(server.port, ["--mode", "pingpong", "--count", "1000", "--warmup", "0.1"]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe("");
    expect(r.stdout).not.toContain("\r");
    const lines = r.stdout.trimEnd().split("\n");
    expect(lines[0]).toBe(`pingpong 127.0.0.1:${server.port}: 10 connections, 64 B messages`);
    expect(lines.slice(1).map((l) => l.trim().split(/\s{2,}/)[0])).toEqual(["time", "messages", "round trip", "errors", "mismatches"]);
    expect(r.stdout).toMatch(/^ {2}round trip +p50 [\d.,]+ {2}p90 [\d.,]+ {2}p99 [\d.,]+ {2}p99\.9 [\d.,]+ {2}max [\d.,]+ {2}mean [\d.,]+ \(us\)$/m);
    expect(r.stdout).toMatch(/^ {2}errors +0$/m);
    expect(r.stdout).toMatch(/^ {2}mismatches +0$/m);
  });

  test("--count N: exactly N messages, the run ends by itself", async () => {
    await using server = serve({}, "warn");
    const r = await bench(server.port, ["--mode", "pingpong", "--count", "2000", "--warmup", "0.1", "--json"]);
    expect(r.code).toBe(0);
    const report = parseJsonReport(r.stdout);
    expect(report.messages).toBe(2000);
    expect(report.latency_us).not.toBeNull();
  });

  test("connection errors: counted, reported with the first reason, exit 1", async () => {
    // Bound by python3 and never listened on: refused while the peer lives (a freed port number
    // could be taken by a test running alongside).
    await using closed = await pythonPeer("refuse");
    const port = closed.port;
    const human = await bench(port, ["--mode", "pingpong", "--connections", "2", "--duration", "0.2", "--warmup", "0"]);
    expect(human.code).toBe(1);
    expect(human.stdout).toMatch(new RegExp(`^ {2}errors +[1-9]\\d* \\(first: connect 127\\.0\\.0\\.1:${port} failed: ECONNREFUSED\\)$`, "m"));
    const json = await bench(port, ["--mode", "pingpong", "--connections", "2", "--duration", "0.2", "--warmup", "0", "--json"]);
    expect(json.code).toBe(1);
    const report = parseJsonReport(json.stdout);
    expectSchema(report, "pingpong", 2);
    expect(report.errors).toBeGreaterThan(0);
    expect(report.mismatches).toBe(0);
  });
});

describe.concurrent("idle mode against our server's idle timeout", () => {
  test("--timeout 0.5, held 1.5 s: the server closed them all, open_at_end 0", async () => {
    await using server = serve({ timeout: 0.5 }, "warn");
    const r = await bench(server.port, ["--mode", "idle", "--connections", "20", "--duration", "1.5", "--json"]);
    expect(r.code).toBe(0);
    const report = parseJsonReport(r.stdout);
    expectSchema(report, "idle", 20);
    expect({ open: report.open_at_end, messages: report.messages, errors: report.errors }).toEqual({ open: 0, messages: 20, errors: 0 });
  });

  test("the default timeout (5.5 s), held 1.5 s: all still open", async () => {
    await using server = serve({}, "warn");
    const r = await bench(server.port, ["--mode", "idle", "--connections", "20", "--duration", "1.5", "--json"]);
    expect(r.code).toBe(0);
    expectClean(parseJsonReport(r.stdout), "idle", 20);
    expect(r.stderr).toBe("IDLE_READY 20\n");
  });
});

describe.concurrent("signals", () => {
  test("a server that accepts and never echoes: the report says 0 messages, one line on stderr, exit 1", async () => {
    // The kernel completes the handshakes and takes what we send; nothing comes back, not even a FIN.
    await using mute = await pythonPeer("mute");
    for (const mode of ["pingpong", "stream", "connect"]) {
      const r = await bench(mute.port, ["--mode", mode, "--connections", "2", "--duration", "0.3", "--warmup", "0", "--json"]);
      expect(r.code).toBe(1);
      const report = parseJsonReport(r.stdout);
      expect({ messages: report.messages, errors: report.errors, mismatches: report.mismatches }).toEqual({ messages: 0, errors: 0, mismatches: 0 });
      const lines = r.stderr.trimEnd().split("\n");
      expect(lines).toEqual([expect.stringMatching(new RegExp(`^tcp-echo bench: nothing was echoed by 127\\.0\\.0\\.1:${mute.port} in the measured time: no `))]);
    }
  });

  test("SIGINT stops early and still prints the report", async () => {
    await using server = serve({}, "warn");
    const proc = Bun.spawn([...SOURCE_CLI, "bench", "--port", String(server.port), "--mode", "stream", "--connections", "2", "--duration", "30", "--warmup", "0", "--json"], {
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
    });
    const killer = setTimeout(() => proc.kill("SIGKILL"), 15_000);
    try {
      // Measuring starts at once (--warmup 0): wait until the server has echoed a MiB.
      await until(() => server.handle.stats().bytesOut >= 1 << 20, "the server has echoed 1 MiB");
      proc.kill("SIGINT");
      const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
      expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
      const report = parseJsonReport(stdout);
      expectSchema(report, "stream", 2);
      expect({ errors: report.errors, mismatches: report.mismatches }).toEqual({ errors: 0, mismatches: 0 });
      expect(report.messages).toBeGreaterThan(0);
      expect(report.duration_s).toBeGreaterThan(0);
      expect(report.duration_s).toBeLessThan(10);
    } finally {
      clearTimeout(killer);
      if (proc.exitCode === null) proc.kill("SIGKILL");
    }
  });
});

describe.concurrent("help", () => {
  test("--help lists the options, exit 0", async () => {
    const r = await runCli(["bench", "--help"]);
    expect(r.code).toBe(0);
    for (const option of ["--mode", "--connections", "--size", "--duration", "--count", "--rate", "--warmup", "--json", "--html"]) expect(r.stdout).toContain(option);
  });
});
