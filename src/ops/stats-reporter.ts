import type { Logger } from "../log/index.ts";
import type { StatsSnapshot } from "../server/index.ts";

const closedTotal = (s: StatsSnapshot) => Object.values(s.closed).reduce((a, b) => a + b, 0);
const round = (x: number) => Math.round(x * 10) / 10;

/** One `stats` line: the counters, and the rates since `prev` taken `seconds` earlier (if any). */
export function logStats(log: Logger, s: StatsSnapshot, prev: StatsSnapshot | null, seconds: number): void {
  if (!log.infoOn) return;
  const rate = (now: number, before: number | undefined) => (seconds > 0 ? round((now - (before ?? 0)) / seconds) : null);
  const r = {
    accepted_per_s: rate(s.accepted, prev?.accepted),
    closed_per_s: rate(closedTotal(s), prev ? closedTotal(prev) : 0),
    in_bytes_per_s: rate(s.bytesIn, prev?.bytesIn),
    out_bytes_per_s: rate(s.bytesOut, prev?.bytesOut),
  };
  const reasons = Object.entries(s.closed).filter(([, n]) => n > 0).map(([k, n]) => `${k} ${n}`).join(", ") || "none";
  const per = (x: number | null) => (x === null ? "" : ` (${x}/s)`);
  const bps = (x: number | null) => (x === null ? "" : ` (${x} B/s)`);
  log.info(
    "stats",
    `stats: ${s.open} open, ${s.accepted} accepted${per(r.accepted_per_s)}, closed: ${reasons}; in ${s.bytesIn} B${bps(r.in_bytes_per_s)}, out ${s.bytesOut} B${bps(r.out_bytes_per_s)}; held ${s.heldBytes} B; records ${s.records}, partial ${s.partialRecords}, pauses ${s.pauses}`,
    {
      open: s.open,
      accepted: s.accepted,
      closed: s.closed,
      bytes_in: s.bytesIn,
      bytes_out: s.bytesOut,
      held_bytes: s.heldBytes,
      records: s.records,
      partial_records: s.partialRecords,
      pauses: s.pauses,
      ...r,
    },
  );
}

/**
 * --stats-interval: one line per interval with the counters and the rates since the last line.
 * The source may be asynchronous (a supervisor asking its workers). Returns a stop function.
 */
export function startStatsReporter(seconds: number, source: () => StatsSnapshot | Promise<StatsSnapshot>, log: Logger): () => void {
  let last: { at: number; s: StatsSnapshot } | null = null;
  let busy = false;
  const tick = async () => {
    if (busy) return;
    busy = true;
    try {
      const s = await source();
      const at = performance.now();
      logStats(log, s, last?.s ?? null, last ? (at - last.at) / 1000 : seconds);
      last = { at, s };
    } finally {
      busy = false;
    }
  };
  const timer = setInterval(() => void tick(), seconds * 1000);
  return () => clearInterval(timer);
}
