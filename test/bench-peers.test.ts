// `tcp-echo bench --json` against echo servers that are not ours: the C baseline, a python3 echo
// server, and one that corrupts the echo on purpose (it must be caught).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { BenchMode } from "../src/bench/index.ts";
import { expectClean, expectSchema, parseJsonReport } from "./helpers/bench-report.ts";
import { buildCEcho, spawnCEcho, spawnCorruptEcho, spawnPythonEcho, type Peer } from "./helpers/peers.ts";
import { runCli } from "./helpers/process.ts";

// Correctness runs, not measurements: a fixed number of exchanges (the runs end by themselves, as
// fast as the machine allows; a fixed time would see none on a loaded machine, and keep both cores
// busy for all of it otherwise), with a duration only as a cap. Idle holds its connections 0.2 s.
const COUNTED = ["--warmup", "0", "--duration", "10"];
const COUNT: Record<BenchMode, string[]> = {
  pingpong: ["--count", "2000"],
  stream: ["--count", "64"],
  connect: ["--count", "100"],
  idle: ["--duration", "0.2"],
};

function bench(port: number, mode: BenchMode, connections: number, extra: string[] = []) {
  return runCli(["bench", "--port", String(port), "--mode", mode, "--connections", String(connections), "--json", ...COUNTED, ...COUNT[mode], ...extra], { timeoutMs: 15_000 });
}

const SUITE: [BenchMode, number, string[]][] = [
  ["pingpong", 20, ["--size", "64"]],
  ["stream", 4, []],
  ["connect", 8, ["--size", "128"]],
  ["idle", 50, ["--size", "32"]],
];

function suite(name: string, start: () => Promise<Peer>) {
  describe.concurrent(`against ${name}`, () => {
    let peer: Peer;
    beforeAll(async () => {
      peer = await start();
    });
    afterAll(async () => {
      await peer?.[Symbol.asyncDispose]();
    });
    for (const [mode, conns, extra] of SUITE) {
      test(`${mode}: clean report, exit 0`, async () => {
        const r = await bench(peer.port, mode, conns, extra);
        expect(r.code).toBe(0);
        expectClean(parseJsonReport(r.stdout), mode, conns);
        if (mode === "idle") expect(r.stderr).toContain(`IDLE_READY ${conns}\n`);
      });
    }
  });
}

let cEcho: Awaited<ReturnType<typeof buildCEcho>>;
beforeAll(async () => {
  cEcho = await buildCEcho();
});
afterAll(() => cEcho?.cleanup());

suite("the C baseline (bench/baseline/echo.c)", () => spawnCEcho(cEcho.path));
suite("a python3 echo server (socketserver)", spawnPythonEcho);

describe.concurrent("against bench/loadgen/corrupt-echo.py: mismatches reported, exit 1", () => {
  // A peer per test: it corrupts every 10th chunk it reads over all its connections, so runs
  // sharing one would share (and could take each other's) corrupted chunks.
  const cases: [BenchMode, number, string[]][] = [
    ["pingpong", 10, ["--size", "256"]],
    ["stream", 4, []],
    ["connect", 4, ["--size", "512"]],
  ];
  for (const [mode, conns, extra] of cases) {
    test(mode, async () => {
      await using peer = await spawnCorruptEcho(["--every", "10"]);
      const r = await bench(peer.port, mode, conns, extra);
      const report = parseJsonReport(r.stdout);
      expectSchema(report, mode, conns);
      expect(report.mismatches).toBeGreaterThan(0);
      expect(r.code).toBe(1);
    });
  }

  test("the human report says so too", async () => {
    await using peer = await spawnCorruptEcho(["--every", "10"]);
    const r = await runCli(["bench", "--port", String(peer.port), "--mode", "pingpong", "--size", "256", ...COUNTED, ...COUNT.pingpong], { timeoutMs: 15_000 });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^ {2}mismatches +[1-9]\d* \(echoed bytes differ from what was sent\)$/m);
  });
});
