import { createLogger, type Logger } from "../log/index.ts";
import { startServer } from "../server/index.ts";
import { readProcessMetrics } from "../ops/index.ts";
import { fromWire, type FromWorker, type ToWorker } from "./ipc.ts";
import type { Service } from "./types.ts";
import { startGcBallast } from "./gc-ballast.ts";

/** A worker that has no settings this long after its start was not started by a supervisor. */
const START_WAIT_MS = 10_000;

/**
 * Worker N of a supervisor: waits for its settings and identity over IPC, serves, answers the
 * supervisor's questions, and stops when told (SIGTERM) or when the supervisor goes away.
 * Resolves once serving has started (or throws when it cannot start).
 */
export async function runWorker(): Promise<{ service: Service; logger: Logger }> {
  const send = process.send?.bind(process);
  if (!send) throw new Error("the worker command is started by tcp-echo serve --workers, not by hand");
  const start = await new Promise<Extract<ToWorker, { type: "start" }>>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no settings from the supervisor within ${START_WAIT_MS} ms`)), START_WAIT_MS);
    const first = (m: ToWorker) => {
      if (m?.type !== "start") return;
      clearTimeout(timer);
      process.off("message", first);
      resolve(m);
    };
    process.on("message", first);
  });
  const opts = fromWire(start.settings);
  const logger = createLogger({ ...opts.log, worker: start.worker });
  startGcBallast(opts.gcBallast, logger);
  const handle = startServer({ ...opts, recentCloses: Boolean(opts.api || opts.metrics), workerId: start.worker, logger });
  // Ids as the supervisor's page shows them: "w2.12@main".
  const idPrefix = `w${start.worker}.`;
  // The supervisor asks for status and connections only when it shows them (--metrics): the
  // status module is not loaded otherwise (each eden collection pays for the code a process holds).
  const pages = opts.api || opts.metrics ? await import("../status/index.ts") : null;
  const status = pages?.localStatus(handle, idPrefix) ?? null;
  const onMessage = (m: ToWorker) => {
    if (m?.type === "status" && status) {
      const { listeners, closes } = status.sample();
      send({ type: "status", id: m.id, listeners, closes } satisfies FromWorker);
    } else if (m?.type === "connections" && pages) send({ type: "connections", id: m.id, page: pages.pageOf(handle.control, m.query, idPrefix) } satisfies FromWorker);
    else if (m?.type === "stats") send({ type: "stats", id: m.id, stats: handle.stats(), process: readProcessMetrics() } satisfies FromWorker);
    else if (m?.type === "ping") send({ type: "pong", id: m.id, stats: handle.stats() } satisfies FromWorker);
  };
  // A supervisor that went away (even by SIGKILL) must not leave its workers behind.
  const onDisconnect = () => void handle.stop();
  process.on("message", onMessage);
  process.on("disconnect", onDisconnect);
  send({ type: "listening", port: handle.address.port, report: handle.report } satisfies FromWorker);
  const service: Service = {
    stop: handle.stop,
    reload: () => {
      if (handle.tls) handle.reload();
      else logger.debug("reload", "SIGHUP: nothing to reload");
    },
    report: async () => {},
    done: handle.stopped.then(() => {
      process.off("message", onMessage);
      process.off("disconnect", onDisconnect);
      // Let the IPC channel go so the process can exit.
      process.disconnect?.();
      return 0;
    }),
  };
  return { service, logger };
}
