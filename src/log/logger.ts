import { createConsola, type ConsolaInstance, type ConsolaReporter, type LogObject } from "consola/core";
import { colors } from "consola/utils";
import { LineBytes } from "./line-bytes.ts";
import { LogSink } from "./sink.ts";

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
  /**
   * Where finished lines go, one call per line (newline included), synchronously. By default a
   * LogSink on stderr: batched, bounded, never blocking.
   */
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

/** Lines of one event allowed per second by a gate, and the summary of what it held back. */
export interface LogGate {
  /** true: log this line; false: it is counted as suppressed. Call only when its level is on. */
  allow(): boolean;
}

/** One line of text for an event, in the chosen format; `ms` is the time (epoch milliseconds). */
type Format = (level: Emitting, event: string, text: string, fields: LogFields, ms: number) => string;

/**
 * consola carries the levels and reporters; this wrapper adds the per-level booleans that hot
 * paths test before they build a message, so a disabled level costs one property read; emit()
 * for the lines written per connection or per chunk; rate gates for lines a peer can make us
 * write at any rate; and the bounded sink.
 */
export class Logger {
  readonly errorOn: boolean;
  readonly warnOn: boolean;
  readonly infoOn: boolean;
  readonly debugOn: boolean;
  readonly traceOn: boolean;
  /** The stderr sink, when lines go there (not with options.write). */
  readonly sink: LogSink | null;
  private readonly consola: ConsolaInstance;
  private readonly format: Format;
  private readonly out: (line: string) => void;
  /** Lines written as bytes (startLine): the JSON format, and the pieces around the message. */
  private readonly json: boolean;
  private readonly heads: Record<Emitting, string>;
  private readonly dimOpen: string;
  private readonly dimClose: string;
  private readonly afterMsg: string;
  /** With options.write, lines written as bytes are put together here and handed over as text. */
  private readonly scratch: LineBytes | null;
  private readonly gates: RateGate[] = [];
  private gateTimer: ReturnType<typeof setInterval> | null = null;

  constructor(readonly options: LoggerOptions) {
    const n = CONSOLA_LEVEL[options.level];
    this.errorOn = n >= 0;
    this.warnOn = n >= 1;
    this.infoOn = n >= 3;
    this.debugOn = n >= 4;
    this.traceOn = n >= 5;
    const base = options.worker === undefined ? undefined : { worker: options.worker };
    this.json = options.format === "json";
    const color = !this.json && (options.color ?? Boolean(process.stderr.isTTY));
    const format: Format = this.json ? jsonFormat(base) : prettyFormat(color, options.worker === undefined ? "" : `[w${options.worker}] `);
    let write = options.write;
    if (write) this.sink = null;
    else {
      const sink = new LogSink(2, (count) =>
        format("warn", "log-dropped", `${count} log lines dropped: stderr was not read fast enough`, { dropped: count }, Date.now()),
      );
      this.sink = sink;
      write = (line) => sink.write(line);
    }
    const out = write;
    this.format = format;
    this.out = out;
    const paint = paintFor(color);
    this.heads = { error: "", warn: "", info: "", debug: "", trace: "" };
    for (const level of Object.keys(this.heads) as Emitting[]) {
      this.heads[level] = this.json ? `","level":"${level}","event":"` : ` ${paint[level]?.(TAGS[level]!) ?? TAGS[level]!} `;
    }
    [this.dimOpen, this.dimClose] = color ? colors.dim("\0").split("\0") as [string, string] : ["", ""];
    this.afterMsg = options.worker === undefined ? '",' : `","worker":${options.worker},`;
    this.scratch = this.sink ? null : new LineBytes();
    const reporter: ConsolaReporter = {
      log(obj: EventLog) {
        out(format(obj.type as Emitting, obj.event ?? "log", String(obj.args[0] ?? ""), obj.fields ?? {}, obj.date.getTime()));
      },
    };
    // throttle 0: consola otherwise folds repeated identical lines, and identical payload chunks
    // are exactly what a debug log of an echo server must show one by one.
    this.consola = createConsola({ level: n, reporters: [reporter], throttle: 0 });
  }

  /** `event` is a stable name (open, close, recv, ...); `text` is the human sentence. */
  log(level: Emitting, event: string, text: string, fields: LogFields = {}): void {
    this.consola[level]({ message: text, event, fields } as never);
  }

  /**
   * The same line as log(), straight to the formatter and the sink: for the lines written per
   * connection or per chunk (open, close, timeout, recv, ...). consola's work per call (a Date,
   * an object spread, a delete, a clearTimeout, a closure) took 0.7 of the 1.7 us a JSON line
   * cost (measured), and with two lines per connection a server logging at info was CPU-bound on
   * connects. The caller tests the level first, as for every other line.
   */
  emit(level: Emitting, event: string, text: string, fields: LogFields): void {
    this.out(this.format(level, event, text, fields, Date.now()));
  }

  /**
   * A line about one connection written as bytes (src/server/conn-lines.ts), for the lines every
   * connection writes: the same line emit() would write, without a string per piece. `maxBytes`
   * bounds what the caller writes after the head (LineBytes: 6 bytes per character of text);
   * null: the line is dropped (a full queue). Write the message (say), then, when endMessage()
   * is true (JSON), the fields, each but the first after a comma; then endLine().
   */
  startLine(level: Emitting, event: string, maxBytes: number): LineBytes | null {
    const room = maxBytes + 96 + event.length;
    let w: LineBytes | null;
    if (this.sink !== null) w = this.sink.begin(room);
    else {
      w = this.scratch!;
      // Exactly the room asked for when it grows: a bound that is too small shows in the tests.
      if (w.buf.length < room) w.buf = Buffer.allocUnsafe(room);
      w.pos = 0;
    }
    if (w === null) return null;
    w.json = this.json;
    const time = iso(Date.now());
    if (this.json) {
      w.ascii('{"time":"');
      w.ascii(time);
      w.ascii(this.heads[level]);
      w.ascii(event);
      w.ascii('","msg":"');
    } else {
      w.ascii(this.dimOpen);
      w.ascii(time);
      w.ascii(this.dimClose);
      w.ascii(this.heads[level]);
    }
    return w;
  }

  /** The message is written: true when fields follow (JSON). */
  endMessage(w: LineBytes): boolean {
    if (this.json) w.ascii(this.afterMsg);
    return this.json;
  }

  endLine(w: LineBytes): void {
    w.ascii(this.json ? "}\n" : "\n");
    // A typed array drops stores past its end without a word: a bound too small would cut lines.
    if (w.pos > w.buf.length) throw new RangeError(`a log line of ${w.pos} B overran the ${w.buf.length} B it had`);
    if (this.sink !== null) this.sink.commit(w);
    else this.out(w.buf.toString("utf8", 0, w.pos));
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

  /**
   * A gate for an event a peer can make us log at any rate (one line per record, per refused
   * connection): at most `perSecond` lines in each second; the rest are counted and reported as
   * one `suppressed` line at `level` when the second is over.
   */
  gate(event: string, perSecond: number, level: Emitting): LogGate {
    const g = new RateGate(event, perSecond, level, () => this.startGateTimer());
    this.gates.push(g);
    return g;
  }

  private startGateTimer(): void {
    if (this.gateTimer) return;
    this.gateTimer = setInterval(() => {
      let any = false;
      for (const g of this.gates) {
        const n = g.rollover();
        if (n > 0) this.log(g.level, "suppressed", `${n} ${g.event} lines suppressed in the last second (more than ${g.perSecond}/s)`, { suppressed_event: g.event, count: n, per_second: g.perSecond });
        any ||= g.active;
      }
      if (!any && this.gateTimer) {
        clearInterval(this.gateTimer);
        this.gateTimer = null;
      }
    }, 1000);
    this.gateTimer.unref?.();
  }
}

class RateGate implements LogGate {
  private count = 0;
  private suppressed = 0;
  active = false;

  constructor(
    readonly event: string,
    readonly perSecond: number,
    readonly level: Emitting,
    private readonly wake: () => void,
  ) {}

  allow(): boolean {
    if (!this.active) {
      this.active = true;
      this.wake();
    }
    if (this.count < this.perSecond) {
      this.count++;
      return true;
    }
    this.suppressed++;
    return false;
  }

  /** The second is over: how many were held back; the count starts again. */
  rollover(): number {
    const n = this.suppressed;
    this.active = this.count > 0 || n > 0;
    this.count = 0;
    this.suppressed = 0;
    return n;
  }
}

export function createLogger(options: LoggerOptions): Logger {
  return new Logger(options);
}

// toISOString() per line cost about 0.15 us; lines come in bursts within one millisecond.
let isoMs = Number.NaN;
let isoText = "";
function iso(ms: number): string {
  if (ms !== isoMs) {
    isoMs = ms;
    isoText = new Date(ms).toISOString();
  }
  return isoText;
}

function jsonFormat(base: { readonly worker: number } | undefined): Format {
  const worker = base === undefined ? "" : `,"worker":${base.worker}`;
  // The line is put together around JSON.stringify(fields) rather than stringifying one merged
  // object: 0.2 us a line instead of 0.45 (spread) or 0.9 (Object.assign; measured). A field
  // named like a key of our own replaces it in place, as the merge did (that path is kept).
  return (level, event, text, fields, ms) => {
    // The pretty text indents detail lines under their heading; JSON has no such layout.
    const msg = text.trimStart();
    if ("time" in fields || "level" in fields || "event" in fields || "msg" in fields || (worker && "worker" in fields)) {
      return JSON.stringify({ time: iso(ms), level, event, msg, ...base, ...fields }) + "\n";
    }
    const rest = JSON.stringify(fields);
    return `{"time":"${iso(ms)}","level":"${level}","event":${JSON.stringify(event)},"msg":${JSON.stringify(msg)}${worker}${rest.length > 2 ? `,${rest.slice(1)}` : "}"}\n`;
  };
}

const TAGS: Record<string, string> = { error: "ERROR", warn: "WARN ", info: "INFO ", debug: "DEBUG", trace: "TRACE" };

function paintFor(color: boolean): Record<string, (s: string) => string> {
  return color ? { error: colors.red, warn: colors.yellow, info: colors.cyan, debug: colors.gray, trace: colors.gray } : {};
}

function prettyFormat(color: boolean, prefix: string): Format {
  const paint = paintFor(color);
  return (level, _event, text, fields, ms) => {
    const tag = TAGS[level] ?? level.toUpperCase();
    const time = iso(ms);
    const painted = paint[level]?.(tag) ?? tag;
    const about = fields.conn === undefined ? prefix : "";
    // One event, one line: a line break inside a message (an error's text) is shown, not obeyed.
    const line = text.includes("\n") || text.includes("\r") ? text.replace(/\r?\n|\r/g, "\\n") : text;
    return `${color ? colors.dim(time) : time} ${painted} ${about}${line}\n`;
  };
}
