import type { Logger } from "../log/index.ts";
import { startServer } from "../server/index.ts";
import { readProcessMetrics, logStats, startStatsReporter, type MetricsSource } from "../ops/index.ts";
import { startApiServer } from "../api/index.ts";
import { localSource, StatusHub } from "../status/index.ts";
import pkg from "../../package.json" with { type: "json" };
import type { Service, ServiceOptions } from "./types.ts";

/** One process serving connections on its own, with its metrics endpoint and stats lines. */
export function runSingle(opts: ServiceOptions, logger: Logger): Service {
  const handle = startServer({ ...opts, recentCloses: Boolean(opts.api || opts.metrics), logger });
  const cleanups: (() => void)[] = [];
  try {
    const metrics: MetricsSource = {
      view: async () => ({ stats: handle.stats(), processes: [readProcessMetrics()], workers: null }),
      accepting: handle.accepting,
    };
    // One feed for both servers: one sampler, one five-minute history.
    const status = opts.api || opts.metrics ? new StatusHub(localSource(handle)).start() : null;
    if (status) cleanups.push(() => status.stop());
    const serve = (at: { host: string; port: number }, readOnly: boolean) =>
      startApiServer({ ...at, logger, control: handle.control, metrics, readOnly, token: opts.apiToken, version: pkg.version, status });
    if (opts.api) cleanups.push(serve(opts.api, false).stop);
    // --metrics: the read-only alias (its routes, and the API's GETs).
    if (opts.metrics) cleanups.push(serve(opts.metrics, true).stop);
  } catch (e) {
    for (const c of cleanups) c();
    // The metrics port could not be bound: nothing may stay open behind the error.
    void handle.stop();
    throw e;
  }
  if (opts.statsInterval > 0) cleanups.push(startStatsReporter(opts.statsInterval, handle.stats, logger));
  return {
    stop: handle.stop,
    reload: () => {
      if (!handle.tls) return logger.info("reload", "SIGHUP: nothing to reload (settings are fixed at start)");
      logger.info("reload", "SIGHUP: re-reading TLS certificate files (other settings are fixed at start)");
      handle.reload();
    },
    report: async () => logStats(logger, handle.stats(), null, 0),
    // Metrics keep answering (readyz 503) until the drain has finished.
    done: handle.stopped.then(() => {
      for (const c of cleanups) c();
      return 0;
    }),
  };
}
