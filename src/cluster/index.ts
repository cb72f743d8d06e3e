// How `serve` runs: one process, or a supervisor with --workers processes.
export type { Service, ServiceOptions } from "./types.ts";
export { runWorker } from "./worker.ts";

import type { Logger } from "../log/logger.ts";
import { runSingle } from "./single.ts";
import { runSupervisor } from "./supervisor.ts";
import type { Service, ServiceOptions } from "./types.ts";

export function runService(opts: ServiceOptions, logger: Logger): Service {
  return opts.workers > 1 ? runSupervisor(opts, logger) : runSingle(opts, logger);
}
