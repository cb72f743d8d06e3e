// The benchmark's charts, from its results: per scenario the ratio to the C baseline per server
// (bars, with every round's ratio and their spread), and for the pingpong scenarios the latency
// percentile curves per server. Pure: results in, SVG text out (chart-files.ts writes them).
import { PALETTE, percentileChart, ratioChart, type CurvePoint, type PercentileSeries } from "../../src/charts/index.ts";
import type { Results } from "./report.ts";
import { METRICS, scenarios as allScenarios, type Scenario } from "./scenarios.ts";
import { C_BASELINE, SERVERS } from "./servers.ts";
import { median } from "./stats.ts";
import type { RunRecord } from "./types.ts";

export interface Chart {
  readonly kind: "ratio" | "latency";
  readonly scenario: string;
  /** File name, relative to the markdown report. */
  readonly file: string;
  /** Alt text for the markdown image. */
  readonly alt: string;
  readonly svg: string;
}

/** A server keeps its colour in every chart of every run (its place in SERVERS). */
export function serverColor(id: string): string {
  const i = SERVERS.findIndex((s) => s.id === id);
  return PALETTE[(i < 0 ? SERVERS.length : i) % PALETTE.length]!;
}

/** "p50 µs" with 54.5 → "p50 54.5 µs"; "msg/s" with 185378 → "185,378 msg/s". */
function figureNote(label: string, value: number, digits: number): string {
  const n = value.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
  const m = /^(p\S+) (.+)$/.exec(label);
  return m ? `${m[1]} ${n} ${m[2]}` : `${n} ${label}`;
}

/**
 * A run's latency curve: the report's latency_curve_us, or for a report from before it existed the
 * percentiles of latency_us (p50, p90, p99, p99.9), which lie on the same axis.
 */
export function runCurve(r: RunRecord): CurvePoint[] | null {
  const rep = r.report;
  if (!rep?.latency_us) return null;
  if (rep.latency_curve_us) return rep.latency_curve_us.map(([q, us]) => [q, us] as const);
  const l = rep.latency_us;
  return [[50, l.p50], [90, l.p90], [99, l.p99], [99.9, l.p999]];
}

/** Per percentile, the median over the runs that have it: a curve in the middle of the rounds'. */
export function medianCurve(curves: readonly (readonly CurvePoint[])[]): CurvePoint[] {
  const byQ = new Map<number, number[]>();
  for (const c of curves) for (const [q, v] of c) byQ.set(q, [...(byQ.get(q) ?? []), v]);
  return [...byQ.entries()].sort((a, b) => a[0] - b[0]).map(([q, vs]) => [q, median(vs)!] as const);
}

export function renderCharts(res: Results, prefix: string): Chart[] {
  const known = allScenarios(res.settings.idleConnections);
  // A chart travels without its report (into the README, a chat): it says itself that a quick run means little.
  const quick = res.settings.quick ? "Quick mode: proves the benchmark runs; the figures mean little." : undefined;
  const charts: Chart[] = [];
  for (const x of res.summary.scenarios) {
    const metric = METRICS[x.primary];
    const c = x.servers.find((s) => s.server === C_BASELINE);
    const cFigure = c?.figures[x.primary];
    charts.push({
      kind: "ratio",
      scenario: x.scenario,
      file: `${prefix}-ratio-${x.scenario}.svg`,
      alt: `${x.scenario}: ${metric.label} ÷ C baseline, per server`,
      svg: ratioChart({
        title: `${x.scenario}: ${x.title}`,
        metric: metric.label,
        higherIsBetter: x.higher_is_better,
        referenceLabel: "C baseline",
        note: quick,
        bars: x.servers.map((s) => {
          const reference = s.server === C_BASELINE;
          return {
            id: s.server,
            label: s.label,
            ratio: reference ? (s.ok_runs > 0 ? 1 : null) : s.ratio_to_c,
            rounds: reference ? [] : s.ratio_to_c_rounds,
            reference,
            note: reference && cFigure != null ? figureNote(metric.label, cFigure, metric.digits) : undefined,
            color: serverColor(s.server),
          };
        }),
      }),
    });

    const sc: Scenario | undefined = known.find((k) => k.id === x.scenario);
    const mode = sc?.mode ?? res.runs.find((r) => r.scenario === x.scenario && r.report)?.report?.mode;
    if (mode !== "pingpong") continue;
    const main = res.runs.filter((r) => r.group === "main" && r.scenario === x.scenario && r.ok && !r.superseded);
    const series: PercentileSeries[] = [];
    for (const s of x.servers) {
      const runs = main.filter((r) => r.server === s.server && runCurve(r) !== null);
      if (runs.length === 0) continue;
      series.push({
        id: s.server,
        label: s.label,
        points: medianCurve(runs.map((r) => runCurve(r)!)),
        count: median(runs.map((r) => r.report!.messages)) ?? 0,
        max: median(runs.map((r) => r.report!.latency_us!.max)),
        color: serverColor(s.server),
      });
    }
    const rounds = Math.max(0, ...series.map((s) => main.filter((r) => r.server === s.id).length));
    charts.push({
      kind: "latency",
      scenario: x.scenario,
      file: `${prefix}-latency-${x.scenario}.svg`,
      alt: `${x.scenario}: round-trip latency percentiles, per server`,
      svg: percentileChart({
        title: `${x.scenario}: round-trip latency by percentile, ${x.title}`,
        subtitle:
          (quick ? `${quick} ` : "") +
          (rounds > 1 ? `Each server's curve: per percentile, the median of its ${rounds} rounds. Lower is better.` : "One round per server. Lower is better."),
        yLabel: "round-trip latency (µs, log scale)",
        series,
        markers: true,
      }),
    });
  }
  return charts;
}
