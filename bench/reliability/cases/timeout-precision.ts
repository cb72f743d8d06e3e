// Issue 10, item 8: 10,000 connections with --timeout 2 closed between 2,000 and 2,064 ms (p99
// 2,059 ms) where the README claimed 10-20 ms. The server measures how late each idle timeout acts
// (tcp_echo_idle_timeout_lateness_seconds); the C load generator holds most connections and
// python3 times 500 of them from the client's side, both opened at the same time.
//
// How late the timeouts are depends on how densely their deadlines fall: they come --timeout after
// the connections opened, so at the rate the clients connected (the ramp, printed). Full mode runs
// three rounds, prints each, and holds the median round to the bound; quick mode runs one.
import { loadgen, pyOnce } from "../lib/peers.ts";
import { histogramQuantile, scrape, total, type Quantile } from "../lib/metrics.ts";
import { startServer } from "../lib/server.ts";
import { check, fmt, info, int, type Case, type Context } from "../lib/types.ts";

const TIMEOUT_S = 2;
const HOLD_S = 4;
const P99_BOUND_S = 0.03;
const SAMPLED = 500;
const LATENESS = "tcp_echo_idle_timeout_lateness_seconds";
const conns = (quick: boolean) => (quick ? 2000 : 10_000);
const rounds = (quick: boolean) => (quick ? 1 : 3);

interface ClientTiming {
  readonly closed: number;
  readonly open: number;
  readonly p50_ms: number | null;
  readonly p99_ms: number | null;
  readonly max_ms: number | null;
  readonly min_ms: number | null;
}

interface Round {
  readonly p99: Quantile;
  readonly p50: Quantile;
  readonly rampS: number;
  readonly ready: number;
  readonly openAtEnd: number;
  readonly client: ClientTiming;
  readonly timeouts: number;
  readonly code: number | null;
  readonly errors: number;
}

async function round(ctx: Context, n: number, i: number): Promise<Round> {
  const server = await startServer(ctx, { name: `8-timeout-precision-${i}`, args: ["--timeout", String(TIMEOUT_S), "--log-level", "warn", "--metrics", "127.0.0.1:0"] });
  const t0 = performance.now();
  const idle = loadgen(ctx, server.port, ["--mode", "idle", "--connections", n - SAMPLED, "--size", 64, "--duration", HOLD_S]);
  const client = pyOnce<ClientTiming>(ctx, "timeout_peer.py", [server.port, SAMPLED, TIMEOUT_S], 60_000, `8-timeout-peer-${i}`);
  const ready = await idle.ready;
  const rampS = (performance.now() - t0) / 1000;
  const [held, timing] = await Promise.all([idle.report, client]);
  const m = await scrape(server.metricsPort!);
  const code = await ctx.procs.stop(server.proc, 10_000);
  return {
    p99: histogramQuantile(m, LATENESS, 0.99),
    p50: histogramQuantile(m, LATENESS, 0.5),
    rampS,
    ready: ready ?? 0,
    openAtEnd: held.open_at_end ?? -1,
    client: timing,
    timeouts: total(m, "tcp_echo_connections_closed_total", { reason: "idle-timeout" }) || 0,
    code,
    errors: held.errors,
  };
}

const le = (s: number) => (Number.isFinite(s) ? `<= ${fmt(s * 1000, 0)} ms` : "> 1 s");

export const timeoutPrecision: Case = {
  id: "8",
  name: "timeout-precision",
  inQuick: true,
  describe: (quick) =>
    `--timeout ${TIMEOUT_S} --log-level warn --metrics, ${int(conns(quick))} connections (loadgen idle ${int(conns(quick) - SAMPLED)}, held ${HOLD_S} s after all are open; python3 ${SAMPLED}); ${rounds(quick)} round${rounds(quick) > 1 ? "s" : ""}`,
  async run(ctx) {
    const n = conns(ctx.quick);
    const results: Round[] = [];
    for (let i = 1; i <= rounds(ctx.quick); i++) results.push(await round(ctx, n, i));
    const sorted = [...results].sort((a, b) => a.p99.le - b.p99.le);
    const median = sorted[Math.floor(sorted.length / 2)]!;
    const each = (f: (r: Round) => string) => results.map(f).join(" | ");
    const allTimedOut = results.every((r) => r.p99.count >= n && r.timeouts >= n);
    return {
      checks: [
        info("ramp: all connections open after", each((r) => `${fmt(r.rampS, 2)} s (${int(r.ready + SAMPLED)})`)),
        check(
          `server-measured lateness p99 (histogram bucket)${results.length > 1 ? ", median round" : ""}`,
          `${le(median.p99.le)}; rounds: ${each((r) => (r.p99.count === 0 ? `no ${LATENESS} samples` : `p99 ${le(r.p99.le)}, p50 ${le(r.p50.le)}, max ${le(r.p99.maxLe)} of ${int(r.p99.count)}`))}`,
          `<= ${P99_BOUND_S * 1000} ms`,
          median.p99.le <= P99_BOUND_S && allTimedOut,
        ),
        info("client-seen lateness (python3's connections)", each((r) => `p50 ${r.client.p50_ms} ms, p99 ${r.client.p99_ms} ms, max ${r.client.max_ms} ms`)),
        check(
          `connections still open after the ${HOLD_S} s hold (loadgen open_at_end + python3)`,
          each((r) => `${int(r.openAtEnd)} + ${int(r.client.open)}`),
          "0",
          results.every((r) => r.openAtEnd === 0 && r.client.open === 0 && r.ready === n - SAMPLED),
        ),
        check("graceful stop exit code", each((r) => String(r.code)), "0", results.every((r) => r.code === 0)),
      ],
      notes: results.filter((r) => r.errors > 0).map((r) => `loadgen errors: ${r.errors}`),
    };
  },
};
