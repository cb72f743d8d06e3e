// The server library: startServer(config) is what the CLI, the tests and the benchmarks call.
export { startServer, type ServerHandle } from "./server.ts";
export {
  DEFAULTS,
  QUICKACK_MODES,
  CLOSE_REASONS,
  RECORD_MODES,
  type ServerConfig,
  type QuickAckMode,
  type CloseReason,
  type RecordConfig,
  type RecordMode,
} from "./config.ts";
export type { StatsSnapshot } from "./stats.ts";
export type { StartupReport, OptionReport } from "./startup-report.ts";
