import type { Logger } from "../log/index.ts";
import { runSingle } from "./single.ts";
import { runSupervisor } from "./supervisor.ts";
import type { Service, ServiceOptions } from "./types.ts";

/** One process serving on its own, or a supervisor with --workers processes. */
export function runService(opts: ServiceOptions, logger: Logger): Service {
  return opts.workers > 1 ? runSupervisor(opts, logger) : runSingle(opts, logger);
}
