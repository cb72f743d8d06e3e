import { fstatSync } from "node:fs";
import { writeFileSome, writeSome } from "../net/index.ts";

/** How much finished log text may wait for a slow or stuck reader before lines are dropped. */
export const DEFAULT_QUEUE_BYTES = 1024 * 1024;
/**
 * To a regular file, how long a line may wait for the lines after it. One write per event-loop
 * turn was a write per 9 lines at info in connect16 (two lines per connection; perf stat, 0.22
 * writes per connection); 5 ms makes it one per ~100 lines at 10,000 connections/s. A pipe or a
 * socket keeps one write per turn: a batch as large as the pipe would wait RETRY_MS for room.
 */
const BATCH_MS = 5;
/** ...unless this much is waiting: a burst leaves at the end of the loop turn. */
const SOON_CHARS = 64 * 1024;
/** How often a blocked sink looks for room again. */
const RETRY_MS = 20;
/** At exit, how long the last lines may wait for a reader. */
const EXIT_WAIT_MS = 1000;

const encoder = new TextEncoder();

/**
 * Where log lines go: batched (the lines of BATCH_MS leave in one write) and bounded
 * (a stderr nobody reads costs at most `maxBytes`; past it new lines are dropped and counted, and
 * the count is written as a line of its own once there is room again). It never blocks the loop:
 * writes go through writeSome, which only writes what the descriptor has room for.
 */
export class LogSink {
  private lines: string[] = [];
  private queuedChars = 0;
  /** Encoded bytes that did not fit at the last attempt, and how far they got. */
  private pending: Uint8Array | null = null;
  private pendingOffset = 0;
  /** A flush is due: after BATCH_MS, or at the end of this turn (a burst). */
  private timer: ReturnType<typeof setTimeout> | null = null;
  private soon = false;
  private retry: ReturnType<typeof setTimeout> | null = null;
  private broken = false;
  /** Lines dropped since the last "dropped" line was written. */
  private dropped = 0;
  /** Lines dropped in all. */
  droppedTotal = 0;
  /** stderr is a regular file (a log file, the benchmark's): nothing to wait for, no pieces. */
  private readonly regularFile: boolean;

  constructor(
    private readonly fd: number,
    /** Formats the line that reports `n` dropped lines (the logger's own format). */
    private readonly droppedLine: (n: number) => string,
    private readonly maxBytes = DEFAULT_QUEUE_BYTES,
  ) {
    this.regularFile = isRegularFile(fd);
    // Lines still queued when the process ends are written then, waiting briefly for room.
    process.once("exit", () => this.flushAtExit());
  }

  /** Queues one finished line (newline included). */
  write(line: string): void {
    if (this.broken) return;
    const held = this.queuedChars + (this.pending ? this.pending.length - this.pendingOffset : 0);
    if (held + line.length > this.maxBytes) {
      this.dropped++;
      this.droppedTotal++;
      return;
    }
    this.lines.push(line);
    this.queuedChars += line.length;
    // Blocked: the retry timer writes when there is room.
    if (this.retry !== null || this.soon) return;
    if (!this.regularFile || this.queuedChars >= SOON_CHARS) {
      this.soon = true;
      setImmediate(this.flushSoon);
    } else if (this.timer === null) {
      // Not keeping the process alive: at exit, flushAtExit writes what is left.
      this.timer = setTimeout(this.flushLater, BATCH_MS);
      this.timer.unref();
    }
  }

  /** Bytes waiting for the reader now (for tests and metrics). */
  get queued(): number {
    return this.queuedChars + (this.pending ? this.pending.length - this.pendingOffset : 0);
  }

  private readonly flushLater = (): void => {
    this.timer = null;
    this.flush();
  };

  private readonly flushSoon = (): void => {
    this.soon = false;
    this.flush();
  };

  private readonly flushRetry = (): void => {
    this.retry = null;
    this.flush();
  };

  private flush(): void {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    this.drain(0);
    if (!this.broken && this.retry === null && (this.pending || this.lines.length > 0 || this.dropped > 0)) {
      this.retry = setTimeout(this.flushRetry, RETRY_MS);
    }
  }

  /** Writes what there is room for; returns true when everything is out. */
  private drain(waitMs: number): boolean {
    for (;;) {
      if (!this.pending) {
        if (this.dropped > 0) {
          // Reported as soon as what was queued before the gap is out, so it lands where the gap is.
          const line = this.droppedLine(this.dropped);
          this.lines.unshift(line);
          this.queuedChars += line.length;
          this.dropped = 0;
        }
        if (this.lines.length === 0) return true;
        this.pending = encoder.encode(this.lines.length === 1 ? this.lines[0]! : this.lines.join(""));
        this.pendingOffset = 0;
        this.lines = [];
        this.queuedChars = 0;
      }
      const n = this.regularFile ? writeFileSome(this.fd, this.pending, this.pendingOffset) : writeSome(this.fd, this.pending, this.pendingOffset, waitMs);
      if (n < 0) {
        // The reader is gone for good (EPIPE): logging stops; serving does not.
        this.broken = true;
        this.pending = null;
        this.lines = [];
        this.queuedChars = 0;
        return true;
      }
      this.pendingOffset += n;
      if (this.pendingOffset < this.pending.length) return false;
      this.pending = null;
    }
  }

  private flushAtExit(): void {
    const deadline = performance.now() + EXIT_WAIT_MS;
    while (!this.broken && !this.drain(Math.max(0, Math.min(100, deadline - performance.now())))) {
      if (performance.now() >= deadline) break;
    }
  }
}

function isRegularFile(fd: number): boolean {
  try {
    return fstatSync(fd).isFile();
  } catch {
    return false;
  }
}
