// Round-trip statistics as ping prints them: min/avg/max, plus p99 for long runs.

export interface RttStats {
  readonly min: number;
  readonly avg: number;
  readonly max: number;
  /** Nearest-rank 99th percentile: the smallest value with at least 99% of samples at or below it. */
  readonly p99: number;
}

/** null when there is no sample (no echo came back complete). */
export function summarizeRtts(samples: readonly number[]): RttStats | null {
  if (samples.length === 0) return null;
  const sorted = [...samples].sort((a, b) => a - b);
  const sum = sorted.reduce((a, b) => a + b, 0);
  const rank = Math.ceil(0.99 * sorted.length);
  return { min: sorted[0]!, avg: sum / sorted.length, max: sorted[sorted.length - 1]!, p99: sorted[rank - 1]! };
}
