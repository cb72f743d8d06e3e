// How `serve` runs: one process, or a supervisor with --workers processes.
export type { Service, ServiceOptions } from "./types.ts";

import { runSingle } from "./single.ts";
import { runSupervisor } from "./supervisor.ts";
import type { Service, ServiceOptions } from "./types.ts";

/** `args`: the serve arguments as given, for the worker processes. */
export function runService(opts: ServiceOptions, args: readonly string[]): Service {
  return opts.workers > 1 && opts.workerId === null ? runSupervisor(opts, args) : runSingle(opts);
}
