/**
 * Every toxic's timing in a process, on one structure: a binary min-heap of due times with one
 * timer armed for the earliest. Each toxic stage of a connection has at most one entry (the time
 * its head item is due), so 10,000 connections under a latency toxic are 10,000 heap entries and
 * one timer, not a timer per chunk; scheduling and cancelling cost O(log n).
 */
export interface Timed {
  /** When it is due (ms on the heap's clock); meaningful while heapIndex >= 0. */
  due: number;
  /** Position in the heap, -1 while not scheduled. */
  heapIndex: number;
  fire(now: number): void;
}

/** Time as the heap sees it: now() in ms, and one re-armable one-shot timer. */
export interface TimerClock {
  now(): number;
  /** Calls `fn` once, `ms` from now (replacing any timer armed before). */
  arm(ms: number, fn: () => void): void;
  disarm(): void;
}

/** The real clock: performance.now() and setTimeout, millisecond resolution. */
export function realTimerClock(): TimerClock {
  let timer: ReturnType<typeof setTimeout> | null = null;
  return {
    now: () => performance.now(),
    arm(ms, fn) {
      if (timer) clearTimeout(timer);
      timer = setTimeout(fn, ms);
      // The listeners keep the process alive; a pending toxic must not keep a stopped one.
      timer.unref?.();
    },
    disarm() {
      if (timer) clearTimeout(timer);
      timer = null;
    },
  };
}

export class TimerHeap {
  private readonly heap: Timed[] = [];
  /** The due time the clock's timer is armed for; Infinity when disarmed. */
  private armedFor = Infinity;
  private running = false;
  private readonly onTimer = () => this.run();

  constructor(readonly clock: TimerClock) {}

  get size(): number {
    return this.heap.length;
  }

  now(): number {
    return this.clock.now();
  }

  /** Schedules `t` at `due`, or moves it there if it was scheduled already. */
  schedule(t: Timed, due: number): void {
    t.due = due;
    if (t.heapIndex < 0) {
      t.heapIndex = this.heap.length;
      this.heap.push(t);
      this.up(t.heapIndex);
    } else {
      this.up(t.heapIndex);
      this.down(t.heapIndex);
    }
    if (!this.running) this.arm();
  }

  cancel(t: Timed): void {
    const i = t.heapIndex;
    if (i < 0) return;
    t.heapIndex = -1;
    const last = this.heap.pop()!;
    if (i < this.heap.length) {
      this.heap[i] = last;
      last.heapIndex = i;
      this.up(i);
      this.down(i);
    }
    if (!this.running) this.arm();
  }

  /** Fires everything due by now, in order of due time; the timer is re-armed once after. */
  run(): void {
    this.armedFor = Infinity;
    this.running = true;
    try {
      const now = this.clock.now();
      while (this.heap.length > 0 && this.heap[0]!.due <= now) {
        const t = this.heap[0]!;
        this.cancel(t);
        t.fire(now);
      }
    } finally {
      this.running = false;
      this.arm();
    }
  }

  /** Keeps the one timer pointed at the earliest entry. */
  private arm(): void {
    const first = this.heap[0];
    if (!first) {
      if (this.armedFor !== Infinity) this.clock.disarm();
      this.armedFor = Infinity;
      return;
    }
    if (first.due === this.armedFor) return;
    this.armedFor = first.due;
    // Rounded up: a timer that fires before the due time would only be re-armed.
    this.clock.arm(Math.max(0, Math.ceil(first.due - this.clock.now())), this.onTimer);
  }

  private up(i: number): void {
    const h = this.heap;
    const t = h[i]!;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (h[p]!.due <= t.due) break;
      h[i] = h[p]!;
      h[i]!.heapIndex = i;
      i = p;
    }
    h[i] = t;
    t.heapIndex = i;
  }

  private down(i: number): void {
    const h = this.heap;
    const n = h.length;
    const t = h[i]!;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      if (c + 1 < n && h[c + 1]!.due < h[c]!.due) c++;
      if (h[c]!.due >= t.due) break;
      h[i] = h[c]!;
      h[i]!.heapIndex = i;
      i = c;
    }
    h[i] = t;
    t.heapIndex = i;
  }
}
