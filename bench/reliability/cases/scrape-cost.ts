// Issue 10, item 2: each scrape listed /proc/self/fd and read /proc files on the echo thread; with
// 19,000 connections open, 300 concurrent scrapes stalled echo traffic for 4.9 s (16-22 ms per
// scrape). Idle connections held by the C load generator, concurrent scrapes by python3, and one
// pingpong connection (loadgen, 64 B) timing every echo round trip meanwhile.
import { sleep } from "../../lib/proc.ts";
import { loadgen, pyOnce, type LoadReport } from "../lib/peers.ts";
import { startServer } from "../lib/server.ts";
import { check, fmt, info, int, type Case, type Context } from "../lib/types.ts";

const STALL_BOUND_MS = 200;
const counts = (quick: boolean) => (quick ? { idle: 5000, scrapes: 100 } : { idle: 19_000, scrapes: 300 });

interface ScrapeRun {
  readonly ok: number;
  readonly failed: number;
  readonly wall_ms: number;
  readonly median_ms: number | null;
  readonly max_ms: number | null;
  readonly bytes: number;
  readonly errors: Record<string, number>;
}

/** One pingpong connection for the length of `during`; its longest round trip, in ms. */
async function pingpongAround<T>(ctx: Context, port: number, during: () => Promise<T>): Promise<{ value: T; report: LoadReport }> {
  const pp = loadgen(ctx, port, ["--mode", "pingpong", "--connections", 1, "--size", 64, "--warmup", 0, "--duration", 300]);
  await sleep(300);
  const value = await during();
  await sleep(100);
  pp.interrupt();
  return { value, report: await pp.report };
}

const maxMs = (r: LoadReport) => (r.latency_us ? r.latency_us.max / 1000 : Infinity);

export const scrapeCost: Case = {
  id: "2",
  name: "scrape-cost",
  inQuick: true,
  describe: (quick) => {
    const c = counts(quick);
    return `--metrics, ${int(c.idle)} idle connections (loadgen idle), ${c.scrapes} concurrent scrapes of /metrics, one pingpong connection timing echoes`;
  },
  async run(ctx) {
    const c = counts(ctx.quick);
    const server = await startServer(ctx, { name: "2-scrape-cost", args: ["--timeout", "0", "--log-level", "warn", "--metrics", "127.0.0.1:0"] });
    const idle = loadgen(ctx, server.port, ["--mode", "idle", "--connections", c.idle, "--size", 64, "--duration", 600]);
    const open = await idle.ready;
    if (open === null) throw new Error(`loadgen idle ended before holding its connections: ${JSON.stringify(await idle.report)}`);
    await sleep(500);
    // The same pingpong without scrapes: what the machine's own noise adds to a round trip.
    const quiet = await pingpongAround(ctx, server.port, () => sleep(ctx.quick ? 1000 : 2000));
    const busy = await pingpongAround(ctx, server.port, () =>
      pyOnce<ScrapeRun>(ctx, "scrape.py", [server.metricsPort!, c.scrapes], 150_000, "2-scrape"),
    );
    idle.interrupt();
    const held = await idle.report;
    const code = await ctx.procs.stop(server.proc, 15_000);
    const s = busy.value;
    const stall = maxMs(busy.report);
    const perScrape = s.ok > 0 ? s.wall_ms / s.ok : Infinity;
    return {
      checks: [
        info("idle connections held", `${int(open)} (open at end ${int(held.open_at_end ?? 0)})`),
        info("scrapes answered", `${s.ok} / ${c.scrapes}`),
        info("ms per scrape (wall time of all / answered)", `${fmt(perScrape, 2)} ms (median latency ${s.median_ms ?? "-"} ms, max ${s.max_ms ?? "-"} ms)`),
        info("longest echo round trip without scrapes", `${fmt(maxMs(quiet.report), 2)} ms`),
        check("longest echo round trip during the scrapes", `${fmt(stall, 2)} ms`, `< ${STALL_BOUND_MS} ms`, stall < STALL_BOUND_MS && busy.report.errors === 0),
        check("graceful stop exit code", String(code), "0", code === 0),
      ],
      notes: [
        `pingpong during the scrapes: ${int(busy.report.messages)} round trips, p99 ${busy.report.latency_us ? fmt(busy.report.latency_us.p99 / 1000, 2) : "-"} ms, errors ${busy.report.errors}; scrape body ${s.ok > 0 ? int(s.bytes / s.ok) : 0} B${s.failed > 0 ? `; scrape failures ${JSON.stringify(s.errors)}` : ""}`,
      ],
    };
  },
};
