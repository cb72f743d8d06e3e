// The load generator as a library (runBench) against our server (the library API), in-process.
import { describe, expect, test } from "bun:test";
import { runBench, toLoadgenJson, type BenchMode, type BenchOptions } from "../src/bench/index.ts";
import { advance, matches, MAX_SPAN, PERIOD, patternBuffer, startOffset } from "../src/bench/pattern.ts";
import { TimerHeap, TimerKind } from "../src/bench/timers.ts";
import { expectClean, expectSchema } from "./helpers/bench-report.ts";
import { pythonPeer } from "./helpers/client-peers.ts";
import { serve } from "./helpers/server.ts";

const base = (port: number, mode: BenchMode, over: Partial<BenchOptions> = {}): BenchOptions => ({
  host: "127.0.0.1",
  port,
  mode,
  connections: 4,
  size: mode === "stream" ? 16384 : 64,
  // Correctness runs: a quarter of a second is thousands of exchanges (and both cores busy).
  duration: 0.25,
  warmup: 0.05,
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

  test("an explicit duration caps a count that is not reached: the run ends after warmup + duration", async () => {
    await using server = serve({}, "warn");
    const t0 = performance.now();
    // A run that ignored the duration would go on for the count: the signal ends it at 5 s instead,
    // and it is then reported as stopped early.
    const r = await runBench(base(server.port, "pingpong", { count: 1e12, duration: 0.2, warmup: 0.1 }), { signal: AbortSignal.timeout(5000) });
    const wall = (performance.now() - t0) / 1000;
    expect(r.stoppedEarly).toBe(false);
    expect(r.messages).toBeGreaterThan(0);
    // The run ends after warmup + duration (0.3 s; a duration counted from the start would end it at
    // 0.2 s); on a loaded machine measuring may begin late, so the measured time may be short of
    // 0.2 s, never longer than it by more than the lag.
    expect(wall).toBeGreaterThanOrEqual(0.3 - 0.01);
    expect(wall).toBeLessThan(0.3 + 1);
    expect(r.durationS).toBeGreaterThan(0);
    expect(r.durationS).toBeLessThan(0.2 + 0.25);
  });
});

describe("--rate: open loop", () => {
  // The schedule sends `rate` messages a second over all connections, staggered: a measured window
  // of d seconds holds d * rate of them, give or take one per connection at each end. A stalled
  // event loop (a loaded 2-core machine stalls a process for tens of ms) shifts the window's ends
  // against the schedule, which catches up when behind: 20% over covers a 100 ms stall, 35% under
  // the end of a run that had not caught up yet (measured on a machine loaded 8 times over). A
  // pacing bug is off by more (per connection instead of in all: 4x; twice the interval: 0.5x;
  // one connection too few in the interval: 1.33x).
  const CONNS = 4;
  for (const [mode, rate] of [
    ["pingpong", 1000],
    ["connect", 200],
  ] as const) {
    test(`${mode} at ${rate}/s: the count is the schedule's, not more and not much less`, async () => {
      await using server = serve({}, "warn");
      const r = await runBench(base(server.port, mode, { connections: CONNS, rate, duration: 0.5, warmup: 0.1 }));
      expect({ errors: r.errors, mismatches: r.mismatches }).toEqual({ errors: 0, mismatches: 0 });
      // Measuring may begin late when the event loop stalls; the window is what it is.
      expect(r.durationS).toBeGreaterThan(0.25);
      expect(r.durationS).toBeLessThan(0.75);
      const scheduled = rate * r.durationS;
      expect(r.messages).toBeLessThanOrEqual(Math.ceil(1.2 * scheduled) + 2 * CONNS);
      expect(r.messages).toBeGreaterThanOrEqual(Math.floor(0.65 * scheduled) - 2 * CONNS);
    });
  }
});

test("an AbortSignal stops the run early and the report covers what was measured", async () => {
  await using server = serve({}, "warn");
  const stop = new AbortController();
  setTimeout(() => stop.abort(), 250);
  const r = await runBench(base(server.port, "stream", { duration: 30, warmup: 0.1 }), { signal: stop.signal });
  expect(r.stoppedEarly).toBe(true);
  expect(r.durationS).toBeGreaterThan(0);
  expect(r.durationS).toBeLessThan(5);
  expect(r.messages).toBeGreaterThan(0);
});

test("progress snapshots come while the run lasts", async () => {
  await using server = serve({}, "warn");
  const phases: string[] = [];
  // Paced traffic (the phases are the point, not the load); 0.3 s of each phase holds two 100 ms
  // snapshots even when a loaded machine runs the first one late.
  await runBench(base(server.port, "pingpong", { rate: 500, duration: 0.3, warmup: 0.3 }), { progressMs: 100, onProgress: (p) => phases.push(p.phase) });
  expect(phases).toContain("warmup");
  expect(phases).toContain("measuring");
});

test("nothing listening: every connect fails, counted as errors with the reason", async () => {
  // A port bound by python3 and never listened on: refused for as long as the peer lives, where a
  // freed port could be taken by another test meanwhile.
  await using closed = await pythonPeer("refuse");
  const r = await runBench(base(closed.port, "pingpong", { duration: 0.2, warmup: 0 }));
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
  });

  test("advance wraps at PERIOD: a stream read in uneven chunks across three periods matches all the way", () => {
    expect(advance(0, 0)).toBe(0);
    expect(advance(PERIOD - 100, 99)).toBe(PERIOD - 1);
    expect(advance(PERIOD - 100, 100)).toBe(0);
    expect(advance(PERIOD - 1, MAX_SPAN)).toBe(MAX_SPAN - 1);
    expect(advance(7, 3 * PERIOD + 2)).toBe(9);
    // The stream itself, written out: the period three times over, from a connection's start.
    const periods = Buffer.concat([p.subarray(0, PERIOD), p.subarray(0, PERIOD), p.subarray(0, PERIOD), p.subarray(0, PERIOD)]);
    const start = startOffset(3, 1);
    const sizes = [1, 4095, MAX_SPAN, 65543, 2, MAX_SPAN - 1, 100_003];
    let off = start;
    let at = 0;
    for (let i = 0; at < 3 * PERIOD; i++) {
      const n = sizes[i % sizes.length]!;
      const chunk = periods.subarray(start + at, start + at + n);
      if (!matches(p, chunk, off)) throw new Error(`no match at stream byte ${at} (offset ${off})`);
      // The same bytes one place further on do not match: the offset is checked, not just the data.
      if (n > 1 && matches(p, chunk, advance(off, 1))) throw new Error(`matched one byte off at stream byte ${at}`);
      off = advance(off, n);
      at += n;
    }
    expect(off).toBe((start + at) % PERIOD);
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
