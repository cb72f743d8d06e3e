// Operating a running service: the Prometheus endpoint (with /healthz and /readyz), the process's
// own figures, and the periodic stats line.
export { renderMetrics, type MetricsSource, type MetricsView, type WorkerCounts } from "./metrics.ts";
export { readProcessMetrics, type ProcessMetrics } from "./process-metrics.ts";
export { logStats, startStatsReporter } from "./stats-reporter.ts";
