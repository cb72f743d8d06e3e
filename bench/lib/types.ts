// The record of one measurement, as written to the JSON results.
import type { LoadReport } from "./scenarios.ts";

export type Group = "main" | "variant" | "compare" | "workers" | "tls" | "timeouts" | "side";
export type Client = "loadgen" | "tcp-echo-bench";

export interface CpuUse {
  /** Measured window (inside the client's measured phase), seconds. */
  readonly window_s: number;
  /** false: server and client ran on every CPU (workers group); the core0/core1 fields are whole-CPU figures. */
  readonly pinned: boolean;
  /** Process CPU (user + system, all threads) as % of one core; the server's summed over its process tree. */
  readonly server_pct: number | null;
  /** Processes summed into server_pct (a `--workers N` supervisor and its N workers: N + 1). */
  readonly server_processes: number | null;
  /** Each of those processes' share (the server first, then its descendants by pid), % of one core. */
  readonly server_process_pcts: (number | null)[];
  readonly client_pct: number | null;
  /** The client's user and system shares (system includes the loopback receive path it drives). */
  readonly client_user_pct: number | null;
  readonly client_sys_pct: number | null;
  /** Whole-core busy % including irq/softirq and anything else running there. */
  readonly core0_busy_pct: number | null;
  readonly core1_busy_pct: number | null;
  /** Core busy minus the pinned process on it: other work sharing the core (noise); null when not pinned. */
  readonly core0_other_pct: number | null;
  readonly core1_other_pct: number | null;
  /** Not pinned: both cores' busy time minus server and client (% of one core, out of 200): other work. */
  readonly other_pct: number | null;
}

export interface IdleUse {
  readonly rss_before_kib: number;
  readonly rss_held_kib: number;
  readonly open: number;
  readonly kib_per_conn: number;
  /** Seconds from starting the client until all connections were open and had exchanged. */
  readonly ready_s: number;
}

/** The timeouts group: how late the server's idle timeouts acted, from its lateness histogram. */
export interface TimeoutPrecision {
  /** Connections the histogram counted (each timed out once). */
  readonly count: number;
  /** Percentiles interpolated within the histogram's buckets (as Prometheus' histogram_quantile), ms. */
  readonly p50_ms: number | null;
  readonly p99_ms: number | null;
  /** The upper bound of the bucket holding the p99 (what the histogram can promise), ms. */
  readonly p99_bucket_ms: number | null;
  readonly mean_ms: number | null;
  /** Cumulative counts per bucket upper bound (seconds; Infinity last). */
  readonly buckets: [number, number][];
}

export interface RunRecord {
  readonly round: number;
  readonly group: Group;
  readonly scenario: string;
  readonly server: string;
  /** Variant id (group "variant"); "default" for the reference run. */
  readonly variant: string | null;
  readonly client: Client;
  readonly started_at: string;
  readonly duration_s: number;
  readonly warmup_s: number;
  readonly server_argv: readonly string[];
  readonly client_argv: readonly string[];
  /** Server pinned to one CPU and client to the other (false in the workers group). */
  readonly pinned: boolean;
  ok: boolean;
  problems: string[];
  /** Other work took more than DISTURBED_PCT of the server's or the client's core during the window. */
  disturbed: boolean;
  /** Repeated because it (or a run measured with it) was disturbed; a later attempt counts instead. */
  superseded: boolean;
  /** 1 for the first attempt of a measurement, 2 for its first repetition, ... */
  attempt: number;
  report: LoadReport | null;
  cpu: CpuUse | null;
  idle: IdleUse | null;
  /** The timeouts group only (absent from results written before it existed). */
  timeouts?: TimeoutPrecision | null;
  server_exit: number | null;
  /** Bytes the server wrote to stderr, and its first lines (at `warn` anything there is news). */
  server_stderr_bytes: number;
  server_stderr_head: string[];
  wall_s: number;
}

/** % of a pinned core busy with something other than the process pinned there: the run was disturbed. */
export const DISTURBED_PCT = 15;

/**
 * How disturbed a run was: the larger share of a pinned core taken by other work; for a run that is
 * not pinned, the share of both cores together taken by anything but the server and the client.
 */
export function disturbance(r: RunRecord): number {
  if (r.cpu && !r.cpu.pinned) return r.cpu.other_pct ?? 0;
  return Math.max(r.cpu?.core0_other_pct ?? 0, r.cpu?.core1_other_pct ?? 0);
}
