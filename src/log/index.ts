// Logging: consola-based pretty and JSON lines, a bounded stderr sink, rate gates, error text.
export { createLogger, Logger, LOG_FORMATS, LOG_LEVELS, type LogFormat, type LogLevel, type LogSettings, type LogFields, type LogGate, type LoggerOptions } from "./logger.ts";
export { errorText, errorMessage } from "./error-text.ts";
export { plural } from "./plural.ts";
