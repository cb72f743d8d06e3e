// What is measured: the scenarios (one load generator invocation each) and the figures read from a run.
import type { BenchMode, LoadgenJson } from "../../src/bench/index.ts";
import type { RunRecord } from "./types.ts";

export type Mode = BenchMode;

export interface Metric {
  readonly label: string;
  readonly digits: number;
  /** true for throughput; false for latency and memory (a ratio above 1 is then worse). */
  readonly higherIsBetter: boolean;
  readonly get: (r: RunRecord) => number | null;
}

const lat = (k: "p50" | "p90" | "p99" | "p999" | "max") => (r: RunRecord) => r.report?.latency_us?.[k] ?? null;

/** The main throughput figure of a run (messages, MB or connections per second). */
function throughput(r: RunRecord): number | null {
  const rep = r.report;
  if (!rep) return null;
  if (rep.mode === "stream") return rep.mb_per_s;
  if (rep.mode === "connect") return rep.conns_per_s;
  if (rep.mode === "pingpong") return rep.msgs_per_s;
  return null;
}

export const METRICS = {
  msgs_per_s: { label: "msg/s", digits: 0, higherIsBetter: true, get: (r) => r.report?.msgs_per_s ?? null },
  mb_per_s: { label: "MB/s", digits: 1, higherIsBetter: true, get: (r) => r.report?.mb_per_s ?? null },
  conns_per_s: { label: "conn/s", digits: 0, higherIsBetter: true, get: (r) => r.report?.conns_per_s ?? null },
  p50: { label: "p50 µs", digits: 1, higherIsBetter: false, get: lat("p50") },
  p99: { label: "p99 µs", digits: 1, higherIsBetter: false, get: lat("p99") },
  p999: { label: "p99.9 µs", digits: 1, higherIsBetter: false, get: lat("p999") },
  /** Server CPU time per unit of work (message, MB, connection): what counts when the client is the limit. */
  server_cpu_us: {
    label: "server CPU µs/unit",
    digits: 2,
    higherIsBetter: false,
    get: (r) => {
      const f = throughput(r);
      const c = r.cpu?.server_pct;
      return f && c !== null && c !== undefined ? (c / 100 / f) * 1e6 : null;
    },
  },
  kib_per_conn: { label: "KiB/conn", digits: 2, higherIsBetter: false, get: (r) => r.idle?.kib_per_conn ?? null },
  /** Idle-timeout lateness (the timeouts group): p99 of how late the server acted, from its histogram. */
  lateness_p99_ms: { label: "p99 late ms", digits: 1, higherIsBetter: false, get: (r) => r.timeouts?.p99_ms ?? null },
  rss_before_mib: {
    label: "RSS before MiB",
    digits: 1,
    higherIsBetter: false,
    get: (r) => (r.idle ? r.idle.rss_before_kib / 1024 : null),
  },
  rss_held_mib: {
    label: "RSS held MiB",
    digits: 1,
    higherIsBetter: false,
    get: (r) => (r.idle ? r.idle.rss_held_kib / 1024 : null),
  },
} as const satisfies Record<string, Metric>;

export type MetricKey = keyof typeof METRICS;

export interface Scenario {
  readonly id: string;
  readonly title: string;
  readonly mode: Mode;
  readonly connections: number;
  readonly size: number;
  /** The figure the ratios are computed on. */
  readonly primary: MetricKey;
  readonly metrics: readonly MetricKey[];
  /** Unit of work for server CPU per unit (absent: not measured, e.g. idle). */
  readonly unit?: "msg" | "MB" | "conn";
  /** Idle connections the server is meant to close (its idle timeout): all of them must be gone at the end. */
  readonly closes?: boolean;
}

export function metricLabel(sc: Scenario, k: MetricKey): string {
  return k === "server_cpu_us" ? `server CPU µs/${sc.unit ?? "unit"}` : METRICS[k].label;
}

export function scenarios(idleConnections: number): Scenario[] {
  return [
    {
      id: "pp1",
      title: "pingpong, 1 connection, 64 B (latency)",
      mode: "pingpong",
      connections: 1,
      size: 64,
      primary: "p50",
      metrics: ["p50", "p99", "p999", "msgs_per_s"],
      unit: "msg",
    },
    {
      id: "pp100",
      title: "pingpong, 100 connections, 64 B (messages/s)",
      mode: "pingpong",
      connections: 100,
      size: 64,
      primary: "msgs_per_s",
      metrics: ["msgs_per_s", "p50", "p99", "p999"],
      unit: "msg",
    },
    {
      id: "pp50x16k",
      title: "pingpong, 50 connections, 16 KiB",
      mode: "pingpong",
      connections: 50,
      size: 16384,
      primary: "msgs_per_s",
      metrics: ["msgs_per_s", "mb_per_s", "p50", "p99"],
      unit: "msg",
    },
    {
      id: "stream4",
      title: "stream, 4 connections, 64 KiB writes (MB/s)",
      mode: "stream",
      connections: 4,
      size: 65536,
      primary: "mb_per_s",
      metrics: ["mb_per_s"],
      unit: "MB",
    },
    {
      id: "connect16",
      title: "connect, 16 concurrent (connect, 64 B exchange, close; conn/s)",
      mode: "connect",
      connections: 16,
      size: 64,
      primary: "conns_per_s",
      metrics: ["conns_per_s", "p50", "p99"],
      unit: "conn",
    },
    {
      id: "idle",
      title: `idle, ${idleConnections.toLocaleString("en-US")} connections (server memory per connection)`,
      mode: "idle",
      connections: idleConnections,
      size: 64,
      primary: "kib_per_conn",
      metrics: ["kib_per_conn", "rss_before_mib", "rss_held_mib"],
    },
  ];
}

/** `--scenarios timeouts`: how precisely tcp-echo times out many idle connections at once. */
export const TIMEOUTS_GROUP = "timeouts";
/** The idle timeout of that group (issue 10 holds its p99 lateness to 30 ms at 10,000 connections). */
export const TIMEOUT_S = 2;

export function timeoutScenario(connections: number): Scenario {
  return {
    id: "idle-timeout",
    title: `idle timeout precision, ${connections.toLocaleString("en-US")} connections, --timeout ${TIMEOUT_S}`,
    mode: "idle",
    connections,
    size: 64,
    primary: "lateness_p99_ms",
    metrics: ["lateness_p99_ms"],
    closes: true,
  };
}

/** `--scenarios workers`: tcp-echo `--workers 2` against `--workers 1`, nothing pinned. */
export const WORKERS_GROUP = "workers";

/** The workers group's scenarios: pp100 as in the main group, and 400 connections for more concurrency. */
export function workersScenarios(): Scenario[] {
  const pp100 = scenarios(0).find((s) => s.id === "pp100")!;
  return [
    pp100,
    {
      id: "pp400",
      title: "pingpong, 400 connections, 64 B (messages/s)",
      mode: "pingpong",
      connections: 400,
      size: 64,
      primary: "msgs_per_s",
      metrics: ["msgs_per_s", "p50", "p99", "p999"],
      unit: "msg",
    },
  ];
}

/**
 * The load generator's JSON report (bench/loadgen/loadgen.c header), also `tcp-echo bench --json`:
 * the schema src/bench defines, except that a run stopped during warm-up has no duration.
 */
export type LoadReport = Omit<LoadgenJson, "duration_s"> & { duration_s: number | null };

const KEYS = [
  "mode", "connections", "size", "duration_s", "messages", "msgs_per_s", "mb_per_s",
  "conns_per_s", "latency_us", "errors", "mismatches", "open_at_end", "latency_curve_us",
];

/** Parses the one JSON line a client printed; returns the report and every problem found with it. */
export function checkReport(stdout: string, sc: Scenario): { report: LoadReport | null; problems: string[] } {
  const lines = stdout.split("\n").filter((l) => l.trim() !== "");
  const last = lines.at(-1);
  if (last === undefined) return { report: null, problems: ["no JSON report on stdout"] };
  let r: LoadReport;
  try {
    r = JSON.parse(last) as LoadReport;
  } catch {
    return { report: null, problems: [`report is not JSON: ${last.slice(0, 200)}`] };
  }
  const problems: string[] = [];
  const missing = KEYS.filter((k) => !(k in r));
  if (missing.length) problems.push(`report lacks ${missing.join(", ")}`);
  if (r.mode !== sc.mode || r.connections !== sc.connections || r.size !== sc.size) {
    problems.push(`report is for ${r.mode} ${r.connections}x${r.size}, not ${sc.mode} ${sc.connections}x${sc.size}`);
  }
  if (r.errors !== 0) problems.push(`${r.errors} connection errors`);
  if (r.mismatches !== 0) problems.push(`${r.mismatches} MISMATCHES (echoed bytes differ)`);
  if (!(r.messages > 0)) problems.push("no messages");
  if (sc.mode === "idle" && !sc.closes && r.open_at_end !== sc.connections) {
    problems.push(`${sc.connections - (r.open_at_end ?? 0)} of ${sc.connections} idle connections closed by the server`);
  }
  if (sc.closes && r.open_at_end !== 0) {
    problems.push(`${r.open_at_end ?? "?"} of ${sc.connections} idle connections still open: the server's idle timeout missed them`);
  }
  return { report: r, problems };
}
