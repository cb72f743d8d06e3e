import { CLOSE_REASONS, type CloseReason, type StatsSnapshot } from "../server/index.ts";

/** One second of the server's life, as the status page's chart draws it. */
export interface Sample {
  /** End of the second (ms since the epoch). */
  readonly t: number;
  /** Connections accepted per second. */
  readonly conn_s: number;
  /** Open connections at the end of the second. */
  readonly open: number;
  /** Bytes per second read from peers, and echoed back. */
  readonly in_bps: number;
  readonly out_bps: number;
  /** Closes per second by reason; reasons with none are left out. */
  readonly closes: Readonly<Partial<Record<CloseReason, number>>>;
}

/**
 * The last `capacity` samples (300: five minutes at one a second), so a page opened late still
 * draws the whole window. Rates are differences of the counters between two samples divided by
 * the time between them, so a late tick (a busy loop, a slow worker answer) does not show a spike.
 */
export class History {
  private readonly ring: Sample[] = [];
  private next = 0;
  private prev: { t: number; stats: StatsSnapshot } | null = null;

  constructor(readonly capacity = 300) {}

  /** Adds the second that ends with `stats` at `t`; returns it (null for the very first reading). */
  add(t: number, stats: StatsSnapshot): Sample | null {
    const prev = this.prev;
    this.prev = { t, stats };
    if (!prev || t <= prev.t) return null;
    const per = 1000 / (t - prev.t);
    // Counters of a replaced worker or a deleted listener move to "retired" and never go back;
    // a negative step is still clamped so that a restart of the source cannot draw below zero.
    const rate = (a: number, b: number) => Math.max(0, Math.round((a - b) * per * 100) / 100);
    const closes: Partial<Record<CloseReason, number>> = {};
    for (const r of CLOSE_REASONS) {
      const n = rate(stats.closed[r], prev.stats.closed[r]);
      if (n > 0) closes[r] = n;
    }
    const s: Sample = { t, conn_s: rate(stats.accepted, prev.stats.accepted), open: stats.open, in_bps: rate(stats.bytesIn, prev.stats.bytesIn), out_bps: rate(stats.bytesOut, prev.stats.bytesOut), closes };
    if (this.ring.length < this.capacity) this.ring.push(s);
    else this.ring[this.next] = s;
    this.next = (this.next + 1) % this.capacity;
    return s;
  }

  /** Oldest first. */
  all(): Sample[] {
    return this.ring.length < this.capacity ? [...this.ring] : [...this.ring.slice(this.next), ...this.ring.slice(0, this.next)];
  }
}
