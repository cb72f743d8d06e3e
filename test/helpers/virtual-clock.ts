import type { Clock } from "../../src/time/index.ts";

/** Time that moves only when a test says so: deadlines are checked without waiting for them. */
export class VirtualClock implements Clock {
  private t = 1_000_000;
  private timers: { ms: number; next: number; fn: () => void }[] = [];

  /** Repeating timers asked for and not stopped: a deadline wheel with entries holds one. */
  get ticking(): number {
    return this.timers.length;
  }

  now(): number {
    return this.t;
  }

  every(ms: number, fn: () => void): () => void {
    const timer = { ms, next: this.t + ms, fn };
    this.timers.push(timer);
    return () => {
      this.timers = this.timers.filter((x) => x !== timer);
    };
  }

  /** Moves time forward by `ms`, running every tick that falls due on the way, in order. */
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      const due = this.timers.filter((x) => x.next <= end).sort((a, b) => a.next - b.next)[0];
      if (!due) break;
      this.t = due.next;
      due.next += due.ms;
      due.fn();
    }
    this.t = end;
  }
}
