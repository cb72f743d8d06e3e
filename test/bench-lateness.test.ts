// The benchmark's timeouts group reads tcp-echo's lateness histogram from /metrics; the percentiles
// it reports must be the ones Prometheus' histogram_quantile would give for the same buckets.
import { describe, expect, test } from "bun:test";
import { latenessFromMetrics } from "../bench/lib/plan.ts";
import { LATENESS_BUCKETS, ServerStats } from "../src/server/index.ts";
import { renderMetrics } from "../src/ops/metrics.ts";

const NAME = "tcp_echo_idle_timeout_lateness_seconds";

function text(buckets: [string, number][], sum: number): string {
  return [
    `# TYPE ${NAME} histogram`,
    ...buckets.map(([le, n]) => `${NAME}_bucket{le="${le}"} ${n}`),
    `${NAME}_sum ${sum}`,
    `${NAME}_count ${buckets.at(-1)![1]}`,
    "tcp_echo_connections_open 0",
  ].join("\n");
}

describe("the benchmark's idle-timeout lateness", () => {
  test("percentiles are interpolated within the bucket that holds the rank, as histogram_quantile does", () => {
    // 100 timeouts: 40 within 5 ms, 50 more within 10 ms, 9 more within 15 ms, 1 more within 20 ms.
    const t = latenessFromMetrics(text([["0.005", 40], ["0.01", 90], ["0.015", 99], ["0.02", 100], ["+Inf", 100]], 0.75))!;
    // p50: rank 50 lies 10 of 50 into (5, 10] ms -> 6 ms. p99: rank 99 is the top of (10, 15] -> 15 ms.
    expect(t).toMatchObject({ count: 100, p50_ms: 6, p99_ms: 15, p99_bucket_ms: 15, mean_ms: 7.5 });
  });

  test("read from what the server's /metrics renders, the count is every timeout observed", () => {
    const stats = new ServerStats();
    for (let i = 0; i < 1000; i++) stats.timeoutLateness.observe(i < 990 ? 0.004 : 0.025);
    const body = renderMetrics({ stats: stats.snapshot(), processes: [], workers: null }, true);
    const t = latenessFromMetrics(body)!;
    expect(t.count).toBe(1000);
    expect(t.p99_bucket_ms).toBe(5);
    expect(t.buckets.map(([le]) => le)).toEqual([...LATENESS_BUCKETS, Infinity]);
  });

  test("no histogram, or an empty one: null", () => {
    expect(latenessFromMetrics("tcp_echo_connections_open 0\n")).toBeNull();
    expect(latenessFromMetrics(text([["0.005", 0], ["+Inf", 0]], 0))).toBeNull();
  });
});
