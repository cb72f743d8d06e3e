// The side-by-side group: tcp-echo and bare Bun.listen on the same core at the same time, each
// driven by its own C load generator (both on the other core). This machine changes speed by up to
// 2x from one run to the next, seconds apart (pp100: 55,000-125,000 msg/s for the same server), so
// a ratio of two runs taken one after the other carries that drift; two servers sharing one core
// in the same seconds see the same machine, and the ratio of what each served is the ratio of
// their costs. Bare Bun beside bare Bun is run too: the method's own noise floor.
import { newRunRecord, runClient, settle, startServer, stopServer, type ClientRequest, type Context } from "./measure.ts";
import { rotate } from "./plan.ts";
import { METRICS, type MetricKey, type Scenario } from "./scenarios.ts";
import { BARE_BUN, SERVERS, type ServerSpec } from "./servers.ts";
import { median } from "./stats.ts";
import { disturbance, DISTURBED_PCT, type RunRecord } from "./types.ts";

/** `--scenarios side`. */
export const SIDE_GROUP = "side";
/** The scenarios the performance issue sets a ratio to bare Bun on. */
export const SIDE_SCENARIOS = ["pp100", "pp50x16k", "stream4", "connect16"] as const;
/** What `tcp-echo serve` loads with its defaults: its command, and the single-process service it imports on start. */
const SERVE_MODULES = ["src/cli/main.ts", "src/cli/commands/serve.ts", "src/cluster/single.ts"];
/**
 * Bare Bun's twenty-line echo in a process that has loaded tcp-echo's serve modules and uses none
 * of them. The runtime's collector pays, at every collection, for what a process holds, and a
 * streaming echo collects 100-250 times a second (one new ArrayBuffer per read): this contender
 * measures that price alone, so what tcp-echo loses beyond it is its own per-read work.
 */
export const LOADED_BUN: ServerSpec = {
  id: "bun-loaded",
  label: "bare Bun.listen, tcp-echo's serve modules loaded (bun-echo.ts --load)",
  tcpEcho: false,
  argv: (p) => [p.bun, `${p.root}/bench/baseline/bun-echo.ts`, "--host", "127.0.0.1", "--port", "0", ...SERVE_MODULES.flatMap((m) => ["--load", `${p.root}/${m}`])],
};
/**
 * tcp-echo from source without its GC ballast (`--gc-ballast 0`): what its features cost when the
 * runtime collects as often as it does for bare Bun, beside the default that holds one.
 */
export const NO_BALLAST: ServerSpec = {
  id: "tcp-echo-no-ballast",
  label: "tcp-echo --gc-ballast 0 (bun run src/index.ts)",
  tcpEcho: true,
  argv: (p, sc, o) => SERVERS.find((s) => s.id === "tcp-echo")!.argv(p, sc, { ...o, "gc-ballast": "0" }),
};
/**
 * tcp-echo from source with the logs a user gets without flags (`info`, pretty): two lines per
 * connection, so it runs where connections come and go (connect16), the scenario the performance
 * issue sets a ratio to bare Bun on with `info` logs. Its stderr goes to a file, as every server's.
 */
export const INFO_LOGS: ServerSpec = {
  id: "tcp-echo-info",
  label: "tcp-echo --log-level info --log-format pretty (bun run src/index.ts)",
  tcpEcho: true,
  argv: (p, sc, o) => SERVERS.find((s) => s.id === "tcp-echo")!.argv(p, sc, { ...o, "log-level": "info", "log-format": "pretty" }),
};
/** Contenders that run in some scenarios only. */
const ONLY_IN: Readonly<Record<string, readonly string[]>> = { [INFO_LOGS.id]: ["connect16"] };
/**
 * Who is measured beside bare Bun: bare Bun itself (the control), bare Bun with tcp-echo's modules
 * loaded, tcp-echo without its ballast and with `info` logs (all three when tcp-echo from source is
 * measured), tcp-echo from source, the executable.
 */
const CONTENDERS = [BARE_BUN, LOADED_BUN.id, NO_BALLAST.id, INFO_LOGS.id, "tcp-echo", "tcp-echo-exe"];
const withLoaded = (servers: readonly ServerSpec[]) => (servers.some((s) => s.id === "tcp-echo") ? [...servers, LOADED_BUN, NO_BALLAST, INFO_LOGS] : servers);
/** The record of the bare Bun beside a contender: variant `beside:<contender>`. */
const BESIDE = "beside:";

export interface SidePair {
  readonly round: number;
  readonly scenario: Scenario;
  readonly contender: ServerSpec;
  readonly partner: ServerSpec;
  /** Which of the two starts first (alternates by round). */
  readonly contenderFirst: boolean;
}

/** The group's pairs, round by round; empty when bare Bun is not among the servers. */
export function sidePairs(rounds: number, scenarios: readonly Scenario[], servers: readonly ServerSpec[]): SidePair[] {
  const partner = servers.find((s) => s.id === BARE_BUN);
  if (!partner) return [];
  const all = withLoaded(servers);
  const contenders = CONTENDERS.flatMap((id) => all.filter((s) => s.id === id));
  const out: SidePair[] = [];
  for (let round = 1; round <= rounds; round++)
    for (const scenario of scenarios)
      for (const contender of rotate(contenders, round - 1))
        if (ONLY_IN[contender.id]?.includes(scenario.id) ?? true) out.push({ round, scenario, contender, partner, contenderFirst: round % 2 === 1 });
  return out;
}

/**
 * Both servers pinned to the server core, both load generators to the client core, started
 * together. A run is disturbed when a core is busier than its two processes explain.
 */
export async function executePair(ctx: Context, pair: SidePair, timing: { duration: number; warmup: number }): Promise<RunRecord[]> {
  const { round, scenario: sc, contender, partner } = pair;
  const req = (variant: string): ClientRequest => ({ round, group: "side", scenario: sc, variant, client: "loadgen", duration: timing.duration, warmup: timing.warmup, idleHold: 0, pinned: true });
  const reqs = [req("contender"), req(`${BESIDE}${contender.id}`)];
  const specs = [contender, partner];
  const tag = (i: number) => `r${round}-side-${sc.id}-${contender.id}-${i === 0 ? "contender" : "partner"}`;
  const started: Awaited<ReturnType<typeof startServer>>[] = [];
  try {
    for (const i of pair.contenderFirst ? [0, 1] : [1, 0]) started[i] = await startServer(ctx, specs[i]!, sc, {}, tag(i));
  } catch (e) {
    for (const s of started) if (s) await stopServer(ctx, s);
    return reqs.map((r, i) => {
      const rec = newRunRecord(r, specs[i]!.id, timing.duration, timing.warmup);
      rec.problems.push((e as Error).message);
      return rec;
    });
  }
  const records = await Promise.all(started.map((s, i) => runClient(ctx, s, reqs[i]!)));
  for (let i = 0; i < 2; i++) settle([records[i]!], await stopServer(ctx, started[i]!));
  // Each core holds two of ours: the other server (or load generator) is not other work.
  const [a, b] = records as [RunRecord, RunRecord];
  for (const [r, o] of [[a, b], [b, a]] as const) {
    if (!r.cpu || !o.cpu) continue;
    const less = (x: number | null, y: number | null) => (x === null || y === null ? null : Math.round(Math.max(0, x - y) * 10) / 10);
    r.cpu = { ...r.cpu, core0_other_pct: less(r.cpu.core0_other_pct, o.cpu.server_pct), core1_other_pct: less(r.cpu.core1_other_pct, o.cpu.client_pct) };
    r.disturbed = disturbance(r) > DISTURBED_PCT;
  }
  return records;
}

/** One contender in one scenario, over the rounds. */
export interface SideSummary {
  readonly scenario: string;
  readonly contender: string;
  readonly label: string;
  readonly metric: MetricKey;
  /** Contender ÷ the bare Bun beside it, per round (rounds where both runs are valid). */
  readonly rounds: number[];
  readonly ratio: number | null;
  /** Server CPU per unit of work, contender ÷ bare Bun (lower is cheaper). */
  readonly cpu_ratio: number | null;
  /** Pingpong: p99 round-trip, contender ÷ bare Bun (lower is better). */
  readonly p99_ratio: number | null;
  readonly p99_rounds: number[];
  readonly disturbed_runs: number;
}

const r4 = (x: number) => Math.round(x * 10000) / 10000;

export function summarizeSide(runs: readonly RunRecord[], scenarios: readonly Scenario[], servers: readonly ServerSpec[]): SideSummary[] {
  const side = runs.filter((r) => r.group === "side");
  const out: SideSummary[] = [];
  for (const sc of scenarios) {
    for (const id of CONTENDERS) {
      const mine = side.filter((r) => r.scenario === sc.id && r.variant === "contender" && r.server === id);
      if (mine.length === 0) continue;
      const per = (metric: MetricKey) => {
        const rounds: number[] = [];
        for (const x of mine) {
          const y = side.find((r) => r.round === x.round && r.scenario === sc.id && r.variant === `${BESIDE}${id}`);
          const vx = METRICS[metric].get(x);
          const vy = y ? METRICS[metric].get(y) : null;
          if (x.ok && y?.ok && vx !== null && vy !== null && Number.isFinite(vx) && Number.isFinite(vy) && vy > 0) rounds.push(r4(vx / vy));
        }
        return rounds;
      };
      const rounds = per(sc.primary);
      const p99 = sc.mode === "pingpong" ? per("p99") : [];
      const pairs = side.filter((r) => r.scenario === sc.id && (r.variant === "contender" ? r.server === id : r.variant === `${BESIDE}${id}`));
      out.push({
        scenario: sc.id,
        contender: id,
        label: withLoaded(servers).find((s) => s.id === id)?.label ?? id,
        metric: sc.primary,
        rounds,
        ratio: median(rounds),
        cpu_ratio: median(per("server_cpu_us")),
        p99_ratio: median(p99),
        p99_rounds: p99,
        disturbed_runs: pairs.filter((r) => r.disturbed).length,
      });
    }
  }
  return out;
}

const fx = (x: number | null, d = 3) => (x === null ? "–" : `${x.toFixed(d)}×`);

/** The report's section (markdown lines). */
export function renderSide(rows: readonly SideSummary[], serverCpu: number, clientCpu: number): string[] {
  if (rows.length === 0) return [];
  const out = [
    "## Side by side with bare Bun.listen (same core, same seconds)",
    "",
    `Each contender and a bare \`Bun.listen\` echo run at the same time, both pinned to CPU ${serverCpu}, each driven by its own C load generator ` +
      `(both on CPU ${clientCpu}); the ratio is what the contender served ÷ what the bare Bun beside it served, per round, and the median over rounds. ` +
      "Both see the same machine in the same seconds, so the drift between runs that the sequential comparison above carries cancels out. " +
      "Bare Bun beside bare Bun is the method's own noise. Bare Bun with tcp-echo's serve modules loaded (and unused) is what holding that code alone costs: " +
      "the runtime's collector pays at every collection for what the process holds. tcp-echo with `--gc-ballast 0` is tcp-echo without the buffer that makes the collector run less often. " +
      "tcp-echo with `--log-level info --log-format pretty` (what it logs without flags: two lines per connection, to a file) runs in connect16 only. " +
      "Server CPU per unit: the contender's ÷ its neighbour's (lower is cheaper).",
    "",
    "| scenario | contender | ratio (median) | per round | server CPU per unit | p99 ratio (lower is better) | disturbed runs |",
    "| --- | --- | ---: | --- | ---: | ---: | ---: |",
  ];
  for (const r of rows) {
    out.push(
      `| ${r.scenario} (${METRICS[r.metric].label}) | ${r.label} | ${fx(r.ratio)} | ${r.rounds.map((x) => x.toFixed(3)).join(", ") || "–"} | ${fx(r.cpu_ratio)} | ${fx(r.p99_ratio)} | ${r.disturbed_runs} |`,
    );
  }
  out.push("");
  return out;
}

/** A progress line: the contender's figure and its ratio to the bare Bun beside it. */
export function sideLine(r: RunRecord, partner: RunRecord | undefined, sc: Scenario): string {
  const m = METRICS[sc.primary];
  const who = r.variant === "contender" ? r.server : `bun beside ${r.variant?.slice(BESIDE.length)}`;
  if (!r.ok) return `${sc.id} side ${who}: FAILED: ${r.problems.join("; ")}`;
  const v = m.get(r);
  const pv = partner?.ok ? m.get(partner) : null;
  const vs = r.variant === "contender" && v !== null && pv ? ` (${(v / pv).toFixed(3)}x the bare Bun beside it)` : "";
  const noisy = r.disturbed ? `  [disturbed: other work ${r.cpu?.core0_other_pct}% / ${r.cpu?.core1_other_pct}%]` : "";
  return `${sc.id} side ${who}: ${v === null ? "?" : v.toFixed(m.digits)} ${m.label}${vs}  cpu server ${r.cpu?.server_pct ?? "?"}%${noisy}`;
}
