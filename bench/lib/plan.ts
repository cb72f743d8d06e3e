// The order of a benchmark run: rounds of scenarios, each server right after the C baseline, then
// the option variants, the client comparison and the workers group (`--workers 2` vs 1, unpinned);
// executing one step; a line of progress per run.
import {
  CLIENT_CPU,
  newRunRecord,
  runClient,
  SERVER_CPU,
  settle,
  startServer,
  stopServer,
  type ClientRequest,
  type Context,
  type Placement,
} from "./measure.ts";
import { METRICS, scenarios as allScenarios, TIMEOUT_S, type Scenario } from "./scenarios.ts";
import { BARE_BUN, BARE_VARIANT, C_BASELINE, SERVERS, WORKERS_RUNS, workersVariant, type ServerSpec, type Variant } from "./servers.ts";
import type { RunRecord, TimeoutPrecision } from "./types.ts";
import { NODE_TLS, TLS_RUNS, tlsServeOptions, type TlsFiles } from "./tls-group.ts";

/** The timeouts group holds its connections this long: the timeout, the last ones' opening, a margin. */
const TIMEOUT_HOLD_S = TIMEOUT_S + 2.5;

export interface PlanSettings {
  readonly rounds: number;
  readonly duration: number;
  readonly warmup: number;
  readonly shortDuration: number;
  readonly shortWarmup: number;
  readonly idleHold: number;
  readonly idleConnections: number;
  /** The C baseline first. */
  readonly servers: readonly ServerSpec[];
  readonly scenarios: readonly Scenario[];
  /** The workers group's scenarios (empty: the group is not run). Its tcp-echo builds are those in `servers`. */
  readonly workersScenarios: readonly Scenario[];
  /** The TLS group's scenarios (empty: not run), its PKI, and Node's tls server (null: node is absent). */
  readonly tlsScenarios: readonly Scenario[];
  readonly tlsFiles: TlsFiles | null;
  readonly nodeTls: ServerSpec | null;
  /** The timeouts group's scenario (empty: not run): tcp-echo from source with --timeout TIMEOUT_S. */
  readonly timeoutScenarios: readonly Scenario[];
}

/** A planned measurement: one server process, one or more clients against it. */
export interface Step {
  readonly round: number;
  readonly server: ServerSpec;
  readonly scenario: Scenario;
  readonly options: Readonly<Record<string, string>>;
  readonly clients: ClientRequest[];
  readonly tag: string;
  readonly place: Placement;
}

/** xs started at position n (mod its length): each round begins with a different member. */
export function rotate<T>(xs: readonly T[], n: number): T[] {
  if (xs.length === 0) return [];
  const k = n % xs.length;
  return [...xs.slice(k), ...xs.slice(0, k)];
}

export function plan(cli: PlanSettings, variants: readonly Variant[], compare: boolean): Step[] {
  const steps: Step[] = [];
  const tcpEcho = SERVERS.find((s) => s.id === "tcp-echo")!;
  const byId = (id: string) => allScenarios(cli.idleConnections).find((s) => s.id === id)!;
  const pinned: Placement = { pinned: true, listeners: 1 };
  for (let round = 1; round <= cli.rounds; round++) {
    const req = (sc: Scenario, group: ClientRequest["group"], variant: string | null, short = false): ClientRequest => ({
      round,
      group,
      scenario: sc,
      variant,
      client: "loadgen",
      duration: short ? cli.shortDuration : cli.duration,
      warmup: short ? cli.shortWarmup : cli.warmup,
      idleHold: cli.idleHold,
      pinned: group !== "workers",
    });
    for (const sc of cli.scenarios) {
      const [c, ...others] = cli.servers;
      for (const server of [c!, ...rotate(others, round - 1)]) {
        steps.push({
          round,
          server,
          scenario: sc,
          options: {},
          clients: [req(sc, "main", null)],
          tag: `r${round}-${sc.id}-${server.id}`,
          place: pinned,
        });
      }
    }
    // TLS group, pinned: Node's tls server, tcp-echo over TLS and over plain TCP, in rotating order
    for (const sc of cli.tlsFiles ? cli.tlsScenarios : []) {
      for (const run of rotate(TLS_RUNS.filter((r) => r.server !== NODE_TLS || cli.nodeTls), round - 1)) {
        const server = run.server === NODE_TLS ? cli.nodeTls! : tcpEcho;
        steps.push({
          round,
          server,
          scenario: sc,
          options: run.tls && run.server !== NODE_TLS ? tlsServeOptions(cli.tlsFiles!) : {},
          clients: [{ ...req(sc, "tls", run.variant), client: "tcp-echo-bench", tls: run.tls }],
          tag: `r${round}-tls-${sc.id}-${server.id}-${run.variant}`,
          place: pinned,
        });
      }
    }
    // option variants: each group starts with a default run, the variants follow in rotating order
    for (const short of [false, true]) {
      const scIds = [...new Set(variants.filter((v) => !!v.short === short).flatMap((v) => v.scenarios))];
      for (const scId of scIds) {
        const sc = byId(scId);
        const members = variants.filter((v) => !!v.short === short && v.scenarios.includes(scId));
        const ref = short ? "default-short" : "default";
        const bare = SERVERS.find((x) => x.id === BARE_BUN)!;
        const all: { id: string; server: ServerSpec; options: Readonly<Record<string, string>> }[] = [
          { id: ref, server: tcpEcho, options: {} },
          ...rotate(members, round - 1).map((v) => ({ id: v.id, server: tcpEcho, options: v.options })),
          // Bare Bun in the same group, so that every option is also compared with it (last: right
          // after the variants, seconds from the default run).
          ...(short ? [] : [{ id: BARE_VARIANT, server: bare, options: {} }]),
        ];
        for (const v of all) {
          steps.push({
            round,
            server: v.server,
            scenario: sc,
            options: v.options,
            clients: [req(sc, "variant", v.id, short)],
            tag: `r${round}-variant-${sc.id}-${v.id}`,
            place: pinned,
          });
        }
      }
    }
    if (compare) {
      const sc = byId("pp100");
      for (const server of [SERVERS.find((s) => s.id === C_BASELINE)!, tcpEcho]) {
        const lg = req(sc, "compare", null);
        steps.push({
          round,
          server,
          scenario: sc,
          options: {},
          clients: [lg, { ...lg, client: "tcp-echo-bench" }],
          tag: `r${round}-compare-${server.id}`,
          place: pinned,
        });
      }
    }
    // timeouts group: tcp-echo from source, --timeout TIMEOUT_S, its lateness histogram read over --metrics
    for (const sc of cli.timeoutScenarios) {
      steps.push({
        round,
        server: tcpEcho,
        scenario: sc,
        options: { timeout: String(TIMEOUT_S) },
        clients: [{ ...req(sc, "timeouts", null), idleHold: TIMEOUT_HOLD_S }],
        tag: `r${round}-timeouts-${sc.id}`,
        place: pinned,
      });
    }
    // workers group, unpinned: the C baseline, then per tcp-echo build `--workers 1` and `--workers 2`
    // back to back (which of the two goes first alternates per round, the builds rotate)
    for (const sc of cli.workersScenarios) {
      const runs = WORKERS_RUNS.filter((w) => w.scenarios.includes(sc.id) && cli.servers.some((s) => s.id === w.server));
      const builds = rotate([...new Set(runs.filter((w) => w.workers !== null).map((w) => w.server))], round - 1);
      const ordered = [
        ...runs.filter((w) => w.workers === null),
        ...builds.flatMap((b) => {
          const pair = runs.filter((w) => w.server === b && w.workers !== null).sort((x, y) => x.workers! - y.workers!);
          return round % 2 === 1 ? pair : pair.reverse();
        }),
      ];
      for (const w of ordered) {
        const server = cli.servers.find((s) => s.id === w.server)!;
        const variant = workersVariant(w.workers);
        steps.push({
          round,
          server,
          scenario: sc,
          options: w.workers === null ? {} : { workers: String(w.workers) },
          clients: [req(sc, "workers", variant)],
          tag: `r${round}-workers-${sc.id}-${server.id}${variant ? `-${variant}` : ""}`,
          place: { pinned: false, listeners: w.workers ?? 1 },
        });
      }
    }
  }
  return steps;
}

function failedRecord(step: Step, req: ClientRequest, problem: string): RunRecord {
  const rec = newRunRecord(req, step.server.id, req.duration, req.warmup);
  rec.problems.push(problem);
  return rec;
}

/** A port nobody listens on now: bound by the kernel's choice, then released. */
function freePort(): number {
  const l = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = l.port;
  l.stop(true);
  return port;
}

/** The lateness histogram from tcp-echo's /metrics, as percentiles (interpolated within buckets). */
export function latenessFromMetrics(text: string): TimeoutPrecision | null {
  const name = "tcp_echo_idle_timeout_lateness_seconds";
  const buckets: [number, number][] = [];
  let sum: number | null = null;
  for (const line of text.split("\n")) {
    const b = new RegExp(`^${name}_bucket\\{le="([^"]+)"\\} (\\S+)$`).exec(line);
    if (b) buckets.push([b[1] === "+Inf" ? Infinity : Number(b[1]), Number(b[2])]);
    else if (line.startsWith(`${name}_sum `)) sum = Number(line.slice(name.length + 5));
  }
  const count = buckets.at(-1)?.[1] ?? 0;
  if (buckets.length === 0 || count === 0) return null;
  // As histogram_quantile: linear within the bucket that holds rank q * count.
  const quantile = (q: number): { value: number; bucket: number } => {
    const rank = q * count;
    let lower = 0;
    let below = 0;
    for (const [le, cum] of buckets) {
      if (cum >= rank) {
        if (le === Infinity) return { value: lower, bucket: Infinity };
        const inBucket = cum - below;
        return { value: lower + (le - lower) * (inBucket > 0 ? (rank - below) / inBucket : 1), bucket: le };
      }
      lower = le;
      below = cum;
    }
    return { value: lower, bucket: Infinity };
  };
  const ms = (x: number) => (Number.isFinite(x) ? Math.round(x * 1e6) / 1e3 : null);
  const p99 = quantile(0.99);
  return {
    count,
    p50_ms: ms(quantile(0.5).value),
    p99_ms: ms(p99.value),
    p99_bucket_ms: ms(p99.bucket),
    mean_ms: sum === null ? null : ms(sum / count),
    buckets,
  };
}

export async function execute(ctx: Context, step: Step): Promise<RunRecord[]> {
  let server;
  const timeouts = step.clients.some((c) => c.group === "timeouts");
  const metricsPort = timeouts ? freePort() : 0;
  const options = timeouts ? { ...step.options, metrics: `127.0.0.1:${metricsPort}` } : step.options;
  try {
    const place = timeouts ? { ...step.place, otherPort: metricsPort } : step.place;
    server = await startServer(ctx, step.server, step.scenario, options, step.tag, place);
  } catch (e) {
    return step.clients.map((req) => failedRecord(step, req, (e as Error).message));
  }
  const records: RunRecord[] = [];
  try {
    for (const req of step.clients) records.push(await runClient(ctx, server, req));
    if (timeouts) {
      const rec = records[0]!;
      try {
        const res = await fetch(`http://127.0.0.1:${metricsPort}/metrics`, { signal: AbortSignal.timeout(5000) });
        rec.timeouts = latenessFromMetrics(await res.text());
      } catch (e) {
        rec.problems.push(`reading /metrics failed: ${(e as Error).message}`);
      }
      if (!rec.timeouts) rec.problems.push("no idle-timeout lateness in /metrics");
      else if (rec.timeouts.count !== step.scenario.connections) {
        rec.problems.push(`${rec.timeouts.count} idle timeouts counted for ${step.scenario.connections} connections`);
      }
      rec.ok = rec.problems.length === 0;
    }
  } finally {
    settle(records, await stopServer(ctx, server));
  }
  return records;
}

export function progressLine(r: RunRecord, runs: readonly RunRecord[], sc: Scenario): string {
  const what =
    `${r.scenario} ${r.server}${r.variant ? ` [${r.variant}]` : ""}${r.pinned ? "" : " unpinned"}` +
    `${r.client === "tcp-echo-bench" ? " <- tcp-echo bench" : ""}${r.attempt > 1 ? ` (attempt ${r.attempt})` : ""}`;
  if (!r.ok) return `${what}: FAILED: ${r.problems.join("; ")}`;
  const m = METRICS[sc.primary];
  const v = m.get(r);
  // The pair it is compared with: main, the C baseline; variant, default tcp-echo; compare, the C load generator.
  const isReference =
    (r.group === "main" && r.server === C_BASELINE) ||
    (r.group === "variant" && r.variant?.startsWith("default") === true) ||
    (r.group === "compare" && r.client === "loadgen") ||
    (r.group === "tls" && r.server === NODE_TLS) ||
    r.group === "workers" ||
    r.group === "timeouts";
  const ref = isReference
    ? undefined
    : runs.findLast((x) => {
        if (x.round !== r.round || x.group !== r.group || x.scenario !== r.scenario || !x.ok || x.superseded) return false;
        if (r.group === "main") return x.server === C_BASELINE;
        if (r.group === "tls") return x.server === NODE_TLS;
        if (r.group === "variant") return x.variant?.startsWith("default") === true && x.duration_s === r.duration_s;
        return x.server === r.server && x.client === "loadgen";
      });
  const name = { main: "C", variant: "default", compare: "C loadgen", workers: "", tls: "Node tls", timeouts: "", side: "" }[r.group];
  const rv = ref ? m.get(ref) : null;
  let vs = v !== null && rv ? ` (${(v / rv).toFixed(2)}x ${name})` : "";
  if (r.group === "workers" && r.variant !== null) {
    // the pair's ratio, shown on whichever of the two ran second
    const partner = runs.findLast(
      (x) => x.round === r.round && x.group === "workers" && x.scenario === r.scenario && x.server === r.server &&
        x.variant !== null && x.variant !== r.variant && x.ok && !x.superseded,
    );
    const [w2, w1] = r.variant === "workers-2" ? [v, partner ? m.get(partner) : null] : [partner ? m.get(partner) : null, v];
    vs = w2 !== null && w1 ? ` (--workers 2 ÷ 1: ${(w2 / w1).toFixed(2)}x)` : "";
  }
  const procs = r.cpu?.server_processes && r.cpu.server_processes > 1 ? ` (${r.cpu.server_processes} processes)` : "";
  const cpu = r.cpu ? `  cpu server ${r.cpu.server_pct ?? "?"}%${procs} client ${r.cpu.client_pct ?? "?"}%` : "";
  const noisy = !r.disturbed
    ? ""
    : r.cpu?.pinned === false
      ? `  [disturbed: other work ${r.cpu.other_pct}% of CPUs ${SERVER_CPU}+${CLIENT_CPU}]`
      : `  [disturbed: other work ${r.cpu?.core0_other_pct}% of CPU ${SERVER_CPU}, ${r.cpu?.core1_other_pct}% of CPU ${CLIENT_CPU}]`;
  return `${what}: ${v === null ? "?" : v.toFixed(m.digits)} ${m.label}${vs}${cpu}${noisy}`;
}
