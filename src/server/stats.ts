import { CLOSE_REASONS, type CloseReason } from "./config.ts";

export type ClosedCounts = Record<CloseReason, number>;

/** Upper bounds (seconds) of the connection-duration histogram buckets; +Inf is implied. */
export const DURATION_BUCKETS = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 600] as const;
/** Upper bounds (seconds) of how late an idle timeout acted after its deadline. */
export const LATENESS_BUCKETS = [0.001, 0.002, 0.005, 0.01, 0.015, 0.02, 0.03, 0.05, 0.1, 0.2, 0.5, 1] as const;

/** Counts per bucket (not cumulative; the last is +Inf) and the sum of the observed values. */
export interface HistogramSnapshot {
  readonly counts: readonly number[];
  readonly sum: number;
}

export class Histogram {
  readonly counts: number[];
  sum = 0;

  constructor(readonly bounds: readonly number[]) {
    this.counts = new Array<number>(bounds.length + 1).fill(0);
  }

  observe(x: number): void {
    let i = 0;
    while (i < this.bounds.length && x > this.bounds[i]!) i++;
    this.counts[i]!++;
    this.sum += x;
  }

  add(s: HistogramSnapshot): void {
    s.counts.forEach((n, i) => (this.counts[i]! += n));
    this.sum += s.sum;
  }

  snapshot(): HistogramSnapshot {
    return { counts: [...this.counts], sum: this.sum };
  }
}

/** One listener's share of the counters (metrics label them listener="name"). */
export interface ListenerCounts {
  readonly accepted: number;
  readonly open: number;
  readonly closed: Readonly<ClosedCounts>;
  readonly bytesIn: number;
  readonly bytesOut: number;
  /** PROXY headers accepted, by "version command" ("2 proxy", "1 local"). */
  readonly proxyHeaders: Readonly<Record<string, number>>;
  /** PROXY headers refused, by reason (bad-signature, crc-mismatch, timeout, ...). */
  readonly proxyErrors: Readonly<Record<string, number>>;
  /** TLS handshakes by "version result" ("TLSv1.3 ok", "unknown timeout"); see tls-state.ts. */
  readonly tlsHandshakes: Readonly<Record<string, number>>;
}

/** A point-in-time copy of the server's counters. */
export interface StatsSnapshot extends ListenerCounts {
  readonly accepted: number;
  readonly open: number;
  readonly closed: Readonly<ClosedCounts>;
  readonly bytesIn: number;
  readonly bytesOut: number;
  /** Times a connection's reading was paused (its --max-buffer, or the --max-memory budget). */
  readonly pauses: number;
  /** --record: records decoded, and connections that closed inside a record. */
  readonly records: number;
  readonly partialRecords: number;
  /** How long closed connections lasted, in seconds. */
  readonly duration: HistogramSnapshot;
  /** How late each idle timeout acted after its deadline, in seconds. */
  readonly timeoutLateness: HistogramSnapshot;
  /** Bytes held for echo now (a gauge), the --max-memory budget, and pauses because it was full. */
  readonly heldBytes: number;
  readonly memoryBudget: number;
  readonly budgetPauses: number;
  /** Accepting paused for want of file descriptors: now (a gauge, 0/1 per process), how often, how long. */
  readonly acceptPaused: number;
  readonly acceptPauses: number;
  readonly acceptPausedSeconds: number;
  /** The per-listener counters, by listener name (empty in one listener's own snapshot). */
  readonly byListener: Readonly<Record<string, ListenerCounts>>;
}

type MutableCounts = {
  accepted: number;
  open: number;
  closed: ClosedCounts;
  bytesIn: number;
  bytesOut: number;
  proxyHeaders: Record<string, number>;
  proxyErrors: Record<string, number>;
  tlsHandshakes: Record<string, number>;
};

function addCounts(into: Record<string, number>, from: Readonly<Record<string, number>>): void {
  for (const [k, n] of Object.entries(from)) into[k] = (into[k] ?? 0) + n;
}

const zeroClosed = () => Object.fromEntries(CLOSE_REASONS.map((r) => [r, 0])) as ClosedCounts;

/** Live counters, mutated in place by the connection handlers (plain fields: no hot-path calls). */
export class ServerStats {
  accepted = 0;
  open = 0;
  bytesIn = 0;
  bytesOut = 0;
  pauses = 0;
  records = 0;
  partialRecords = 0;
  readonly closed: ClosedCounts = zeroClosed();
  readonly proxyHeaders: Record<string, number> = {};
  readonly proxyErrors: Record<string, number> = {};
  readonly tlsHandshakes: Record<string, number> = {};
  /** Per-listener counters gathered by add(). */
  private readonly listeners = new Map<string, MutableCounts>();
  readonly duration = new Histogram(DURATION_BUCKETS);
  readonly timeoutLateness = new Histogram(LATENESS_BUCKETS);
  /** The process's memory budget, read when a snapshot is taken. */
  budget: { readonly held: number; readonly limit: number; readonly pauses: number } | null = null;
  /** Summed snapshots (sumSnapshots) carry these as plain numbers. */
  heldBytes = 0;
  memoryBudget = 0;
  budgetPauses = 0;
  /** The accept guard's counts, read when a snapshot is taken. */
  accept: (() => { readonly paused: boolean; readonly pauses: number; readonly pausedSeconds: number }) | null = null;
  acceptPaused = 0;
  acceptPauses = 0;
  acceptPausedSeconds = 0;

  snapshot(): StatsSnapshot {
    return {
      accepted: this.accepted,
      open: this.open,
      closed: { ...this.closed },
      proxyHeaders: { ...this.proxyHeaders },
      proxyErrors: { ...this.proxyErrors },
      tlsHandshakes: { ...this.tlsHandshakes },
      bytesIn: this.bytesIn,
      bytesOut: this.bytesOut,
      pauses: this.pauses,
      records: this.records,
      partialRecords: this.partialRecords,
      duration: this.duration.snapshot(),
      timeoutLateness: this.timeoutLateness.snapshot(),
      heldBytes: this.budget?.held ?? this.heldBytes,
      memoryBudget: this.budget?.limit ?? this.memoryBudget,
      budgetPauses: this.budget?.pauses ?? this.budgetPauses,
      ...this.acceptCounts(),
      byListener: Object.fromEntries(
        [...this.listeners].map(([k, v]) => [k, { ...v, closed: { ...v.closed }, proxyHeaders: { ...v.proxyHeaders }, proxyErrors: { ...v.proxyErrors }, tlsHandshakes: { ...v.tlsHandshakes } }]),
      ),
    };
  }

  private addListener(name: string, c: ListenerCounts, gauges: boolean): void {
    let t = this.listeners.get(name);
    if (!t) this.listeners.set(name, (t = { accepted: 0, open: 0, closed: zeroClosed(), bytesIn: 0, bytesOut: 0, proxyHeaders: {}, proxyErrors: {}, tlsHandshakes: {} }));
    addCounts(t.proxyHeaders, c.proxyHeaders);
    addCounts(t.proxyErrors, c.proxyErrors);
    addCounts(t.tlsHandshakes, c.tlsHandshakes ?? {});
    t.accepted += c.accepted;
    t.bytesIn += c.bytesIn;
    t.bytesOut += c.bytesOut;
    if (gauges) t.open += c.open;
    for (const r of CLOSE_REASONS) t.closed[r] += c.closed[r] ?? 0;
  }

  private acceptCounts() {
    const a = this.accept?.();
    return a
      ? { acceptPaused: a.paused ? 1 : 0, acceptPauses: a.pauses, acceptPausedSeconds: a.pausedSeconds }
      : { acceptPaused: this.acceptPaused, acceptPauses: this.acceptPauses, acceptPausedSeconds: this.acceptPausedSeconds };
  }

  /**
   * Adds a snapshot's counters; its gauges (open, held bytes, budget) only with `gauges`. Its
   * per-listener counters are added too, and the snapshot as a whole under `listener` if named.
   */
  add(s: StatsSnapshot, gauges: boolean, listener?: string): void {
    for (const [name, c] of Object.entries(s.byListener)) this.addListener(name, c, gauges);
    if (listener !== undefined) this.addListener(listener, s, gauges);
    this.accepted += s.accepted;
    this.bytesIn += s.bytesIn;
    this.bytesOut += s.bytesOut;
    this.pauses += s.pauses;
    this.records += s.records;
    this.partialRecords += s.partialRecords;
    this.budgetPauses += s.budgetPauses;
    addCounts(this.proxyHeaders, s.proxyHeaders);
    addCounts(this.proxyErrors, s.proxyErrors);
    addCounts(this.tlsHandshakes, s.tlsHandshakes ?? {});
    this.acceptPauses += s.acceptPauses;
    this.acceptPausedSeconds += s.acceptPausedSeconds;
    for (const r of CLOSE_REASONS) this.closed[r] += s.closed[r] ?? 0;
    this.duration.add(s.duration);
    this.timeoutLateness.add(s.timeoutLateness);
    if (gauges) {
      this.open += s.open;
      this.heldBytes += s.heldBytes;
      this.memoryBudget += s.memoryBudget;
      this.acceptPaused += s.acceptPaused;
    }
  }
}

/**
 * The view across worker processes: `retired` holds the counters of workers that have exited
 * (their gauges are gone with them), so totals never go backwards when a worker is replaced.
 */
export function sumSnapshots(live: readonly StatsSnapshot[], retired: StatsSnapshot | null = null): StatsSnapshot {
  const total = new ServerStats();
  if (retired) total.add(retired, false);
  for (const s of live) total.add(s, true);
  return total.snapshot();
}

/**
 * One process's view: its listeners' snapshots summed, each also kept under its name; `retired`
 * holds the counters of listeners closed at run time (DELETE /proxies), so totals never go back.
 */
export function sumListeners(byName: Readonly<Record<string, StatsSnapshot>>, retired: StatsSnapshot | null = null): StatsSnapshot {
  const total = new ServerStats();
  if (retired) total.add(retired, false);
  for (const [name, s] of Object.entries(byName)) total.add(s, true, name);
  return total.snapshot();
}
