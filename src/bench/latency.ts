import { build, type Histogram } from "hdr-histogram-js";
import type { LatencySummary } from "./options.ts";

/** Values above this (nanoseconds) are clamped, as in loadgen.c: a minute-long round trip is a stall. */
const MAX_NS = 60e9;

/**
 * Round-trip times in nanoseconds: an HDR histogram (3 significant digits, so a percentile is within
 * 0.1 % of the true value) for the percentiles, and the exact sum and maximum beside it.
 */
export class LatencyRecorder {
  private hist: Histogram = LatencyRecorder.create();
  private sum = 0;
  private max = 0;

  private static create(): Histogram {
    // 64-bit counts: a long run at 10^5 messages/s would overflow 32-bit buckets in a few hours.
    return build({ bitBucketSize: 64, autoResize: false, lowestDiscernibleValue: 1, highestTrackableValue: MAX_NS, numberOfSignificantValueDigits: 3 });
  }

  get count(): number {
    return this.hist.totalCount;
  }

  record(ns: number): void {
    const v = ns <= 0 ? 0 : ns >= MAX_NS ? MAX_NS : Math.round(ns);
    this.hist.recordValue(v);
    this.sum += v;
    if (v > this.max) this.max = v;
  }

  reset(): void {
    this.hist.reset();
    this.sum = 0;
    this.max = 0;
  }

  /** Microseconds; null without samples. */
  summary(): LatencySummary | null {
    const n = this.hist.totalCount;
    if (n === 0) return null;
    const at = (p: number) => Math.min(this.hist.getValueAtPercentile(p), this.max) / 1000;
    return { p50: at(50), p90: at(90), p99: at(99), p999: at(99.9), max: this.max / 1000, mean: this.sum / n / 1000 };
  }
}
