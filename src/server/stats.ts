import { CLOSE_REASONS, type CloseReason } from "./config.ts";

export type ClosedCounts = Record<CloseReason, number>;

/** Upper bounds (seconds) of the connection-duration histogram buckets; +Inf is implied. */
export const DURATION_BUCKETS = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 600] as const;

/** A point-in-time copy of the server's counters. */
export interface StatsSnapshot {
  readonly accepted: number;
  readonly open: number;
  readonly closed: Readonly<ClosedCounts>;
  readonly bytesIn: number;
  readonly bytesOut: number;
  /** Times a connection's reading was paused because --max-buffer bytes waited to be echoed. */
  readonly pauses: number;
  /** --record: records decoded, and connections that closed inside a record. */
  readonly records: number;
  readonly partialRecords: number;
  /** Connection durations: count per bucket (not cumulative; the last is +Inf), sum in seconds. */
  readonly durationBuckets: readonly number[];
  readonly durationSum: number;
  /** Bytes held for echo now, the --max-memory budget, and pauses because it was full. */
  readonly heldBytes: number;
  readonly memoryBudget: number;
  readonly budgetPauses: number;
}

/** Live counters, mutated in place by the connection handlers (plain fields: no hot-path calls). */
export class ServerStats {
  accepted = 0;
  open = 0;
  bytesIn = 0;
  bytesOut = 0;
  pauses = 0;
  records = 0;
  partialRecords = 0;
  readonly closed: ClosedCounts = Object.fromEntries(CLOSE_REASONS.map((r) => [r, 0])) as ClosedCounts;
  readonly durationBuckets: number[] = new Array<number>(DURATION_BUCKETS.length + 1).fill(0);
  durationSum = 0;
  /** The process's memory budget, read when a snapshot is taken. */
  budget: { readonly held: number; readonly limit: number; readonly pauses: number } | null = null;
  /** Summed snapshots (mergeSnapshots) carry these as plain numbers. */
  heldBytes = 0;
  memoryBudget = 0;
  budgetPauses = 0;

  /** Once per closed connection. */
  observeDuration(seconds: number): void {
    let i = 0;
    while (i < DURATION_BUCKETS.length && seconds > DURATION_BUCKETS[i]!) i++;
    this.durationBuckets[i]!++;
    this.durationSum += seconds;
  }

  snapshot(): StatsSnapshot {
    return {
      accepted: this.accepted,
      open: this.open,
      closed: { ...this.closed },
      bytesIn: this.bytesIn,
      bytesOut: this.bytesOut,
      pauses: this.pauses,
      records: this.records,
      partialRecords: this.partialRecords,
      durationBuckets: [...this.durationBuckets],
      durationSum: this.durationSum,
      heldBytes: this.budget?.held ?? this.heldBytes,
      memoryBudget: this.budget?.limit ?? this.memoryBudget,
      budgetPauses: this.budget?.pauses ?? this.budgetPauses,
    };
  }
}

/** Sums snapshots field by field: the view across worker processes. */
export function mergeSnapshots(list: readonly StatsSnapshot[]): StatsSnapshot {
  const total = new ServerStats();
  for (const s of list) {
    total.accepted += s.accepted;
    total.open += s.open;
    total.bytesIn += s.bytesIn;
    total.bytesOut += s.bytesOut;
    total.pauses += s.pauses;
    total.records += s.records;
    total.partialRecords += s.partialRecords;
    total.durationSum += s.durationSum;
    total.heldBytes += s.heldBytes;
    total.memoryBudget += s.memoryBudget;
    total.budgetPauses += s.budgetPauses;
    for (const r of CLOSE_REASONS) total.closed[r] += s.closed[r] ?? 0;
    s.durationBuckets.forEach((n, i) => (total.durationBuckets[i]! += n));
  }
  return total.snapshot();
}
