// Starts the real server (the library API) on 127.0.0.1:0 with its JSON log captured, so tests can
// await log events instead of sleeping.
import { createLogger, type LogLevel } from "../../src/log/logger.ts";
import { DEFAULT_LISTENER, startServer, type AccessConfig, type ListenerConfig, type ServerConfig, type ServerHandle } from "../../src/server/index.ts";

export type LogEvent = Record<string, unknown> & { event: string; level: string; msg: string };

export class LogCapture {
  readonly events: LogEvent[] = [];
  private waiters: { pred: (e: LogEvent) => boolean; resolve: (e: LogEvent) => void }[] = [];

  write = (line: string) => {
    const e = JSON.parse(line) as LogEvent;
    this.events.push(e);
    this.waiters = this.waiters.filter((w) => {
      if (!w.pred(e)) return true;
      w.resolve(e);
      return false;
    });
  };

  /** The first event (already logged or still to come) that matches; rejects after `ms`. */
  waitFor(pred: (e: LogEvent) => boolean, ms = 10_000): Promise<LogEvent> {
    const seen = this.events.find(pred);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no matching log event within ${ms} ms`)), ms);
      this.waiters.push({ pred, resolve: (e) => (clearTimeout(timer), resolve(e)) });
    });
  }

  of(event: string): LogEvent[] {
    return this.events.filter((e) => e.event === event);
  }
}

export interface TestServer extends AsyncDisposable {
  readonly handle: ServerHandle;
  readonly port: number;
  readonly log: LogCapture;
}

/** One listener's options and the process's, flat, as most tests need them. */
export type ServeOverrides = Partial<Omit<ListenerConfig, "access">> &
  Partial<Pick<ServerConfig, "maxMemory" | "shutdownTimeout" | "clock" | "workerId" | "seed">> & { readonly access?: Partial<AccessConfig> | null };

/** The real server (the library) with one listener on 127.0.0.1:0, its JSON log captured. */
export function serve(overrides: ServeOverrides = {}, level: LogLevel = "info"): TestServer {
  const { maxMemory, shutdownTimeout, clock, workerId, seed, access, ...listener } = overrides;
  return serveListeners([{ ...listener, ...(access === undefined ? {} : { access: access && { allow: null, deny: [], maxPerIp: 0, perIpPrefix6: 64, ...access } }) }], { maxMemory, shutdownTimeout, clock, workerId, seed }, level);
}

/** Several listeners (each from the defaults plus its overrides, port 0 unless given). */
export function serveListeners(
  listeners: readonly Partial<ListenerConfig>[],
  process: Partial<Pick<ServerConfig, "maxMemory" | "shutdownTimeout" | "clock" | "workerId" | "seed">> = {},
  level: LogLevel = "info",
): TestServer {
  const log = new LogCapture();
  const logger = createLogger({ level, format: "json", write: log.write });
  const handle = startServer({
    listeners: listeners.map((l, i) => ({ ...DEFAULT_LISTENER, name: i === 0 ? "main" : `listen${i + 1}`, port: 0, ...l })),
    maxMemory: process.maxMemory ?? null,
    shutdownTimeout: process.shutdownTimeout ?? 1,
    workerId: process.workerId ?? null,
    seed: process.seed ?? null,
    logger,
    ...(process.clock ? { clock: process.clock } : {}),
  });
  return {
    handle,
    port: handle.address.port,
    log,
    [Symbol.asyncDispose]: () => handle.stop(),
  };
}
