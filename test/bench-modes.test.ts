// The load generator as a library (runBench) against our server (the library API), in-process.
import { describe, expect, test } from "bun:test";
import { runBench, toLoadgenJson, type BenchMode, type BenchOptions } from "../src/bench/index.ts";
import { advance, matches, MAX_SPAN, PERIOD, patternBuffer, startOffset } from "../src/bench/pattern.ts";
import { TimerHeap, TimerKind } from "../src/bench/timers.ts";
import { expectClean, expectSchema } from "./helpers/bench-report.ts";
import { serve } from "./helpers/server.ts";

const base = (port: number, mode: BenchMode, over: Partial<BenchOptions> = {}): BenchOptions => ({
  host: "127.0.0.1",
  port,
  mode,
  connections: 4,
  size: mode === "stream" ? 16384 : 64,
  duration: 0.5,
  warmup: 0.1,
  rate: null,
  count: null,
  ...over,
});

describe("each mode against our server: traffic, no errors, no mismatches", () => {
  const cases: [BenchMode, Partial<BenchOptions>][] = [
    ["pingpong", {}],
    ["pingpong", { size: 300_000, connections: 2 }], // larger than one write and than MAX_SPAN
    ["stream", {}],
    ["connect", { size: 128 }],
    ["idle", { connections: 20, size: 32, duration: 0.3 }],
    ["idle", { connections: 5, size: 0, duration: 0.2 }], // connect only, no exchange
  ];
  for (const [mode, over] of cases) {
    test(`${mode} ${JSON.stringify(over)}`, async () => {
      await using server = serve({}, "warn");
      const o = base(server.port, mode, over);
      const r = await runBench(o);
      expectClean(toLoadgenJson(r), mode, o.connections);
      expect(r.stoppedEarly).toBe(false);
    });
  }
});

describe("--count", () => {
  for (const mode of ["pingpong", "stream", "connect"] as const) {
    test(`${mode}: exactly N measured messages, then stop`, async () => {
      await using server = serve({}, "warn");
      const r = await runBench(base(server.port, mode, { count: 300, duration: null, warmup: 0 }));
      expect(r.messages).toBe(300);
      expect({ errors: r.errors, mismatches: r.mismatches }).toEqual({ errors: 0, mismatches: 0 });
      if (mode !== "stream") expect(r.latencyUs).not.toBeNull();
    });
  }

  test("an explicit duration caps a count that is not reached", async () => {
    await using server = serve({}, "warn");
    const r = await runBench(base(server.port, "pingpong", { count: 1e12, duration: 0.3, warmup: 0 }));
    expect(r.messages).toBeLessThan(1e12);
    expect(r.durationS).toBeGreaterThan(0.2);
  });
});

describe("--rate: open loop", () => {
  for (const mode of ["pingpong", "connect"] as const) {
    test(`${mode}: never more messages than the schedule allows`, async () => {
      await using server = serve({}, "warn");
      const r = await runBench(base(server.port, mode, { rate: 200, duration: 0.5, warmup: 0.1 }));
      expect({ errors: r.errors, mismatches: r.mismatches }).toEqual({ errors: 0, mismatches: 0 });
      expect(r.messages).toBeGreaterThan(0);
      // Pacing is a correctness property: the schedule allows 200/s over the measured time.
      expect(r.messages).toBeLessThanOrEqual(Math.ceil(200 * r.durationS) + 4);
    });
  }
});

test("an AbortSignal stops the run early and the report covers what was measured", async () => {
  await using server = serve({}, "warn");
  const stop = new AbortController();
  setTimeout(() => stop.abort(), 400);
  const r = await runBench(base(server.port, "stream", { duration: 30, warmup: 0.1 }), { signal: stop.signal });
  expect(r.stoppedEarly).toBe(true);
  expect(r.durationS).toBeGreaterThan(0);
  expect(r.durationS).toBeLessThan(5);
  expect(r.messages).toBeGreaterThan(0);
});

test("progress snapshots come while the run lasts", async () => {
  await using server = serve({}, "warn");
  const phases: string[] = [];
  await runBench(base(server.port, "pingpong", { duration: 0.4, warmup: 0.15 }), { progressMs: 100, onProgress: (p) => phases.push(p.phase) });
  expect(phases).toContain("warmup");
  expect(phases).toContain("measuring");
});

test("nothing listening: every connect fails, counted as errors with the reason", async () => {
  const port = await (async () => {
    await using s = serve({}, "warn");
    return s.port;
  })();
  const r = await runBench(base(port, "pingpong", { duration: 0.2, warmup: 0 }));
  expectSchema(toLoadgenJson(r), "pingpong", 4);
  expect(r.errors).toBeGreaterThan(0);
  expect(r.messages).toBe(0);
  expect(r.latencyUs).toBeNull();
  expect(r.firstError).toMatch(/ECONNREFUSED|refused/i);
});

describe("the pattern and its check", () => {
  const p = patternBuffer();

  test("the tail repeats the head, so any span up to MAX_SPAN is contiguous", () => {
    expect(p.length).toBe(PERIOD + MAX_SPAN);
    expect(p.subarray(PERIOD).equals(p.subarray(0, MAX_SPAN))).toBe(true);
  });

  test("a chunk read across the wrap matches; one flipped byte anywhere does not", () => {
    const off = PERIOD - 100;
    const chunk = Buffer.concat([p.subarray(off, PERIOD), p.subarray(0, MAX_SPAN + 500)]);
    expect(matches(p, chunk, off)).toBe(true);
    for (const at of [0, 99, 100, 101, chunk.length - 1]) {
      const bad = Buffer.from(chunk);
      bad[at]! ^= 0x5a;
      expect(matches(p, bad, off)).toBe(false);
    }
    expect(advance(off, chunk.length)).toBe((off + chunk.length) % PERIOD);
  });

  test("connections and their reconnects start their streams at different places", () => {
    const starts = new Set<number>();
    for (let conn = 0; conn < 50; conn++) for (let cycle = 0; cycle < 20; cycle++) starts.add(startOffset(conn, cycle));
    expect(starts.size).toBeGreaterThan(990);
  });
});

describe("the timer heap", () => {
  test("fires in time order, never early; a cancelled or replaced timer does not fire", async () => {
    const conns = [0, 1, 2, 3].map((index) => ({ index, timerSeq: 0 }));
    const fired: [number, TimerKind, number][] = [];
    const done = Promise.withResolvers<void>();
    const heap = new TimerHeap(conns, (i, kind) => {
      fired.push([i, kind, Bun.nanoseconds()]);
      if (fired.length === 3) done.resolve();
    });
    const t = Bun.nanoseconds();
    const when = [t + 6e6, t + 1e6, t + 3e6, t + 2.5e6];
    heap.set(conns[0]!, t + 50e6, TimerKind.Start);
    heap.set(conns[0]!, when[0]!, TimerKind.Send); // replaces the one above
    heap.set(conns[1]!, when[1]!, TimerKind.Reconnect);
    heap.set(conns[2]!, when[2]!, TimerKind.Timeout);
    heap.cancel(conns[2]!);
    heap.set(conns[3]!, when[3]!, TimerKind.Start);
    await done.promise;
    heap.stop();
    expect(fired.map(([i, kind]) => [i, kind])).toEqual([
      [1, TimerKind.Reconnect],
      [3, TimerKind.Start],
      [0, TimerKind.Send],
    ]);
    for (const [i, , at] of fired) expect(at).toBeGreaterThanOrEqual(when[i]!);
  });
});
