// Medians of figures and of per-round ratios.
import { METRICS, type MetricKey, type Scenario } from "./scenarios.ts";
import type { RunRecord } from "./types.ts";

export function median(xs: readonly number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

const finite = (x: number | null | undefined): x is number => typeof x === "number" && Number.isFinite(x);

export function medianOf(records: readonly RunRecord[], get: (r: RunRecord) => number | null | undefined) {
  return median(records.map(get).filter(finite));
}

/** Per round, a/b on the metric (both runs valid); the median of those ratios, and all of them. */
export function pairedRatio(
  a: readonly RunRecord[],
  b: readonly RunRecord[],
  metric: MetricKey,
): { median: number | null; rounds: number[] } {
  const get = METRICS[metric].get;
  const rounds: number[] = [];
  for (const x of a) {
    const y = b.find((r) => r.round === x.round && r.ok);
    const vx = get(x);
    const vy = y ? get(y) : null;
    if (x.ok && finite(vx) && finite(vy) && vy !== 0) rounds.push(vx / vy);
  }
  return { median: median(rounds), rounds: rounds.map((r) => Math.round(r * 10000) / 10000) };
}

export interface ServerSummary {
  readonly server: string;
  readonly label: string;
  readonly runs: number;
  readonly ok_runs: number;
  readonly disturbed_runs: number;
  readonly figures: Partial<Record<MetricKey, number | null>>;
  readonly ratio_to_c: number | null;
  readonly ratio_to_c_rounds: number[];
  readonly ratio_to_bun: number | null;
  readonly server_cpu_pct: number | null;
  /** Server CPU per unit of work, and its per-round ratio to the C baseline. */
  readonly server_cpu_us: number | null;
  readonly server_cpu_us_ratio_to_c: number | null;
  readonly client_cpu_pct: number | null;
  readonly client_user_pct: number | null;
  readonly client_sys_pct: number | null;
  readonly core1_busy_pct: number | null;
}

export interface ScenarioSummary {
  readonly scenario: string;
  readonly title: string;
  readonly primary: MetricKey;
  readonly higher_is_better: boolean;
  readonly servers: ServerSummary[];
}

export function summarize(
  sc: Scenario,
  records: readonly RunRecord[],
  servers: readonly { id: string; label: string }[],
  refC: readonly RunRecord[],
  refBun: readonly RunRecord[],
): ServerSummary[] {
  return servers.map((s) => {
    const all = records.filter((r) => r.server === s.id);
    const ok = all.filter((r) => r.ok);
    const figures: Partial<Record<MetricKey, number | null>> = {};
    for (const m of sc.metrics) figures[m] = medianOf(ok, METRICS[m].get);
    const toC = pairedRatio(all, refC, sc.primary);
    return {
      server: s.id,
      label: s.label,
      runs: all.length,
      ok_runs: ok.length,
      disturbed_runs: all.filter((r) => r.disturbed).length,
      figures,
      ratio_to_c: toC.median,
      ratio_to_c_rounds: toC.rounds,
      ratio_to_bun: pairedRatio(all, refBun, sc.primary).median,
      server_cpu_pct: medianOf(ok, (r) => r.cpu?.server_pct),
      server_cpu_us: sc.unit ? medianOf(ok, METRICS.server_cpu_us.get) : null,
      server_cpu_us_ratio_to_c: sc.unit ? pairedRatio(all, refC, "server_cpu_us").median : null,
      client_cpu_pct: medianOf(ok, (r) => r.cpu?.client_pct),
      client_user_pct: medianOf(ok, (r) => r.cpu?.client_user_pct),
      client_sys_pct: medianOf(ok, (r) => r.cpu?.client_sys_pct),
      core1_busy_pct: medianOf(ok, (r) => r.cpu?.core1_busy_pct),
    };
  });
}
