import { createConsola, type ConsolaInstance, type ConsolaReporter, type LogObject } from "consola/core";
import { colors } from "consola/utils";

export const LOG_LEVELS = ["silent", "error", "warn", "info", "debug", "trace"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export const LOG_FORMATS = ["pretty", "json"] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/** How to log, as the user chose it. */
export interface LogSettings {
  readonly level: LogLevel;
  readonly format: LogFormat;
}

/** Structured fields of one event; names are the stable JSON field names documented in the README. */
export type LogFields = Record<string, unknown>;

type Emitting = Exclude<LogLevel, "silent">;

const CONSOLA_LEVEL: Record<LogLevel, number> = {
  silent: Number.NEGATIVE_INFINITY,
  error: 0,
  warn: 1,
  info: 3,
  debug: 4,
  trace: 5,
};

export interface LoggerOptions {
  readonly level: LogLevel;
  readonly format: LogFormat;
  /** Where finished lines go (one call per line, newline included); stderr by default. */
  readonly write?: (line: string) => void;
  /** Colour the pretty format; by default only when stderr is a terminal. */
  readonly color?: boolean;
  /** A worker's id: a `worker` field on every JSON line; a `[wN]` prefix on pretty lines that
   * are not about one connection (those carry it in their tag, `[w2#7 ...]`). */
  readonly worker?: number;
}

interface EventLog extends LogObject {
  event?: string;
  fields?: LogFields;
}

/**
 * consola carries the levels and reporters; this wrapper adds the per-level booleans that hot
 * paths test before they build a message, so a disabled level costs one property read.
 */
export class Logger {
  readonly errorOn: boolean;
  readonly warnOn: boolean;
  readonly infoOn: boolean;
  readonly debugOn: boolean;
  readonly traceOn: boolean;
  private readonly consola: ConsolaInstance;

  constructor(readonly options: LoggerOptions) {
    const n = CONSOLA_LEVEL[options.level];
    this.errorOn = n >= 0;
    this.warnOn = n >= 1;
    this.infoOn = n >= 3;
    this.debugOn = n >= 4;
    this.traceOn = n >= 5;
    const write = options.write ?? ((line: string) => void process.stderr.write(line));
    const reporter =
      options.format === "json"
        ? jsonReporter(write, options.worker === undefined ? undefined : { worker: options.worker })
        : prettyReporter(write, options.color ?? Boolean(process.stderr.isTTY), options.worker === undefined ? "" : `[w${options.worker}] `);
    // throttle 0: consola otherwise folds repeated identical lines, and identical payload chunks
    // are exactly what a debug log of an echo server must show one by one.
    this.consola = createConsola({ level: n, reporters: [reporter], throttle: 0 });
  }

  /** `event` is a stable name (open, close, recv, ...); `text` is the human sentence. */
  log(level: Emitting, event: string, text: string, fields: LogFields = {}): void {
    this.consola[level]({ message: text, event, fields } as never);
  }
  error(event: string, text: string, fields?: LogFields): void {
    if (this.errorOn) this.log("error", event, text, fields);
  }
  warn(event: string, text: string, fields?: LogFields): void {
    if (this.warnOn) this.log("warn", event, text, fields);
  }
  info(event: string, text: string, fields?: LogFields): void {
    if (this.infoOn) this.log("info", event, text, fields);
  }
  debug(event: string, text: string, fields?: LogFields): void {
    if (this.debugOn) this.log("debug", event, text, fields);
  }
  trace(event: string, text: string, fields?: LogFields): void {
    if (this.traceOn) this.log("trace", event, text, fields);
  }
}

export function createLogger(options: LoggerOptions): Logger {
  return new Logger(options);
}

function jsonReporter(write: (line: string) => void, base: { readonly worker: number } | undefined): ConsolaReporter {
  return {
    log(obj: EventLog) {
      // The pretty text indents detail lines under their heading; JSON has no such layout.
      const record = { time: obj.date.toISOString(), level: obj.type, event: obj.event ?? "log", msg: String(obj.args[0] ?? "").trimStart(), ...base };
      write(JSON.stringify(Object.assign(record, obj.fields)) + "\n");
    },
  };
}

const TAGS: Record<string, string> = { error: "ERROR", warn: "WARN ", info: "INFO ", debug: "DEBUG", trace: "TRACE" };

function prettyReporter(write: (line: string) => void, color: boolean, prefix: string): ConsolaReporter {
  const paint: Record<string, (s: string) => string> = color
    ? { error: colors.red, warn: colors.yellow, info: colors.cyan, debug: colors.gray, trace: colors.gray }
    : {};
  return {
    log(obj: EventLog) {
      const tag = TAGS[obj.type] ?? obj.type.toUpperCase();
      const time = obj.date.toISOString();
      const painted = paint[obj.type]?.(tag) ?? tag;
      const about = obj.fields?.conn === undefined ? prefix : "";
      // One event, one line: a line break inside a message (an error's text) is shown, not obeyed.
      const text = String(obj.args[0] ?? "").replace(/\r?\n|\r/g, "\\n");
      write(`${color ? colors.dim(time) : time} ${painted} ${about}${text}\n`);
    },
  };
}
