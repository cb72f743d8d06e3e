// The server library: startServer(config) is what the CLI, the tests and the benchmarks call.
export { startServer, type ServerHandle } from "./server.ts";
export { DEFAULTS, QUICKACK_MODES, CLOSE_REASONS, type ServerConfig, type QuickAckMode, type CloseReason } from "./config.ts";
export type { StatsSnapshot } from "./stats.ts";
export type { StartupReport, OptionReport } from "./report.ts";
