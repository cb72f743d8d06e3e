// The tcp-echo executable under test: started with its JSON log going to a file (so a case can
// count log bytes and nobody's pipe fills), the file read as it grows, the ports read from it.
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { listeners, sleep } from "../../lib/proc.ts";
import type { Proc } from "./procs.ts";
import type { Context } from "./types.ts";

export interface LogEvent {
  readonly time: string;
  readonly level: string;
  readonly event: string;
  readonly msg: string;
  /** Date.parse(time). */
  readonly ms: number;
  readonly [field: string]: unknown;
}

/** A JSON-lines log file read as it grows. */
export class LogTail {
  readonly events: LogEvent[] = [];
  private fd: number | null = null;
  private offset = 0;
  private partial = "";
  private readonly buf = Buffer.alloc(1 << 20);

  constructor(readonly path: string) {}

  /** Reads whatever was appended since the last call. */
  poll(): void {
    if (this.fd === null) {
      try {
        this.fd = openSync(this.path, "r");
      } catch {
        return;
      }
    }
    for (;;) {
      const n = readSync(this.fd, this.buf, 0, this.buf.length, this.offset);
      if (n <= 0) break;
      this.offset += n;
      this.partial += this.buf.toString("utf8", 0, n);
      let nl: number;
      while ((nl = this.partial.indexOf("\n")) >= 0) {
        const line = this.partial.slice(0, nl);
        this.partial = this.partial.slice(nl + 1);
        if (!line.startsWith("{")) continue;
        try {
          const e = JSON.parse(line) as LogEvent;
          this.events.push({ ...e, ms: Date.parse(e.time) });
        } catch {
          // a line cut by a crash: not an event
        }
      }
    }
  }

  /** Size of the file now, in bytes. */
  size(): number {
    this.poll();
    return this.fd === null ? 0 : fstatSync(this.fd).size;
  }

  of(event: string): LogEvent[] {
    this.poll();
    return this.events.filter((e) => e.event === event);
  }

  /** The first event (from index `from` on) that matches, waiting up to timeoutMs; null if none came. */
  async waitFor(pred: (e: LogEvent) => boolean, timeoutMs: number, from = 0): Promise<LogEvent | null> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      this.poll();
      for (let i = from; i < this.events.length; i++) if (pred(this.events[i]!)) return this.events[i]!;
      if (performance.now() >= deadline) return null;
      await sleep(20);
    }
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}

export interface Server {
  readonly proc: Proc;
  readonly pid: number;
  /** The echo port. */
  readonly port: number;
  /** The metrics port (with --metrics), else null. */
  readonly metricsPort: number | null;
  readonly log: LogTail;
}

export interface StartOptions {
  /** File name under the log directory. */
  readonly name: string;
  /** serve options besides --port 0 and --log-format json. */
  readonly args: readonly string[];
  /** RLIMIT_NOFILE soft and hard, through prlimit (which execs: the pid is the server's). */
  readonly nofile?: number;
  /** --workers N: wait until this many processes listen on the echo port. */
  readonly workers?: number;
}

/** true when the port answers an HTTP request with an HTTP status line (an echo port echoes it). */
async function speaksHttp(port: number): Promise<boolean> {
  try {
    const r = await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(2000) });
    await r.arrayBuffer();
    return true;
  } catch {
    return false;
  }
}

/**
 * Starts `tcp-echo serve --port 0 --log-format json ARGS` and waits until it listens. The ports
 * are read from /proc (listening sockets of the process tree), not from the log: at --log-level
 * warn the start-up report is not logged. With --metrics the port that answers HTTP is the
 * metrics port.
 */
export async function startServer(ctx: Context, opts: StartOptions): Promise<Server> {
  const path = `${ctx.logDir}/${opts.name}.log`;
  const prefix = opts.nofile ? ["prlimit", `--nofile=${opts.nofile}:${opts.nofile}`] : [];
  const proc = ctx.procs.spawn([...prefix, ctx.exe, "serve", "--port", "0", "--log-format", "json", ...opts.args], { stderr: path, stdout: "ignore" });
  const log = new LogTail(path);
  const wantPorts = opts.args.includes("--metrics") ? 2 : 1;
  const workers = opts.workers ?? 1;
  const deadline = performance.now() + 15_000;
  for (;;) {
    if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`${opts.name}: the server exited (${proc.exitCode ?? proc.signalCode}) before listening; see ${path}`);
    if (performance.now() > deadline) throw new Error(`${opts.name}: the server did not listen within 15 s; see ${path}`);
    const found = listeners(proc.pid);
    const ports = [...new Set(found.map((l) => l.port))];
    if (ports.length >= wantPorts) {
      let metricsPort: number | null = null;
      let port = ports[0]!;
      if (wantPorts === 2) {
        const http = await Promise.all(ports.map(speaksHttp));
        metricsPort = ports.find((_, i) => http[i]) ?? null;
        port = ports.find((_, i) => !http[i]) ?? port;
      }
      const echoListeners = found.filter((l) => l.port === port).length;
      if ((wantPorts === 1 || metricsPort !== null) && echoListeners >= workers) return { proc, pid: proc.pid, port, metricsPort, log };
    }
    await sleep(25);
  }
}
