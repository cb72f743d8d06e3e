// Checks on a bench report, in the spirit of bench/loadgen/check-report.py: the loadgen schema
// (keys in order, nulls per mode) and figures that agree with each other. No speed thresholds.
import { expect } from "bun:test";
import type { BenchMode, LoadgenJson } from "../../src/bench/index.ts";

export const KEYS = ["mode", "connections", "size", "duration_s", "messages", "msgs_per_s", "mb_per_s", "conns_per_s", "latency_us", "errors", "mismatches", "open_at_end", "latency_curve_us"];
export const LATENCY_KEYS = ["p50", "p90", "p99", "p999", "max", "mean"];
/** The percentiles of latency_curve_us, written out here (not imported) so that a change to the list is a change to this test. */
export const CURVE_PERCENTILES = [0, 50, 80, 90, 95, 98, 99, 99.5, 99.8, 99.9, 99.95, 99.98, 99.99, 99.995, 99.998, 99.999];

/** stdout of `bench --json`: exactly one line, one object, nothing else. */
export function parseJsonReport(stdout: string): LoadgenJson {
  const lines = stdout.split("\n").filter((l) => l.trim() !== "");
  expect(lines).toHaveLength(1);
  expect(stdout.endsWith("}\n")).toBe(true);
  const r = JSON.parse(lines[0]!) as LoadgenJson;
  expect(Object.keys(r)).toEqual(KEYS);
  return r;
}

/** The shape every report has, whatever the server did. */
export function expectSchema(r: LoadgenJson, mode: BenchMode, connections: number): void {
  expect(r.mode).toBe(mode);
  expect(r.connections).toBe(connections);
  for (const k of ["messages", "errors", "mismatches", "size", "connections"] as const) {
    expect(Number.isInteger(r[k]) && r[k] >= 0).toBe(true);
  }
  expect(r.conns_per_s === null).toBe(mode !== "connect");
  expect(r.open_at_end === null).toBe(mode !== "idle");
  if (mode === "stream" || mode === "idle") expect(r.latency_us).toBeNull();
  if (r.latency_us) expect(Object.keys(r.latency_us)).toEqual(LATENCY_KEYS);
  expect(r.latency_curve_us === null).toBe(r.latency_us === null);
  if (r.latency_curve_us) expect(r.latency_curve_us.map(([p]) => p)).toEqual(CURVE_PERCENTILES);
}

/** A run against a correct server: traffic, no errors, consistent figures. */
export function expectClean(r: LoadgenJson, mode: BenchMode, connections: number): void {
  expectSchema(r, mode, connections);
  expect({ errors: r.errors, mismatches: r.mismatches }).toEqual({ errors: 0, mismatches: 0 });
  expect(r.duration_s).toBeGreaterThan(0);
  expect(r.messages).toBeGreaterThan(0);
  const mps = r.msgs_per_s!;
  // duration_s is rounded to the millisecond (loadgen's format): half a millisecond's worth of
  // messages on top, which counts in a run of a few tens of milliseconds.
  const rounding = 0.0005 / r.duration_s;
  expect(Math.abs(mps * r.duration_s - r.messages)).toBeLessThanOrEqual(Math.max(2, 0.01 * r.messages) + rounding * r.messages);
  if (mode !== "stream") {
    const mb = (r.messages * r.size) / 1e6 / r.duration_s;
    expect(Math.abs(mb - r.mb_per_s!)).toBeLessThanOrEqual((0.01 + rounding) * mb + 0.002);
  }
  if (mode === "connect") expect(r.conns_per_s).toBe(r.msgs_per_s);
  if (mode === "pingpong" || mode === "connect") {
    const l = r.latency_us!;
    const seq = [l.p50, l.p90, l.p99, l.p999, l.max];
    expect(seq.every((v) => v > 0)).toBe(true);
    expect(seq).toEqual([...seq].sort((a, b) => a - b));
    expect(l.mean).toBeGreaterThan(0);
    expect(l.mean).toBeLessThanOrEqual(l.max);
    // The curve: ascending from the min (at most the mean) to at most the max, through the summary's percentiles.
    const curve = r.latency_curve_us!;
    const values = curve.map(([, us]) => us);
    expect(values).toEqual([...values].sort((a, b) => a - b));
    expect(values[0]).toBeGreaterThan(0);
    expect(values[0]).toBeLessThanOrEqual(l.mean);
    expect(values.at(-1)).toBeLessThanOrEqual(l.max);
    const at = new Map(curve);
    expect([at.get(50), at.get(90), at.get(99), at.get(99.9)]).toEqual([l.p50, l.p90, l.p99, l.p999]);
  }
  if (mode === "idle") {
    expect(r.open_at_end).toBe(connections);
    expect(r.messages).toBe(connections);
  }
}
