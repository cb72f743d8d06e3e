import type { Server } from "bun";
import type { Logger } from "../log/logger.ts";
import { CLOSE_REASONS } from "./config.ts";
import type { ProcessMetrics } from "./process-metrics.ts";
import { DURATION_BUCKETS, type StatsSnapshot } from "./stats.ts";

/** What /metrics shows: the counters (summed over workers) and the processes behind them. */
export interface MetricsView {
  readonly stats: StatsSnapshot;
  /** One entry per process serving connections (one, or one per worker). */
  readonly processes: readonly ProcessMetrics[];
}

export interface MetricsSource {
  view(): Promise<MetricsView>;
  /** false while draining: /readyz answers 503 so a load balancer stops sending first. */
  accepting(): boolean;
}

type Sample = [labels: string, value: number];

function family(out: string[], name: string, type: "counter" | "gauge" | "histogram", help: string, samples: Sample[]): void {
  out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
  for (const [labels, value] of samples) out.push(`${name}${labels} ${Number.isFinite(value) ? value : 0}`);
}

const sum = (list: readonly ProcessMetrics[], f: (p: ProcessMetrics) => number) => list.reduce((a, p) => a + f(p), 0);

/** The Prometheus text exposition format (version 0.0.4). Names are documented in the README. */
export function renderMetrics(v: MetricsView, accepting: boolean): string {
  const s = v.stats;
  const out: string[] = [];
  family(out, "tcp_echo_connections_accepted_total", "counter", "Connections accepted (including those refused at once).", [["", s.accepted]]);
  family(out, "tcp_echo_connections_open", "gauge", "Connections open now.", [["", s.open]]);
  family(out, "tcp_echo_connections_closed_total", "counter", "Connections closed, by reason.", CLOSE_REASONS.map((r) => [`{reason="${r}"}`, s.closed[r]]));
  family(out, "tcp_echo_received_bytes_total", "counter", "Bytes received from peers.", [["", s.bytesIn]]);
  family(out, "tcp_echo_sent_bytes_total", "counter", "Bytes echoed to peers.", [["", s.bytesOut]]);
  family(out, "tcp_echo_records_decoded_total", "counter", "Binary records decoded (--record).", [["", s.records]]);
  family(out, "tcp_echo_records_partial_total", "counter", "Connections that closed inside a record.", [["", s.partialRecords]]);
  family(out, "tcp_echo_backpressure_pauses_total", "counter", "Times reading paused because --max-buffer bytes waited.", [["", s.pauses]]);
  let cumulative = 0;
  const buckets: Sample[] = DURATION_BUCKETS.map((le, i) => {
    cumulative += s.durationBuckets[i] ?? 0;
    return [`_bucket{le="${le}"}`, cumulative];
  });
  const count = cumulative + (s.durationBuckets[DURATION_BUCKETS.length] ?? 0);
  buckets.push([`_bucket{le="+Inf"}`, count], ["_sum", s.durationSum], ["_count", count]);
  out.push("# HELP tcp_echo_connection_duration_seconds How long closed connections lasted.", "# TYPE tcp_echo_connection_duration_seconds histogram");
  for (const [suffix, value] of buckets) out.push(`tcp_echo_connection_duration_seconds${suffix} ${value}`);
  family(out, "tcp_echo_ready", "gauge", "1 while accepting connections, 0 while draining.", [["", accepting ? 1 : 0]]);
  family(out, "tcp_echo_worker_processes", "gauge", "Processes serving connections.", [["", v.processes.length]]);
  const p = v.processes;
  family(out, "process_cpu_seconds_total", "counter", "User and system CPU time of the serving processes.", [["", sum(p, (x) => x.cpuSeconds)]]);
  family(out, "process_resident_memory_bytes", "gauge", "Resident memory of the serving processes.", [["", sum(p, (x) => x.residentBytes)]]);
  family(out, "process_virtual_memory_bytes", "gauge", "Virtual memory of the serving processes.", [["", sum(p, (x) => x.virtualBytes)]]);
  family(out, "process_open_fds", "gauge", "Open file descriptors of the serving processes.", [["", sum(p, (x) => x.openFds)]]);
  family(out, "process_max_fds", "gauge", "File descriptor limit of one serving process.", [["", p[0]?.maxFds ?? 0]]);
  family(out, "process_start_time_seconds", "gauge", "Start time of the oldest serving process, in Unix seconds.", [["", Math.min(...p.map((x) => x.startTimeSeconds))]]);
  return out.join("\n") + "\n";
}

export interface MetricsServer {
  readonly port: number;
  stop(): void;
}

/** GET /metrics, /healthz (200 while running), /readyz (200 accepting, 503 draining); else 404. */
export function startMetricsServer(host: string, port: number, source: MetricsSource, log: Logger): MetricsServer {
  const server: Server<undefined> = Bun.serve({
    hostname: host,
    port,
    async fetch(req) {
      const path = new URL(req.url).pathname;
      if (req.method !== "GET" && req.method !== "HEAD") return new Response("method not allowed\n", { status: 405, headers: { allow: "GET, HEAD" } });
      switch (path) {
        case "/metrics":
          return new Response(renderMetrics(await source.view(), source.accepting()), {
            headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8" },
          });
        case "/healthz":
          return new Response("ok\n");
        case "/readyz":
          return source.accepting() ? new Response("ready\n") : new Response("draining\n", { status: 503 });
        default:
          return new Response("not found\n", { status: 404 });
      }
    },
  });
  const bound = server.port ?? port;
  log.info("metrics", `metrics on http://${host}:${bound}/metrics (also /healthz, /readyz)`, { address: host, port: bound });
  return { port: bound, stop: () => void server.stop(true) };
}
