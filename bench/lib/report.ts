// The results: summaries per scenario, variant, client comparison and the workers group, rendered as
// markdown and JSON.
import { METRICS, metricLabel, type MetricKey, type Scenario } from "./scenarios.ts";
import { BARE_BUN, BARE_VARIANT, C_BASELINE, WORKERS_RUNS, workersVariant, type ServerSpec, type Variant } from "./servers.ts";
import { renderTls, summarizeTls, tlsScenarios, type TlsSummary } from "./tls-group.ts";
import { renderSide, type SideSummary } from "./side-by-side.ts";
import { median, medianOf, pairedRatio, summarize, type ScenarioSummary } from "./stats.ts";
import type { RunRecord } from "./types.ts";

export interface Machine {
  readonly cpus: number;
  readonly model: string;
  readonly kernel: string;
  readonly bun: string;
  readonly node: string | null;
  readonly cc: string;
  readonly loadavg_at_start: number[];
}

export interface Settings {
  readonly quick: boolean;
  readonly rounds: number;
  readonly duration: number;
  readonly warmup: number;
  readonly idleConnections: number;
  readonly idleHold: number;
  readonly shortDuration: number;
  readonly shortWarmup: number;
  readonly nice: number;
  readonly retries: number;
  readonly serverCpu: number;
  readonly clientCpu: number;
  /** Scenarios of the workers group (`--workers 2` vs 1, unpinned); empty when it did not run. */
  readonly workersScenarios: readonly string[];
}

export interface VariantSummary {
  readonly variant: string;
  readonly label: string;
  readonly scenario: string;
  readonly reference: string;
  readonly metric: MetricKey;
  readonly duration_s: number;
  readonly figure: number | null;
  readonly reference_figure: number | null;
  readonly ratio_to_default: number | null;
  readonly ratio_rounds: number[];
  /** ÷ bare Bun.listen run in the same variant group (null for short runs, which have none). */
  readonly ratio_to_bare: number | null;
  readonly bare_figure: number | null;
  readonly server_cpu_pct: number | null;
  readonly reference_server_cpu_pct: number | null;
  readonly stderr_bytes_per_run: number | null;
  readonly ok_runs: number;
  readonly runs: number;
}

export interface CompareSummary {
  readonly target: string;
  readonly client: string;
  readonly msgs_per_s: number | null;
  readonly p50: number | null;
  readonly p99: number | null;
  readonly client_cpu_pct: number | null;
  readonly server_cpu_pct: number | null;
  readonly ratio_to_loadgen: number | null;
  readonly ok_runs: number;
  readonly runs: number;
}

/** One line of the workers group: a server (and `--workers` value) in one scenario, unpinned. */
export interface WorkersSummary {
  readonly scenario: string;
  readonly title: string;
  readonly server: string;
  readonly label: string;
  /** `--workers` value; null for the C baseline. */
  readonly workers: number | null;
  /** Server processes whose CPU was summed (median): 1, or a supervisor + N workers. */
  readonly processes: number | null;
  readonly msgs_per_s: number | null;
  readonly p50: number | null;
  readonly p99: number | null;
  /**
   * `--workers N` ÷ `--workers 1` of the same build, per round: the median over the rounds where
   * neither run was disturbed (over all rounds if there is no such round), and every round's.
   */
  readonly ratio_to_workers_1: number | null;
  readonly ratio_rounds: { round: number; ratio: number; disturbed: boolean }[];
  /** ÷ the unpinned C baseline of the same round. */
  readonly ratio_to_c: number | null;
  /** % of one core (200 % = both cores of a 2-CPU machine). */
  readonly server_cpu_pct: number | null;
  /** Per server process (supervisor first, then the workers), median over the rounds. */
  readonly server_process_pcts: (number | null)[];
  readonly server_cpu_us: number | null;
  readonly client_cpu_pct: number | null;
  /** Both cores' busy time (% of one core) and what of it was neither server nor load generator. */
  readonly cores_busy_pct: number | null;
  readonly other_pct: number | null;
  readonly ok_runs: number;
  readonly runs: number;
  readonly disturbed_runs: number;
}

/** The timeouts group: how late tcp-echo's idle timeouts acted, many connections at once. */
export interface TimeoutSummary {
  readonly scenario: string;
  readonly title: string;
  readonly server: string;
  readonly label: string;
  readonly connections: number;
  /** Medians over the rounds, ms. */
  readonly p50_ms: number | null;
  readonly p99_ms: number | null;
  readonly p99_bucket_ms: number | null;
  readonly mean_ms: number | null;
  /** Every round's p99, ms. */
  readonly p99_rounds: number[];
  readonly ok_runs: number;
  readonly runs: number;
}

export interface Results {
  readonly date: string;
  readonly command: string;
  readonly elapsed_s: number;
  readonly machine: Machine;
  readonly settings: Settings;
  readonly notes: string[];
  readonly failures: string[];
  readonly summary: {
    readonly scenarios: ScenarioSummary[];
    readonly variants: VariantSummary[];
    readonly compare: CompareSummary[];
    readonly workers: WorkersSummary[];
    /** The TLS group; empty when it did not run. */
    readonly tls: TlsSummary[];
    /** Absent from results written before the timeouts group existed. */
    readonly timeouts?: TimeoutSummary[];
    /** The side-by-side group (side-by-side.ts); absent from results written before it existed. */
    readonly side?: SideSummary[];
  };
  readonly runs: RunRecord[];
}

function summarizeWorkers(
  runs: readonly RunRecord[],
  scenarios: readonly Scenario[],
  servers: readonly ServerSpec[],
): WorkersSummary[] {
  const wr = runs.filter((r) => r.group === "workers");
  const out: WorkersSummary[] = [];
  for (const sc of scenarios) {
    const here = wr.filter((r) => r.scenario === sc.id);
    const refC = here.filter((r) => r.server === C_BASELINE);
    for (const w of WORKERS_RUNS) {
      const variant = workersVariant(w.workers);
      const mine = here.filter((r) => r.server === w.server && r.variant === variant);
      if (mine.length === 0) continue;
      const ok = mine.filter((r) => r.ok);
      const one = here.filter((r) => r.server === w.server && r.variant === workersVariant(1));
      // Other work on the CPUs is not neutral here: three processes take a larger share of it than two,
      // which favours --workers 2; a disturbed pair is shown but kept out of the median when clean pairs exist.
      const pairs: WorkersSummary["ratio_rounds"] = [];
      if (w.workers !== null && w.workers !== 1) {
        for (const x of mine.filter((r) => r.ok)) {
          const y = one.find((r) => r.round === x.round && r.ok);
          const vx = x.report?.msgs_per_s;
          const vy = y?.report?.msgs_per_s;
          if (y && vx && vy) {
            pairs.push({ round: x.round, ratio: Math.round((vx / vy) * 10000) / 10000, disturbed: x.disturbed || y.disturbed });
          }
        }
      }
      const clean = pairs.filter((p) => !p.disturbed);
      const toOne = median((clean.length ? clean : pairs).map((p) => p.ratio));
      const spec = servers.find((s) => s.id === w.server);
      out.push({
        scenario: sc.id,
        title: sc.title,
        server: w.server,
        label: spec?.label ?? w.server,
        workers: w.workers,
        processes: medianOf(ok, (r) => r.cpu?.server_processes),
        msgs_per_s: medianOf(ok, METRICS.msgs_per_s.get),
        p50: medianOf(ok, METRICS.p50.get),
        p99: medianOf(ok, METRICS.p99.get),
        ratio_to_workers_1: toOne,
        ratio_rounds: pairs,
        ratio_to_c: w.server === C_BASELINE ? null : pairedRatio(mine, refC, "msgs_per_s").median,
        server_cpu_pct: medianOf(ok, (r) => r.cpu?.server_pct),
        server_process_pcts: Array.from(
          { length: Math.max(0, ...ok.map((r) => r.cpu?.server_process_pcts.length ?? 0)) },
          (_, i) => medianOf(ok, (r) => r.cpu?.server_process_pcts[i]),
        ),
        server_cpu_us: medianOf(ok, METRICS.server_cpu_us.get),
        client_cpu_pct: medianOf(ok, (r) => r.cpu?.client_pct),
        cores_busy_pct: medianOf(ok, (r) =>
          r.cpu?.core0_busy_pct != null && r.cpu.core1_busy_pct != null ? r.cpu.core0_busy_pct + r.cpu.core1_busy_pct : null,
        ),
        other_pct: medianOf(ok, (r) => r.cpu?.other_pct),
        ok_runs: ok.length,
        runs: mine.length,
        disturbed_runs: mine.filter((r) => r.disturbed).length,
      });
    }
  }
  return out;
}

export function summarizeAll(
  runs: readonly RunRecord[],
  scenarios: readonly Scenario[],
  servers: readonly ServerSpec[],
  variants: readonly Variant[],
  workersScenarios: readonly Scenario[] = [],
  tlsScenarios: readonly Scenario[] = [],
  tlsServers: readonly ServerSpec[] = [],
  timeoutScenarios: readonly Scenario[] = [],
): Results["summary"] {
  const main = runs.filter((r) => r.group === "main");
  const scenarioSummaries = scenarios.map((sc) => {
    const recs = main.filter((r) => r.scenario === sc.id);
    return {
      scenario: sc.id,
      title: sc.title,
      primary: sc.primary,
      higher_is_better: METRICS[sc.primary].higherIsBetter,
      servers: summarize(
        sc,
        recs,
        servers,
        recs.filter((r) => r.server === C_BASELINE),
        recs.filter((r) => r.server === BARE_BUN),
      ),
    };
  });

  const vr = runs.filter((r) => r.group === "variant");
  const variantSummaries: VariantSummary[] = [];
  // The defaults themselves first (one line per scenario, compared with bare Bun), then the options.
  const defaults: Variant[] = [...new Set(variants.filter((v) => !v.short).flatMap((v) => v.scenarios))].map((scId) => ({
    id: "default",
    label: "defaults (--log-level warn --log-format json)",
    options: {},
    scenarios: [scId],
  }));
  for (const v of [...defaults, ...variants]) {
    for (const scId of v.scenarios) {
      const sc = scenarios.find((s) => s.id === scId);
      const mine = vr.filter((r) => r.variant === v.id && r.scenario === scId);
      if (!sc || mine.length === 0) continue;
      const refId = v.short ? "default-short" : "default";
      const ref = vr.filter((r) => r.variant === refId && r.scenario === scId);
      const bare = vr.filter((r) => r.variant === BARE_VARIANT && r.scenario === scId);
      const get = METRICS[sc.primary].get;
      const ok = mine.filter((r) => r.ok);
      const ratio = pairedRatio(mine, ref, sc.primary);
      variantSummaries.push({
        variant: v.id,
        label: v.label,
        scenario: scId,
        reference: refId,
        metric: sc.primary,
        duration_s: mine[0]!.duration_s,
        figure: medianOf(ok, get),
        reference_figure: medianOf(ref.filter((r) => r.ok), get),
        ratio_to_default: ratio.median,
        ratio_rounds: ratio.rounds,
        ratio_to_bare: bare.length ? pairedRatio(mine, bare, sc.primary).median : null,
        bare_figure: bare.length ? medianOf(bare.filter((r) => r.ok), get) : null,
        server_cpu_pct: medianOf(ok, (r) => r.cpu?.server_pct),
        reference_server_cpu_pct: medianOf(ref.filter((r) => r.ok), (r) => r.cpu?.server_pct),
        stderr_bytes_per_run: medianOf(ok, (r) => r.server_stderr_bytes),
        ok_runs: ok.length,
        runs: mine.length,
      });
    }
  }

  const cr = runs.filter((r) => r.group === "compare");
  const compare: CompareSummary[] = [];
  for (const target of [...new Set(cr.map((r) => r.server))]) {
    const lg = cr.filter((r) => r.server === target && r.client === "loadgen");
    for (const client of ["loadgen", "tcp-echo-bench"] as const) {
      const mine = cr.filter((r) => r.server === target && r.client === client);
      const ok = mine.filter((r) => r.ok);
      if (mine.length === 0) continue;
      compare.push({
        target,
        client,
        msgs_per_s: medianOf(ok, METRICS.msgs_per_s.get),
        p50: medianOf(ok, METRICS.p50.get),
        p99: medianOf(ok, METRICS.p99.get),
        client_cpu_pct: medianOf(ok, (r) => r.cpu?.client_pct),
        server_cpu_pct: medianOf(ok, (r) => r.cpu?.server_pct),
        ratio_to_loadgen: pairedRatio(mine, lg, "msgs_per_s").median,
        ok_runs: ok.length,
        runs: mine.length,
      });
    }
  }
  const timeouts: TimeoutSummary[] = [];
  for (const sc of timeoutScenarios) {
    const mine = runs.filter((r) => r.group === "timeouts" && r.scenario === sc.id);
    for (const id of [...new Set(mine.map((r) => r.server))]) {
      const these = mine.filter((r) => r.server === id);
      const ok = these.filter((r) => r.ok);
      timeouts.push({
        scenario: sc.id,
        title: sc.title,
        server: id,
        label: servers.find((x) => x.id === id)?.label ?? id,
        connections: sc.connections,
        p50_ms: medianOf(ok, (r) => r.timeouts?.p50_ms),
        p99_ms: medianOf(ok, (r) => r.timeouts?.p99_ms),
        p99_bucket_ms: medianOf(ok, (r) => r.timeouts?.p99_bucket_ms),
        mean_ms: medianOf(ok, (r) => r.timeouts?.mean_ms),
        p99_rounds: ok.flatMap((r) => (r.timeouts?.p99_ms == null ? [] : [r.timeouts.p99_ms])),
        ok_runs: ok.length,
        runs: these.length,
      });
    }
  }
  return {
    scenarios: scenarioSummaries,
    variants: variantSummaries,
    compare,
    workers: summarizeWorkers(runs, workersScenarios, servers),
    tls: summarizeTls(runs, tlsScenarios, tlsServers),
    timeouts,
  };
}

// ---------------------------------------------------------------------------------------------
// markdown

/** Load generator CPU (% of its core) from which it counts as the limit. */
const LOADGEN_SATURATED = 90;

function num(x: number | null | undefined, digits: number): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return "–";
  return x.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
}
const ratio = (x: number | null) => (x === null ? "–" : `${num(x, 2)}×`);
const pct = (x: number | null) => (x === null ? "–" : `${num(x, 0)} %`);

function table(head: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(" | ")} |`;
  const align = head.map((_, i) => (i === 0 ? "---" : "---:"));
  return [line(head), line(align), ...rows.map(line)].join("\n");
}

function label(servers: readonly ServerSpec[], id: string): string {
  return servers.find((s) => s.id === id)?.label ?? id;
}

/** A chart the report links (written next to it by chart-files.ts). */
export interface ChartLink {
  readonly scenario: string;
  readonly file: string;
  readonly alt: string;
}

export function renderMarkdown(
  res: Results,
  servers: readonly ServerSpec[],
  scenarios: readonly Scenario[],
  charts: readonly ChartLink[] = [],
): string {
  const s = res.settings;
  const m = res.machine;
  const out: string[] = [];
  out.push(`# tcp-echo benchmark${s.quick ? " (quick mode: proves the benchmark runs; the figures mean little)" : ""}`);
  out.push("");
  out.push(`- Date: ${res.date} (took ${Math.round(res.elapsed_s)} s)`);
  out.push(`- Command: \`${res.command}\``);
  out.push(
    `- Machine: ${m.cpus} CPUs (${m.model}), Linux ${m.kernel}, Bun ${m.bun}, Node ${m.node ?? "absent"}, ${m.cc}; ` +
      `load average at start ${m.loadavg_at_start.map((x) => x.toFixed(2)).join(" ")}`,
  );
  const scs = res.summary.scenarios;
  const pinnedRuns = scs.length > 0 || res.summary.variants.length > 0 || res.summary.compare.length > 0 || (res.summary.tls ?? []).length > 0;
  if (!pinnedRuns) {
    out.push(
      `- Workers group only: nothing pinned${s.nice ? `, servers and load generator at nice ${s.nice}` : ""}. ${s.rounds} round(s); ` +
        `each run ${s.warmup} s warm-up + ${s.duration} s measured; a run disturbed by other work on the CPUs is repeated up ` +
        `to ${s.retries} time(s).`,
    );
  } else {
    out.push(
      `- Servers pinned to CPU ${s.serverCpu} (\`taskset -c ${s.serverCpu}\`), load generator to CPU ${s.clientCpu} ` +
        `(\`taskset -c ${s.clientCpu}\`)` +
        `${s.workersScenarios.length ? " (the workers group excepted: nothing pinned there)" : ""}` +
        `${s.nice ? `, both at nice ${s.nice}` : ""}. ${s.rounds} round(s); each run ${s.warmup} s warm-up + ${s.duration} s measured` +
        ` (idle: ${s.idleConnections.toLocaleString("en-US")} connections held ${s.idleHold} s); a run disturbed by other` +
        ` work on its cores is repeated up to ${s.retries} time(s).`,
    );
  }
  if (scs.length > 0) {
    out.push(
      "- Each round runs every scenario against the C baseline first and then every other server, back to back " +
        "(a fresh server process per run, seconds apart; the order of the others rotates per round). " +
        "A ratio is taken within a round (server ÷ C baseline on the scenario's main figure) and the table shows the median " +
        "of those ratios; figures are medians over the rounds. For throughput a ratio above 1 is better; for latency and " +
        "memory it is worse.",
    );
  }
  if (charts.length > 0) {
    out.push(
      "- Charts (SVG, next to this file) under each scenario: the ratio to the C baseline per server, with every round's " +
        "ratio and their spread; for the pingpong scenarios the round-trip latency by percentile.",
    );
  }
  out.push("");

  if (scs.length > 0) {
    // summary
    out.push("## Summary: ratio to the C baseline (main figure of each scenario)");
    out.push("");
    out.push(
      table(
        ["server", ...scs.map((x) => `${x.scenario} (${METRICS[x.primary].label})`)],
        servers.map((sv) => [
          sv.label,
          ...scs.map((x) => {
            const row = x.servers.find((r) => r.server === sv.id);
            return sv.id === C_BASELINE ? num(row?.figures[x.primary] ?? null, METRICS[x.primary].digits) : ratio(row?.ratio_to_c ?? null);
          }),
        ]),
      ),
    );
    out.push("");
    out.push("(The C baseline's row shows its own figure.)");
    out.push("");

    for (const x of scs) {
      const sc = scenarios.find((y) => y.id === x.scenario)!;
      out.push(`## ${x.title}`);
      out.push("");
      const c = x.servers.find((r) => r.server === C_BASELINE);
      if (c?.client_cpu_pct != null && c.client_cpu_pct >= LOADGEN_SATURATED) {
        out.push(
          `> The load generator's core was saturated (${pct(c.client_cpu_pct)} CPU) while driving the C baseline: here the ` +
            `load generator sets the pace, so throughput ratios near 1 only say "at least as fast as the load generator"; ` +
            `server CPU per ${sc.unit ?? "unit"} is the comparison that counts.`,
        );
        out.push("");
      }
      const main = METRICS[x.primary].label;
      const head = [
        "server",
        ...sc.metrics.map((k) => metricLabel(sc, k)),
        `${main} ÷ C`,
        `${main} ÷ bare Bun`,
        ...(sc.unit ? ["server CPU", metricLabel(sc, "server_cpu_us"), "÷ C", "loadgen CPU"] : []),
        "ok runs",
      ];
      const rows = x.servers.map((r) => [
        r.label,
        ...sc.metrics.map((k) => num(r.figures[k] ?? null, METRICS[k].digits)),
        ratio(r.ratio_to_c),
        ratio(r.ratio_to_bun),
        ...(sc.unit
          ? [pct(r.server_cpu_pct), num(r.server_cpu_us, 2), ratio(r.server_cpu_us_ratio_to_c), pct(r.client_cpu_pct)]
          : []),
        `${r.ok_runs}/${r.runs}${r.disturbed_runs ? ` (${r.disturbed_runs} disturbed)` : ""}`,
      ]);
      out.push(table(head, rows));
      out.push("");
      const mine = charts.filter((ch) => ch.scenario === x.scenario);
      if (mine.length > 0) {
        out.push(mine.map((ch) => `![${ch.alt}](${ch.file})`).join("\n\n"));
        out.push("");
      }
    }

    // the load generator is not the bottleneck
    out.push("## Is the load generator the bottleneck?");
    out.push("");
    out.push(
      "CPU use is sampled from `/proc` inside each run's measured phase (user + system time of the process, % of one core). " +
        "The load generator is one thread: near 100 % it is the limit (on loopback its system time includes the kernel's " +
        "receive path for what it sends). Where the C baseline's figure is ahead of every other server's, the load generator " +
        "drives more than any server under test needs.",
    );
    out.push("");
    const bottleneckRows: string[][] = [];
    for (const x of scs) {
      if (x.scenario === "idle") continue;
      const c = x.servers.find((r) => r.server === C_BASELINE);
      const others = x.servers.filter((r) => r.server !== C_BASELINE && r.figures[x.primary] != null);
      const digits = METRICS[x.primary].digits;
      const cFig = c?.figures[x.primary] ?? null;
      const better = (a: number, b: number) => (x.higher_is_better ? a > b : a < b);
      const best = others.reduce<(typeof others)[number] | null>(
        (acc, r) => (acc === null || better(r.figures[x.primary]!, acc.figures[x.primary]!) ? r : acc),
        null,
      );
      const bestFig = best?.figures[x.primary] ?? null;
      const lgBusy = c?.client_cpu_pct != null && c.client_cpu_pct >= LOADGEN_SATURATED;
      const srvBusy = c?.server_cpu_pct != null && c.server_cpu_pct >= LOADGEN_SATURATED;
      bottleneckRows.push([
        `${x.scenario} (${METRICS[x.primary].label})`,
        num(cFig, digits),
        best ? `${num(bestFig, digits)} (${best.server})` : "–",
        cFig !== null && bestFig !== null ? (better(cFig, bestFig) ? "yes" : "**no**") : "–",
        `${pct(c?.client_cpu_pct ?? null)} (${pct(c?.client_user_pct ?? null)} user)`,
        pct(c?.server_cpu_pct ?? null),
        lgBusy ? (srvBusy ? "both" : "**load generator**") : srvBusy ? "server" : "neither (latency-bound)",
      ]);
    }
    out.push(
      table(
        ["scenario", "C baseline", "best other server", "C ahead", "loadgen CPU vs C", "C server CPU", "limit"],
        bottleneckRows,
      ),
    );
    out.push("");
  }

  // variants and the client comparison (not in a run of the workers group alone)
  if (pinnedRuns) {
    out.push("## Cost of tcp-echo's options");
    out.push("");
    if (res.summary.variants.length === 0) {
      out.push("Not measured in this run (`--variants`).");
    } else {
      out.push(
        "tcp-echo from source (`bun run src/index.ts serve`) with one option changed from the benchmark defaults " +
          "(`--log-level warn --log-format json`, `--quickack auto`), each run paired with a default run in the same round " +
          "and with a run of bare Bun.listen (`bun-echo.ts`) right after them; ratio = variant ÷ default and variant ÷ bare " +
          "Bun (medians of per-round ratios; for memory a ratio above 1 is worse). Logs go to a file.",
      );
      out.push("");
      out.push(
        table(
          ["option", "scenario", "figure", "default", "÷ default", "bare Bun", "÷ bare Bun", "server CPU (default)", "log bytes/run", "ok runs"],
          res.summary.variants.map((v) => [
            v.variant === "default" ? v.label : `\`${v.label}\``,
            `${v.scenario}${v.reference === "default-short" ? ` (${v.duration_s} s runs)` : ""}`,
            `${num(v.figure, METRICS[v.metric].digits)} ${METRICS[v.metric].label}`,
            num(v.reference_figure, METRICS[v.metric].digits),
            ratio(v.ratio_to_default),
            num(v.bare_figure, METRICS[v.metric].digits),
            ratio(v.ratio_to_bare),
            `${pct(v.server_cpu_pct)} (${pct(v.reference_server_cpu_pct)})`,
            num(v.stderr_bytes_per_run, 0),
            `${v.ok_runs}/${v.runs}`,
          ]),
        ),
      );
    }
    out.push("");

    // tcp-echo bench vs loadgen
    out.push("## `tcp-echo bench` compared with the C load generator");
    out.push("");
    if (res.summary.compare.length === 0) {
      out.push("Not measured in this run (see notes).");
    } else {
      out.push(
        `pingpong, 100 connections, 64 B; both clients pinned to CPU ${s.clientCpu}, against the same server process one after the ` +
          "other; ratio = `tcp-echo bench` ÷ C load generator within a round.",
      );
      out.push("");
      out.push(
        table(
          ["server", "client", "msg/s", "p50 µs", "p99 µs", "client CPU", "server CPU", "ratio", "ok runs"],
          res.summary.compare.map((c) => [
            label(servers, c.target),
            c.client === "loadgen" ? "C loadgen" : "`tcp-echo bench`",
            num(c.msgs_per_s, 0),
            num(c.p50, 1),
            num(c.p99, 1),
            pct(c.client_cpu_pct),
            pct(c.server_cpu_pct),
            c.client === "loadgen" ? "1.00×" : ratio(c.ratio_to_loadgen),
            `${c.ok_runs}/${c.runs}`,
          ]),
        ),
      );
    }
    out.push("");
  }

  const timeouts = res.summary.timeouts ?? [];
  if (timeouts.length > 0) {
    out.push("## Idle timeout precision");
    out.push("");
    out.push(
      `tcp-echo from source, pinned like the others, with \`--timeout\` as below and \`--metrics\`: the load generator opens ` +
        "the connections (one 64 B exchange each) and leaves them idle; the server closes each at its deadline. How late it " +
        "acted is read from its `tcp_echo_idle_timeout_lateness_seconds` histogram at the end of the run (percentiles " +
        "interpolated within buckets, as Prometheus' `histogram_quantile`; the bucket bound is what the histogram can promise). " +
        "Medians over the rounds.",
    );
    out.push("");
    out.push(
      table(
        ["scenario", "server", "timed out", "p50 ms", "p99 ms", "p99 bucket ≤ ms", "mean ms", "p99 per round", "ok runs"],
        timeouts.map((t) => [
          t.title,
          t.label,
          t.connections.toLocaleString("en-US"),
          num(t.p50_ms, 1),
          num(t.p99_ms, 1),
          num(t.p99_bucket_ms, 0),
          num(t.mean_ms, 1),
          t.p99_rounds.map((x) => x.toFixed(1)).join(", "),
          `${t.ok_runs}/${t.runs}`,
        ]),
      ),
    );
    out.push("");
  }

  if (res.summary.workers.length > 0) out.push(...renderWorkers(res, s));
  if ((res.summary.tls ?? []).length > 0) out.push(...renderTls(res.summary.tls, tlsScenarios(), s.clientCpu));
  out.push(...renderSide(res.summary.side ?? [], s.serverCpu, s.clientCpu));

  out.push("## Notes");
  out.push("");
  for (const n of res.notes) out.push(`- ${n}`);
  if (res.failures.length === 0) out.push("- Every run completed with zero errors and zero mismatches.");
  else {
    out.push(`- **${res.failures.length} failure(s):**`);
    for (const f of res.failures) out.push(`  - ${f}`);
  }
  out.push("");
  return out.join("\n");
}

/** The workers group: tcp-echo `--workers 2` against `--workers 1`, nothing pinned. */
function renderWorkers(res: Results, s: Settings): string[] {
  const out: string[] = [];
  const ws = res.summary.workers;
  const cpus = res.machine.cpus;
  out.push(`## Workers: tcp-echo --workers 2 vs 1 (${cpus} cores, unpinned)`);
  out.push("");
  out.push(
    "Nothing pinned: the server's processes and the load generator run wherever the scheduler puts them, as a user " +
      "would run `tcp-echo serve --workers N` (`--workers 1`: one process; `--workers 2`: a supervisor holding the port " +
      "and two workers, each with its own `SO_REUSEPORT` listener, so the kernel spreads the connections over them). " +
      "Within a round `--workers 1` and `--workers 2` of the same build run back to back (which goes first alternates " +
      "per round); ratio = `--workers 2` ÷ `--workers 1` per round, median over the rounds (every round's in the last " +
      "column). The C baseline (one process, unpinned too) is a reference line; ÷ C is taken within a round. " +
      `Server CPU is user + system time summed over all the server's processes (in brackets: supervisor + each worker), ` +
      `load generator CPU likewise, in % of one ` +
      `core (${cpus * 100} % = all ${cpus} cores); "other" is the rest of the cores' busy time (kernel work not charged ` +
      `to a process, anything else running). ${s.rounds} round(s) of ${s.warmup} s warm-up + ${s.duration} s measured.`,
  );
  out.push("");
  const who = (w: WorkersSummary) => (w.workers === null ? `${w.label}` : `${w.label} \`--workers ${w.workers}\``);
  out.push(
    table(
      [
        "scenario",
        "server",
        "processes",
        "msg/s",
        "p50 µs",
        "p99 µs",
        "÷ --workers 1",
        "÷ C",
        "server CPU",
        "loadgen CPU",
        "other",
        "server CPU µs/msg",
        "ok runs",
        "per-round ratios",
      ],
      ws.map((w) => [
        w.scenario,
        who(w),
        num(w.processes, 0),
        num(w.msgs_per_s, 0),
        num(w.p50, 1),
        num(w.p99, 1),
        w.workers === 1 ? "1.00×" : w.workers === null ? "" : ratio(w.ratio_to_workers_1),
        w.workers === null ? "1.00×" : ratio(w.ratio_to_c),
        `${pct(w.server_cpu_pct)}${w.server_process_pcts.length > 1 ? ` (${w.server_process_pcts.map((x) => num(x, 0)).join(" + ")})` : ""}`,
        pct(w.client_cpu_pct),
        pct(w.other_pct),
        num(w.server_cpu_us, 2),
        `${w.ok_runs}/${w.runs}${w.disturbed_runs ? ` (${w.disturbed_runs} disturbed)` : ""}`,
        w.ratio_rounds.map((x) => `${x.ratio.toFixed(2)}${x.disturbed ? "*" : ""}`).join(", "),
      ]),
    ),
  );
  out.push("");
  const disturbedPairs = ws.some((w) => w.ratio_rounds.some((x) => x.disturbed));
  if (disturbedPairs) {
    out.push(
      "\\* a run of that round's pair was disturbed (other work on the CPUs). Other work is not neutral here (three " +
        "processes take a larger share of a busy machine than two, which favours `--workers 2`), so such rounds are left " +
        "out of the median ratio where undisturbed rounds exist.",
    );
    out.push("");
  }
  // The note, with this run's figures: how the cores were shared.
  const find = (n: number, sc: string) => ws.find((w) => w.server === "tcp-echo" && w.workers === n && w.scenario === sc) ??
    ws.find((w) => w.server !== C_BASELINE && w.workers === n && w.scenario === sc);
  const sc = ws.find((w) => w.workers === 2)?.scenario;
  const one = sc ? find(1, sc) : undefined;
  const two = sc ? find(2, sc) : undefined;
  let shared = "";
  if (one && two && two.ratio_to_workers_1 !== null) {
    const r = two.ratio_to_workers_1;
    const busy = (w: WorkersSummary) => (w.cores_busy_pct === null ? "–" : `${num(w.cores_busy_pct, 0)} %`);
    const verdict = r > 1.02 ? "a gain, but a bounded one" : r < 0.98 ? "a loss" : "no difference";
    const split = two.server_process_pcts.length > 1 ? ` (${two.server_process_pcts.map((x) => pct(x)).join(" + ")})` : "";
    shared =
      ` In ${sc} (${two.label}): with \`--workers 1\` the server took ${pct(one.server_cpu_pct)} and the load generator ` +
      `${pct(one.client_cpu_pct)}; with \`--workers 2\` the server's processes took ${pct(two.server_cpu_pct)} together${split} ` +
      `and the load generator ${pct(two.client_cpu_pct)} (the cores were busy ${busy(one)}, then ${busy(two)} of ${cpus * 100} %: ` +
      `with \`--workers 2\` some time went idle, presumably waiting on wake-ups), server CPU per message ` +
      `went from ${num(one.server_cpu_us, 2)} to ` +
      `${num(two.server_cpu_us, 2)} µs (with the connections split, each worker presumably handles fewer messages per ` +
      `wake-up), and messages/s came out at ${ratio(r)}: ${verdict}.`;
  }
  out.push(
    `On a ${cpus}-core machine the load generator competes for the same cores as the server. It is one thread and, in ` +
      "this closed-loop test, it sets the pace: it needs about a core to drive one fast server process, so whatever the " +
      `number of workers the server's processes get at most the rest${cpus === 2 ? " (about one core)" : ""}. A second ` +
      "worker adds no core: it makes three busy processes share two, at the load generator's expense, and each worker " +
      "waits its turn on a core (presumably what lengthens the tail latency). The gain is therefore bounded here, whatever `--workers` " +
      `does with cores to spare (clients on other machines, or more cores than busy processes).${shared}`,
  );
  out.push("");
  return out;
}
