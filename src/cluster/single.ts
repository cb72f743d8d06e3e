import type { Logger } from "../log/index.ts";
import { startServer } from "../server/index.ts";
import { readProcessMetrics, logStats, startStatsReporter, type MetricsSource } from "../ops/index.ts";
import pkg from "../../package.json" with { type: "json" };
import type { Service, ServiceOptions } from "./types.ts";
import { startGcBallast } from "./gc-ballast.ts";

/**
 * One process serving connections on its own, with its metrics endpoint and stats lines. The API,
 * the status page and their HTTP server are loaded only with --api or --metrics: an echo server
 * without them does not carry their code (each eden collection pays for what is loaded).
 */
export async function runSingle(opts: ServiceOptions, logger: Logger): Promise<Service> {
  startGcBallast(opts.gcBallast, logger);
  const handle = startServer({ ...opts, recentCloses: Boolean(opts.api || opts.metrics), logger });
  const cleanups: (() => void)[] = [];
  try {
    const metrics: MetricsSource = {
      view: async () => ({ stats: handle.stats(), processes: [readProcessMetrics()], workers: null }),
      accepting: handle.accepting,
    };
    if (opts.api || opts.metrics) {
      const [{ startApiServer }, { localSource, StatusHub }] = await Promise.all([import("../api/index.ts"), import("../status/index.ts")]);
      // One feed for both servers: one sampler, one five-minute history.
      const status = new StatusHub(localSource(handle)).start();
      cleanups.push(() => status.stop());
      const serve = (at: { host: string; port: number }, readOnly: boolean) =>
        startApiServer({ ...at, logger, control: handle.control, metrics, readOnly, token: opts.apiToken, version: pkg.version, status });
      if (opts.api) cleanups.push(serve(opts.api, false).stop);
      // --metrics: the read-only alias (its routes, and the API's GETs).
      if (opts.metrics) cleanups.push(serve(opts.metrics, true).stop);
    }
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
