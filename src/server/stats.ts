import { CLOSE_REASONS, type CloseReason } from "./config.ts";

export type ClosedCounts = Record<CloseReason, number>;

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
    };
  }
}
