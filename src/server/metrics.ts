import type { Server } from "bun";
import type { Logger } from "../log/logger.ts";
import { errorText } from "../log/error-text.ts";
import { CLOSE_REASONS } from "./config.ts";
import type { ProcessMetrics } from "./process-metrics.ts";
import { DURATION_BUCKETS, LATENESS_BUCKETS, type HistogramSnapshot, type StatsSnapshot } from "./stats.ts";

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
  return out.join("\n") + "\n";
}

export interface MetricsServer {
  readonly port: number;
  stop(): void;
}

const TEXT = { "content-type": "text/plain; charset=utf-8" };
const reply = (status: number, text: string, headers: Record<string, string> = {}) => new Response(`${text}\n`, { status, headers: { ...TEXT, ...headers } });

/** The path of a request target, without parsing it as a URL: an origin-form target ("/metrics?x")
 * is all this server answers (RFC 9112 section 3.2.1); anything else is not ours. */
function pathOf(req: Request): string | null {
  // Bun's req.url is absolute ("http://host/path"); a malformed Host makes it unparseable, so the
  // path is cut out by hand rather than with new URL(), which would throw.
  const m = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*(\/[^?#]*)?/i.exec(req.url);
  if (!m) return null;
  return m[1] ?? "/";
}

/** uri-host [":" port] (RFC 3986 section 3.2.2): a reg-name, an IPv4 address or a bracketed IPv6 one. */
function validHost(host: string | null): boolean {
  return host !== null && /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._~!$&'()*+,;=%-]*)(?::\d{0,5})?$/.test(host);
}

/**
 * GET /metrics, /healthz (200 while running; 503 when a worker slot stays down), /readyz (200
 * accepting, 503 draining or no worker serving); else 404. Bun.serve runs in production mode with
 * our own error handler whatever NODE_ENV says: its development page would show source code.
 */
export function startMetricsServer(host: string, port: number, source: MetricsSource, log: Logger): MetricsServer {
  const server: Server<undefined> = Bun.serve({
    hostname: host,
    port,
    development: false,
    async fetch(req) {
      // RFC 9112 section 3.2: a Host with an invalid value gets 400.
      if (!validHost(req.headers.get("host"))) return reply(400, "bad Host header");
      if (req.method !== "GET" && req.method !== "HEAD") return reply(405, "method not allowed", { allow: "GET, HEAD" });
      switch (pathOf(req)) {
        case "/metrics":
          return new Response(renderMetrics(await source.view(), source.accepting()), {
            headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8" },
          });
        case "/healthz": {
          const down = source.health?.() ?? [];
          return down.length === 0 ? reply(200, "ok") : reply(503, `worker slots down: ${down.join(", ")}`);
        }
        case "/readyz":
          return source.accepting() ? reply(200, "ready") : reply(503, "not ready");
        case null:
          return reply(400, "bad request target");
        default:
          return reply(404, "not found");
      }
    },
    error(e) {
      // One line, whatever went wrong; never the stack, never the development page.
      if (log.warnOn) log.warn("metrics-error", `metrics request failed: ${errorText(e)}`, { error: errorText(e) });
      return reply(500, "internal error");
    },
  });
  const bound = server.port ?? port;
  log.info("metrics", `metrics on http://${host}:${bound}/metrics (also /healthz, /readyz)`, { address: host, port: bound });
  return { port: bound, stop: () => void server.stop(true) };
}

