import type { Logger } from "../log/logger.ts";
import type { StatsSnapshot } from "./stats.ts";

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
      const dt = last ? (at - last.at) / 1000 : seconds;
      const prev = last?.s;
      const rate = (now: number, before: number | undefined) => (now - (before ?? 0)) / dt;
      const closed = Object.values(s.closed).reduce((a, b) => a + b, 0);
      const prevClosed = prev ? Object.values(prev.closed).reduce((a, b) => a + b, 0) : 0;
      const r = {
        accepted_per_s: round(rate(s.accepted, prev?.accepted)),
        closed_per_s: round(rate(closed, prevClosed)),
        in_bytes_per_s: round(rate(s.bytesIn, prev?.bytesIn)),
        out_bytes_per_s: round(rate(s.bytesOut, prev?.bytesOut)),
      };
      const reasons = Object.entries(s.closed).filter(([, n]) => n > 0).map(([k, n]) => `${k} ${n}`).join(", ") || "none";
      log.info(
        "stats",
        `stats: ${s.open} open, ${s.accepted} accepted (${r.accepted_per_s}/s), closed: ${reasons}; in ${s.bytesIn} B (${r.in_bytes_per_s} B/s), out ${s.bytesOut} B (${r.out_bytes_per_s} B/s); records ${s.records}, partial ${s.partialRecords}, pauses ${s.pauses}`,
        {
          open: s.open,
          accepted: s.accepted,
          closed: s.closed,
          bytes_in: s.bytesIn,
          bytes_out: s.bytesOut,
          records: s.records,
          partial_records: s.partialRecords,
          pauses: s.pauses,
          ...r,
        },
      );
      last = { at, s };
    } finally {
      busy = false;
    }
  };
  const timer = setInterval(() => void tick(), seconds * 1000);
  return () => clearInterval(timer);
}

const round = (x: number) => Math.round(x * 10) / 10;
