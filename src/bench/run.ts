import { LatencyRecorder } from "./latency.ts";
import { checkOptions, type BenchOptions, type BenchProgress, type BenchResult } from "./options.ts";
import type { Tally } from "./connections.ts";
import { Traffic } from "./traffic.ts";
import type { ServerSession } from "../tls/index.ts";

export interface BenchHooks {
  /** Aborting stops the run early; the result still covers what was measured. */
  readonly signal?: AbortSignal;
  /** Called about once a second (`progressMs`) while the run lasts. */
  readonly onProgress?: (p: BenchProgress) => void;
  readonly progressMs?: number;
  /** Idle mode: all connections have opened (`open` of them held) and the hold begins. */
  readonly onIdleReady?: (open: number) => void;
}

const now = Bun.nanoseconds;

/**
 * Runs one benchmark against an echo server at `options.host:port` and resolves with its figures
 * once the duration or count is reached, or `hooks.signal` aborts. Every socket and timer it made is
 * closed by then. Throws RangeError on options the CLI would refuse.
 */
export function runBench(options: BenchOptions, hooks: BenchHooks = {}): Promise<BenchResult> {
  checkOptions(options);
  return new Bench(options, hooks).start();
}

/** Phases (warmup, measuring, idle hold), counters and the result; the traffic is in traffic.ts. */
class Bench implements Tally {
  stopping = false;
  private errors = 0;
  private mismatches = 0;
  private firstError: string | null = null;
  private mismatchNote: string | null = null;
  private proxyHeaders = 0;
  private measuring = false;
  private measureStart: number;
  private measureT0 = 0;
  private messages = 0;
  private bytesEchoed = 0;
  private readonly latency = new LatencyRecorder();
  private readonly t0 = now();
  private tStop = 0;
  private stoppedEarly = false;
  private idleReady = false;
  private readonly traffic: Traffic;
  private readonly timers: ReturnType<typeof setTimeout>[] = [];
  private progress: ReturnType<typeof setInterval> | null = null;
  private readonly done = Promise.withResolvers<BenchResult>();
  private readonly onAbort = () => this.requestStop(true);
  /** For the progress display: totals since the start, and at the last snapshot. */
  private completed = 0;
  private completedBytes = 0;
  private last = { t: 0, completed: 0, bytes: 0 };
  /** TLS: handshakes over the whole run, and the first one's session (what the report shows). */
  private tls = { session: null as ServerSession | null, ok: 0, failed: 0 };

  constructor(
    private readonly o: BenchOptions,
    private readonly hooks: BenchHooks,
  ) {
    this.measureStart = o.mode === "idle" ? Infinity : this.t0 + o.warmup * 1e9;
    this.traffic = new Traffic(o, this, this.t0);
  }

  start(): Promise<BenchResult> {
    const { signal, onProgress } = this.hooks;
    if (this.o.mode !== "idle") {
      this.at(this.measureStart, () => this.beginMeasure(now()));
      // loadgen's rule: with --count and no explicit --duration, only the count ends the run.
      if (this.o.duration !== null) this.at(this.measureStart + this.o.duration * 1e9, () => this.requestStop(false));
    }
    if (onProgress) {
      this.last = { t: this.t0, completed: 0, bytes: 0 };
      this.progress = setInterval(() => onProgress(this.snapshot()), this.hooks.progressMs ?? 1000);
    }
    signal?.addEventListener("abort", this.onAbort, { once: true });
    if (signal?.aborted) this.requestStop(true);
    else this.traffic.start();
    return this.done.promise;
  }

  error(message: string): void {
    this.errors++;
    this.firstError ??= message;
  }

  proxyHeader(): void {
    this.proxyHeaders++;
  }

  handshake(session: ServerSession | null, ok: boolean): void {
    if (ok) this.tls.ok++;
    else this.tls.failed++;
    this.tls.session ??= session;
  }

  mismatch(note?: string): void {
    this.mismatches++;
    if (note !== undefined) this.mismatchNote ??= note;
  }

  message(t: number, latencyNs: number): void {
    this.completed++;
    if (!this.measuring) {
      if (t < this.measureStart) return;
      this.beginMeasure(t); // the warmup timer has not run yet
    }
    const count = this.o.count;
    if (count !== null && this.messages >= count) return;
    this.messages++;
    this.latency.record(latencyNs);
    if (count !== null && this.messages >= count) this.requestStop(false);
  }

  streamed(n: number): void {
    this.completedBytes += n;
    if (!this.measuring) {
      const t = now();
      if (t < this.measureStart) return;
      this.beginMeasure(t);
    }
    this.bytesEchoed += n;
    if (this.o.count === null) return;
    const cap = this.o.count * this.o.size;
    if (this.bytesEchoed >= cap) {
      this.bytesEchoed = cap;
      this.requestStop(false);
    }
  }

  idleSettled(): void {
    if (this.idleReady) return;
    this.idleReady = true;
    const t = now();
    this.hooks.onIdleReady?.(this.traffic.held);
    this.beginMeasure(t);
    this.measureStart = t;
    this.at(t + this.o.duration! * 1e9, () => this.requestStop(false));
  }

  private beginMeasure(t: number): void {
    if (this.measuring) return;
    this.measuring = true;
    this.measureT0 = t;
    this.messages = 0;
    this.bytesEchoed = 0;
    this.latency.reset();
  }

  private at(when: number, fn: () => void): void {
    this.timers.push(setTimeout(fn, Math.max(0, (when - now()) / 1e6)));
  }

  private requestStop(early: boolean): void {
    if (this.stopping) return;
    this.stopping = true;
    this.stoppedEarly = early;
    this.tStop = now();
    // One more turn of the event loop before the report: closes the kernel already reported (a
    // server's FIN on a held idle connection) are counted, as loadgen's final sweep does.
    setImmediate(() => this.finish());
  }

  private finish(): void {
    for (const t of this.timers) clearTimeout(t);
    if (this.progress) clearInterval(this.progress);
    this.hooks.signal?.removeEventListener("abort", this.onAbort);
    const result = this.result();
    this.traffic.closeAll();
    this.done.resolve(result);
  }

  private result(): BenchResult {
    const { mode, size } = this.o;
    const dur = this.measuring ? (this.tStop - this.measureT0) / 1e9 : 0;
    const messages = mode === "stream" ? Math.floor(this.bytesEchoed / size) : mode === "idle" ? this.traffic.exchanges : this.messages;
    const bytes = mode === "stream" ? this.bytesEchoed : messages * size;
    const msgsPerS = dur > 0 ? messages / dur : null;
    const timed = mode === "pingpong" || mode === "connect";
    return {
      mode,
      connections: this.o.connections,
      size,
      durationS: dur,
      messages,
      msgsPerS,
      mbPerS: dur > 0 ? bytes / 1e6 / dur : null,
      connsPerS: mode === "connect" ? msgsPerS : null,
      latencyUs: timed ? this.latency.summary() : null,
      latencyCurveUs: timed ? this.latency.curve() : null,
      errors: this.errors,
      mismatches: this.mismatches,
      openAtEnd: mode === "idle" ? this.traffic.held : null,
      stoppedEarly: this.stoppedEarly,
      firstError: this.firstError,
      mismatchNote: this.mismatchNote,
      proxyHeaders: this.proxyHeaders,
      tls: this.o.tls ? { ...this.tls } : null,
    };
  }

  private snapshot(): BenchProgress {
    const t = now();
    const dt = (t - this.last.t) / 1e9;
    const msgs = this.o.mode === "stream" ? (this.completedBytes - this.last.bytes) / this.o.size : this.completed - this.last.completed;
    const bytes = this.o.mode === "stream" ? this.completedBytes - this.last.bytes : msgs * this.o.size;
    this.last = { t, completed: this.completed, bytes: this.completedBytes };
    const phase = this.o.mode === "idle" ? (this.idleReady ? "holding" : "opening") : this.measuring ? "measuring" : "warmup";
    return {
      elapsedS: (t - this.t0) / 1e9,
      phase,
      msgsPerS: dt > 0 ? msgs / dt : 0,
      mbPerS: dt > 0 ? bytes / 1e6 / dt : 0,
      errors: this.errors,
      mismatches: this.mismatches,
      open: this.traffic.open,
    };
  }
}
