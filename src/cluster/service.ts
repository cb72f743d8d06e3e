import type { Logger } from "../log/index.ts";
import type { Service, ServiceOptions } from "./types.ts";

/**
 * One process serving on its own, or a supervisor with --workers processes. Each is loaded only
 * when taken: every module a process loads stays in its heap, and each of the runtime's eden
 * collections (100-250 a second when streaming) pays for the code it holds (README, Performance).
 */
export async function runService(opts: ServiceOptions, logger: Logger): Promise<Service> {
  if (opts.workers > 1) return (await import("./supervisor.ts")).runSupervisor(opts, logger);
  return (await import("./single.ts")).runSingle(opts, logger);
}
