import { fstatSync } from "node:fs";
import { writeFileSome, writeSome } from "../net/index.ts";
import { LineBytes } from "./line-bytes.ts";

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
const SOON_BYTES = 64 * 1024;
/** How often a blocked sink looks for room again. */
const RETRY_MS = 20;
/** At exit, how long the last lines may wait for a reader. */
const EXIT_WAIT_MS = 1000;

/** The buffer's size to start with, and what it shrinks back to once a burst has left. */
const INITIAL_BYTES = 16 * 1024;

/**
 * Where log lines go: batched (the lines of BATCH_MS leave in one write) and bounded
 * (a stderr nobody reads costs at most `maxBytes`; past it new lines are dropped and counted, and
 * the count is written as a line of its own where the gap is, once there is room again). It never
 * blocks the loop: writes go through writeSome, which only writes what the descriptor has room for.
 *
 * Lines are encoded into one byte buffer as they come (or written into it in place: begin()), not
 * kept as strings until the flush: the strings die young, and the flush is one write of bytes
 * already there (joining and encoding a batch of strings was 2.4 % of a connect16 server's samples
 * at info).
 */
export class LogSink {
  /** Bytes [start, end) wait for the reader; [0, start) are written. */
  private buf: Buffer = Buffer.allocUnsafe(INITIAL_BYTES);
  private start = 0;
  private end = 0;
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
  private readonly line = new LineBytes();

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
    if (!this.admit(line.length)) return;
    this.append(line);
    this.schedule();
  }

  /**
   * Room for one line of at most `maxBytes`, written in place; commit() queues it. null: the line
   * is dropped (counted), as write() drops one.
   */
  begin(maxBytes: number): LineBytes | null {
    if (!this.admit(maxBytes)) return null;
    this.room(maxBytes);
    const w = this.line;
    w.buf = this.buf;
    w.pos = this.end;
    return w;
  }

  commit(w: LineBytes): void {
    this.end = w.pos;
    this.schedule();
  }

  /** Bytes waiting for the reader now (for tests and metrics). */
  get queued(): number {
    return this.end - this.start;
  }

  /** A line of `size` may be queued; if not, it is counted as dropped. */
  private admit(size: number): boolean {
    if (this.broken) return false;
    // Lines dropped before this one are reported first, so the count lands where the gap is.
    if ((this.dropped > 0 && !this.reportDropped()) || this.end - this.start + size > this.maxBytes) {
      this.dropped++;
      this.droppedTotal++;
      return false;
    }
    return true;
  }

  /** Queues the line counting the dropped lines, if there is room for it. */
  private reportDropped(): boolean {
    const line = this.droppedLine(this.dropped);
    if (this.end - this.start + line.length > this.maxBytes) return false;
    this.dropped = 0;
    this.append(line);
    return true;
  }

  private append(line: string): void {
    // UTF-8 takes at most 3 bytes per UTF-16 code unit.
    this.room(line.length * 3);
    this.end += this.buf.write(line, this.end, "utf8");
  }

  /** At least `bytes` free after `end`: what is written moves out of the way, or the buffer grows. */
  private room(bytes: number): void {
    if (this.end + bytes <= this.buf.length) return;
    if (this.start > 0) {
      this.buf.copyWithin(0, this.start, this.end);
      this.end -= this.start;
      this.start = 0;
      if (this.end + bytes <= this.buf.length) return;
    }
    const grown = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.end + bytes));
    grown.set(this.buf.subarray(0, this.end));
    this.buf = grown;
  }

  private schedule(): void {
    // Blocked: the retry timer writes when there is room.
    if (this.retry !== null || this.soon) return;
    if (!this.regularFile || this.end - this.start >= SOON_BYTES) {
      this.soon = true;
      setImmediate(this.flushSoon);
    } else if (this.timer === null) {
      // Not keeping the process alive: at exit, flushAtExit writes what is left.
      this.timer = setTimeout(this.flushLater, BATCH_MS);
      this.timer.unref();
    }
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
    if (!this.broken && this.retry === null && (this.end > this.start || this.dropped > 0)) {
      this.retry = setTimeout(this.flushRetry, RETRY_MS);
    }
  }

  /** Writes what there is room for; returns true when everything is out. */
  private drain(waitMs: number): boolean {
    for (;;) {
      if (this.dropped > 0) this.reportDropped();
      if (this.start === this.end) {
        this.start = this.end = 0;
        // A burst grew the buffer: it is not kept for the quiet that follows.
        if (this.buf.length > INITIAL_BYTES * 4) this.buf = Buffer.allocUnsafe(INITIAL_BYTES);
        return this.dropped === 0;
      }
      const bytes = this.buf.subarray(0, this.end);
      const n = this.regularFile ? writeFileSome(this.fd, bytes, this.start) : writeSome(this.fd, bytes, this.start, waitMs);
      if (n < 0) {
        // The reader is gone for good (EPIPE): logging stops; serving does not.
        this.broken = true;
        this.start = this.end = 0;
        this.buf = Buffer.allocUnsafe(0);
        return true;
      }
      this.start += n;
      if (this.start < this.end) return false;
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
