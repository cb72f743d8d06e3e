import { build, type Histogram } from "hdr-histogram-js";
import type { LatencySummary, PercentilePoint } from "./options.ts";

/** Values above this (nanoseconds) are clamped, as in loadgen.c: a minute-long round trip is a stall. */
const MAX_NS = 60e9;

/**
 * The percentiles of the JSON report's `latency_curve_us` (loadgen.c prints the same list): 1, 2 and 5
 * steps of the tail (1 - q) per decade, so that a chart with log(1 - q) on its x axis gets evenly
 * spread points, and p50, p90, p99, p99.9, p99.99 are among them. p0 is the exact minimum.
 */
export const CURVE_PERCENTILES: readonly number[] = [
  0, 50, 80, 90, 95, 98, 99, 99.5, 99.8, 99.9, 99.95, 99.98, 99.99, 99.995, 99.998, 99.999,
];

/** The fuller curve of a run (`BenchResult.latencyCurveUs`, the HTML report): this many points per decade of the tail. */
const DENSE_PER_DECADE = 20;
/** ... down to a tail of 10^-6 (p99.9999); a chart drops what the run's sample count cannot resolve. */
const DENSE_DECADES = 6;

/** CURVE_PERCENTILES and, between them, DENSE_PER_DECADE points per decade of the tail. */
export const DENSE_PERCENTILES: readonly number[] = (() => {
  const decadesOf = (p: number) => -Math.log10(1 - p / 100);
  const grid = CURVE_PERCENTILES.map(decadesOf);
  const out = [...CURVE_PERCENTILES];
  for (let k = 1; k <= DENSE_PER_DECADE * DENSE_DECADES; k++) {
    const d = k / DENSE_PER_DECADE;
    // A point within half a step of one of the report's adds nothing to the curve.
    if (grid.some((g) => Math.abs(g - d) < 0.5 / DENSE_PER_DECADE)) continue;
    out.push(100 * (1 - 10 ** -d));
  }
  return out.sort((a, b) => a - b);
})();

/**
 * Round-trip times in nanoseconds: an HDR histogram (3 significant digits, so a percentile is within
 * 0.1 % of the true value) for the percentiles, and the exact sum, minimum and maximum beside it.
 */
export class LatencyRecorder {
  private hist: Histogram = LatencyRecorder.create();
  private sum = 0;
  private min = Infinity;
  private max = 0;

  private static create(): Histogram {
    // 64-bit counts: a long run at 10^5 messages/s would overflow 32-bit buckets in a few hours.
    return build({ bitBucketSize: 64, autoResize: false, lowestDiscernibleValue: 1, highestTrackableValue: MAX_NS, numberOfSignificantValueDigits: 3 });
  }

  record(ns: number): void {
    const v = ns <= 0 ? 0 : ns >= MAX_NS ? MAX_NS : Math.round(ns);
    this.hist.recordValue(v);
    this.sum += v;
    if (v > this.max) this.max = v;
    if (v < this.min) this.min = v;
  }

  reset(): void {
    this.hist.reset();
    this.sum = 0;
    this.min = Infinity;
    this.max = 0;
  }

  /** Microseconds: the highest value of the percentile's bucket, capped at the exact max; p0 is the exact min. */
  private at(p: number): number {
    if (p === 0) return this.min / 1000;
    return Math.min(this.hist.getValueAtPercentile(p), this.max) / 1000;
  }

  /** Microseconds; null without samples. */
  summary(): LatencySummary | null {
    const n = this.hist.totalCount;
    if (n === 0) return null;
    const at = (p: number) => this.at(p);
    return { p50: at(50), p90: at(90), p99: at(99), p999: at(99.9), max: this.max / 1000, mean: this.sum / n / 1000 };
  }

  /** [percentile, µs] at each of `percentiles` (ascending); null without samples. */
  curve(percentiles: readonly number[] = DENSE_PERCENTILES): PercentilePoint[] | null {
    if (this.hist.totalCount === 0) return null;
    return percentiles.map((p) => [p, this.at(p)] as const);
  }
}
