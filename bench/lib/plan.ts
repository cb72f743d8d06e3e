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
import { METRICS, scenarios as allScenarios, type Scenario } from "./scenarios.ts";
import { C_BASELINE, SERVERS, WORKERS_RUNS, workersVariant, type ServerSpec, type Variant } from "./servers.ts";
import type { RunRecord } from "./types.ts";
import { NODE_TLS, TLS_RUNS, tlsServeOptions, type TlsFiles } from "./tls-group.ts";

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

function rotate<T>(xs: readonly T[], n: number): T[] {
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
        const all: { id: string; options: Readonly<Record<string, string>> }[] = [
          { id: ref, options: {} },
          ...rotate(members, round - 1),
        ];
        for (const v of all) {
          steps.push({
            round,
            server: tcpEcho,
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

export async function execute(ctx: Context, step: Step): Promise<RunRecord[]> {
  let server;
  try {
    server = await startServer(ctx, step.server, step.scenario, step.options, step.tag, step.place);
  } catch (e) {
    return step.clients.map((req) => failedRecord(step, req, (e as Error).message));
  }
  const records: RunRecord[] = [];
  try {
    for (const req of step.clients) records.push(await runClient(ctx, server, req));
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
    r.group === "workers";
  const ref = isReference
    ? undefined
    : runs.findLast((x) => {
        if (x.round !== r.round || x.group !== r.group || x.scenario !== r.scenario || !x.ok || x.superseded) return false;
        if (r.group === "main") return x.server === C_BASELINE;
        if (r.group === "tls") return x.server === NODE_TLS;
        if (r.group === "variant") return x.variant?.startsWith("default") === true && x.duration_s === r.duration_s;
        return x.server === r.server && x.client === "loadgen";
      });
  const name = { main: "C", variant: "default", compare: "C loadgen", workers: "", tls: "Node tls" }[r.group];
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
