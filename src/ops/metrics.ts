import type { HttpCounters } from "../http/index.ts";

import type { ProcessMetrics } from "./process-metrics.ts";
import { CLOSE_REASONS, DURATION_BUCKETS, LATENESS_BUCKETS, type HistogramSnapshot, type ListenerCounts, type StatsSnapshot } from "../server/index.ts";

/** A supervisor's workers: how many should serve, how many do, which slots stayed down too long. */
export interface WorkerCounts {
  readonly desired: number;
  readonly serving: number;
  /** Slots with no listening worker for longer than the restart back-off can explain. */
  readonly down: readonly number[];
  /** Workers that have stopped answering (being killed and replaced). */
  readonly hung: readonly number[];
}

/** What /metrics shows: the counters (summed over workers) and the processes behind them. */
export interface MetricsView {
  readonly stats: StatsSnapshot;
  /** One entry per process serving connections (one, or one per worker). */
  readonly processes: readonly ProcessMetrics[];
  /** With --workers: the supervisor's view of its workers; null for a single process. */
  readonly workers: WorkerCounts | null;
  /** CPU seconds of serving processes not in `processes`: workers that have exited, and the last
   * figure of workers that did not answer in time. process_cpu_seconds_total is a counter: it must
   * not go back when a worker is replaced or stops answering. */
  readonly absentCpuSeconds?: number;
}

export interface MetricsSource {
  view(): Promise<MetricsView>;
  /** false while draining: /readyz answers 503 so a load balancer stops sending first. */
  accepting(): boolean;
  /** Worker slots that stayed down (a supervisor); /healthz answers 503 while there are any. */
  health?(): readonly number[];
}

type Sample = [labels: string, value: number];

/** A label value as the text format writes it: backslash, quote and newline escaped. */
const labelValue = (v: string) => v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");

function family(out: string[], name: string, type: "counter" | "gauge" | "histogram", help: string, samples: Sample[]): void {
  out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
  for (const [labels, value] of samples) out.push(`${name}${labels} ${Number.isFinite(value) ? value : 0}`);
}

function histogram(out: string[], name: string, help: string, bounds: readonly number[], h: HistogramSnapshot): void {
  out.push(`# HELP ${name} ${help}`, `# TYPE ${name} histogram`);
  let cumulative = 0;
  bounds.forEach((le, i) => {
    cumulative += h.counts[i] ?? 0;
    out.push(`${name}_bucket{le="${le}"} ${cumulative}`);
  });
  const count = cumulative + (h.counts[bounds.length] ?? 0);
  out.push(`${name}_bucket{le="+Inf"} ${count}`, `${name}_sum ${h.sum}`, `${name}_count ${count}`);
}

const sum = (list: readonly ProcessMetrics[], f: (p: ProcessMetrics) => number) => list.reduce((a, p) => a + f(p), 0);

/** The Prometheus text exposition format (version 0.0.4). Names are documented in the README. */
export function renderMetrics(v: MetricsView, accepting: boolean, http: Readonly<HttpCounters> | null = null): string {
  const s = v.stats;
  const out: string[] = [];
  // Per listener (label listener="name"); sum over the label for the process's total.
  const per = Object.entries(s.byListener).sort(([a], [b]) => a.localeCompare(b));
  const each = (f: (c: ListenerCounts) => number): Sample[] => per.map(([name, c]) => [`{listener="${labelValue(name)}"}`, f(c)]);
  family(out, "tcp_echo_connections_accepted_total", "counter", "Connections accepted (including those refused at once), by listener.", each((c) => c.accepted));
  family(out, "tcp_echo_connections_open", "gauge", "Connections open now, by listener.", each((c) => c.open));
  family(
    out,
    "tcp_echo_connections_closed_total",
    "counter",
    "Connections closed, by listener and reason.",
    per.flatMap(([name, c]) => CLOSE_REASONS.map((r): Sample => [`{listener="${labelValue(name)}",reason="${r}"}`, c.closed[r]])),
  );
  family(out, "tcp_echo_received_bytes_total", "counter", "Bytes received from peers, by listener.", each((c) => c.bytesIn));
  family(out, "tcp_echo_sent_bytes_total", "counter", "Bytes echoed to peers, by listener.", each((c) => c.bytesOut));
  family(
    out,
    "tcp_echo_proxy_protocol_headers_total",
    "counter",
    "PROXY protocol headers accepted, by listener, version and command.",
    per.flatMap(([name, c]) =>
      Object.entries(c.proxyHeaders).map(([key, n]): Sample => {
        const [version, command] = key.split(" ");
        return [`{listener="${labelValue(name)}",version="${version}",command="${command}"}`, n];
      }),
    ),
  );
  family(
    out,
    "tcp_echo_proxy_protocol_errors_total",
    "counter",
    "Connections refused for their PROXY protocol header, by listener and reason.",
    per.flatMap(([name, c]) => Object.entries(c.proxyErrors).map(([reason, n]): Sample => [`{listener="${labelValue(name)}",reason="${reason}"}`, n])),
  );
  family(
    out,
    "tcp_echo_tls_handshakes_total",
    "counter",
    "TLS handshakes, by listener, version (negotiated; for a failure the highest the client offered) and result (ok, failed, rejected: client certificate missing or not verified, timeout, aborted: the peer left).",
    per.flatMap(([name, c]) =>
      Object.entries(c.tlsHandshakes ?? {}).map(([key, n]): Sample => {
        const [version, result] = key.split(" ");
        return [`{listener="${labelValue(name)}",version="${version}",result="${result}"}`, n];
      }),
    ),
  );
  family(out, "tcp_echo_records_decoded_total", "counter", "Binary records decoded (--record).", [["", s.records]]);
  family(out, "tcp_echo_records_partial_total", "counter", "Connections that closed inside a record.", [["", s.partialRecords]]);
  family(out, "tcp_echo_backpressure_pauses_total", "counter", "Times reading paused because --max-buffer bytes waited.", [["", s.pauses]]);
  histogram(out, "tcp_echo_connection_duration_seconds", "How long closed connections lasted.", DURATION_BUCKETS, s.duration);
  histogram(out, "tcp_echo_idle_timeout_lateness_seconds", "How late each idle timeout acted after its deadline.", LATENESS_BUCKETS, s.timeoutLateness);
  family(out, "tcp_echo_echo_held_bytes", "gauge", "Bytes received and not yet echoed (held for slow readers).", [["", s.heldBytes]]);
  family(out, "tcp_echo_max_memory_bytes", "gauge", "The --max-memory budget for held bytes (summed over processes).", [["", s.memoryBudget]]);
  family(out, "tcp_echo_accept_paused", "gauge", "Processes not accepting now because they are out of file descriptors.", [["", s.acceptPaused]]);
  family(out, "tcp_echo_accept_pauses_total", "counter", "Times accepting paused for want of file descriptors.", [["", s.acceptPauses]]);
  family(out, "tcp_echo_accept_paused_seconds_total", "counter", "Time spent not accepting for want of file descriptors.", [["", s.acceptPausedSeconds]]);
  family(out, "tcp_echo_memory_budget_pauses_total", "counter", "Times a connection paused because --max-memory was reached.", [["", s.budgetPauses]]);
  family(out, "tcp_echo_ready", "gauge", "1 while accepting connections, 0 while draining.", [["", accepting ? 1 : 0]]);
  const w = v.workers ?? { desired: 1, serving: 1, down: [], hung: [] };
  family(out, "tcp_echo_worker_processes", "gauge", "Processes serving connections now.", [["", w.serving]]);
  family(out, "tcp_echo_worker_processes_desired", "gauge", "Processes that should be serving connections (--workers).", [["", w.desired]]);
  family(out, "tcp_echo_worker_processes_hung", "gauge", "Workers that stopped answering the supervisor (killed and replaced).", [["", w.hung.length]]);
  const p = v.processes;
  family(out, "process_cpu_seconds_total", "counter", "User and system CPU time of the serving processes, exited workers included.", [["", sum(p, (x) => x.cpuSeconds) + (v.absentCpuSeconds ?? 0)]]);
  family(out, "process_resident_memory_bytes", "gauge", "Resident memory of the serving processes.", [["", sum(p, (x) => x.residentBytes)]]);
  family(out, "process_virtual_memory_bytes", "gauge", "Virtual memory of the serving processes.", [["", sum(p, (x) => x.virtualBytes)]]);
  family(out, "process_open_fds", "gauge", "Open file descriptors of the serving processes.", [["", sum(p, (x) => x.openFds)]]);
  family(out, "process_max_fds", "gauge", "File descriptor limit of one serving process.", [["", p[0]?.maxFds ?? 0]]);
  family(out, "process_start_time_seconds", "gauge", "Start time of the oldest serving process, in Unix seconds.", [["", Math.min(...p.map((x) => x.startTimeSeconds))]]);
  if (http) {
    family(out, "tcp_echo_http_connections_open", "gauge", "Connections open on the metrics endpoint.", [["", http.connectionsOpen]]);
    family(out, "tcp_echo_http_connections_refused_total", "counter", "Connections to the metrics endpoint refused by its connection cap.", [["", http.connectionsRefused]]);
    family(out, "tcp_echo_http_timeouts_total", "counter", "Metrics-endpoint connections closed by a timeout, by phase.", (["header", "body", "idle", "send"] as const).map((k) => [`{phase="${k}"}`, http.timeouts[k]]));
  }
  return out.join("\n") + "\n";
}
