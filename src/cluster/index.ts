// How `serve` runs: one process, or a supervisor with --workers processes that get their settings
// over IPC.
export type { Service, ServiceOptions } from "./types.ts";
export { runService } from "./service.ts";
export { runWorker } from "./worker.ts";
