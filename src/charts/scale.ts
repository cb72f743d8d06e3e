// Axes: linear and log-10 mappings from data to pixels, and "nice" tick values for each.

/** Maps [d0, d1] onto [r0, r1] linearly. */
export function linear(d0: number, d1: number, r0: number, r1: number): (v: number) => number {
  const k = (r1 - r0) / (d1 - d0 || 1);
  return (v) => r0 + (v - d0) * k;
}

/** Maps [d0, d1] (both > 0) onto [r0, r1] by log10. */
export function log10(d0: number, d1: number, r0: number, r1: number): (v: number) => number {
  const f = linear(Math.log10(d0), Math.log10(d1), r0, r1);
  return (v) => f(Math.log10(v));
}

/** Ticks from 0 to a round number at or above `max`, about `target` of them, in steps of 1, 2, 2.5 or 5 × 10^k. */
export function linearTicks(max: number, target = 6): number[] {
  const top = max > 0 ? max : 1;
  const raw = top / target;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw)!;
  const n = Math.ceil(top / step - 1e-9);
  // Rounded to the step's decimals, so 0.1 × 3 prints as 0.3.
  const digits = Math.max(0, -Math.floor(Math.log10(step)) + 1);
  return Array.from({ length: n + 1 }, (_, i) => Number((i * step).toFixed(digits)));
}

export interface LogTick {
  readonly value: number;
  /** Labelled: every tick when there are few, else the powers of ten only. */
  readonly label: boolean;
}

/** The 1-2-5 values (…, 10, 20, 50, 100, …) at or above `v`, or at or below it. */
function step125(v: number, up: boolean): number {
  const mag = 10 ** Math.floor(Math.log10(v));
  const steps = [1, 2, 5, 10].map((m) => m * mag);
  const eps = 1e-9 * v;
  return up ? steps.find((s) => s >= v - eps)! : [...steps].reverse().find((s) => s <= v + eps)!;
}

/** A log axis from the 1-2-5 value at or below `min` to the one at or above `max`, with its ticks. */
export function logTicks(min: number, max: number, maxLabels = 10): { lo: number; hi: number; ticks: LogTick[] } {
  const lo = step125(min, false);
  let hi = step125(max, true);
  if (hi <= lo) hi = step125(lo * 1.5, true);
  const values: number[] = [];
  for (let v = lo; v <= hi * (1 + 1e-9); v = step125(v * 1.5, true)) values.push(v);
  const all = values.length <= maxLabels;
  const decade = (v: number) => Math.abs(Math.log10(v) - Math.round(Math.log10(v))) < 1e-9;
  return { lo, hi, ticks: values.map((value) => ({ value, label: all || decade(value) })) };
}

/** A tick label: "0.5", "20", "1,000", "20,000". */
export function tickLabel(v: number): string {
  return v.toLocaleString("en-US", { maximumFractionDigits: v < 1 ? 3 : v < 10 ? 2 : 0 });
}
