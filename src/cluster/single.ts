import { createLogger } from "../log/logger.ts";
import { startServer } from "../server/index.ts";
import { startMetricsServer } from "../server/metrics.ts";
import { readProcessMetrics } from "../server/process-metrics.ts";
import { startStatsReporter } from "../server/stats-reporter.ts";
import type { FromWorker, Service, ServiceOptions, ToWorker } from "./types.ts";

/**
 * One process serving connections: on its own (with metrics and stats lines), or as worker N of
 * a supervisor (which does metrics and stats for all; this answers its IPC questions).
 */
export function runSingle(opts: ServiceOptions): Service {
  const worker = opts.workerId;
  const logger = createLogger({ ...opts.log, ...(worker !== null ? { base: { worker } } : {}) });
  const handle = startServer({ ...opts, logger });
  const cleanups: (() => void)[] = [];
  if (worker !== null && process.send) {
    const send = process.send.bind(process);
    const onMessage = (m: ToWorker) => {
      if (m?.type === "stats") send({ type: "stats", id: m.id, stats: handle.stats(), process: readProcessMetrics() } satisfies FromWorker);
    };
    // A supervisor that went away (even by SIGKILL) must not leave its workers behind.
    const onDisconnect = () => void handle.stop();
    process.on("message", onMessage);
    process.on("disconnect", onDisconnect);
    cleanups.push(() => {
      process.off("message", onMessage);
      process.off("disconnect", onDisconnect);
    });
    send({ type: "listening", port: handle.address.port } satisfies FromWorker);
  } else {
    if (opts.metrics) {
      const m = startMetricsServer(opts.metrics.host, opts.metrics.port, {
        view: async () => ({ stats: handle.stats(), processes: [readProcessMetrics()] }),
        accepting: handle.accepting,
      }, logger);
      cleanups.push(m.stop);
    }
    if (opts.statsInterval > 0) cleanups.push(startStatsReporter(opts.statsInterval, handle.stats, logger));
  }
  return {
    stop: handle.stop,
    // Metrics keep answering (readyz 503) until the drain has finished.
    done: handle.stopped.then(() => {
      for (const c of cleanups) c();
      return 0;
    }),
  };
}
