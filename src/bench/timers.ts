// Per-connection timers (paced sends, reconnect back-off, connect-cycle starts, idle opening
// timeouts) on one binary min-heap and one runtime timer, as loadgen.c does with its heap and
// timerfd: no closure or Timer object per event. Each connection has at most one live timer; a
// sequence number makes a cancelled or replaced entry stale instead of searching the heap for it.

export enum TimerKind {
  Reconnect,
  Send,
  Start,
  Timeout,
}

/** What the scheduler needs from a connection. */
export interface Timed {
  readonly index: number;
  timerSeq: number;
}

/**
 * Bun's setTimeout takes whole milliseconds and fires 0.1-0.3 ms late (more on a busy machine),
 * which would show up in paced latencies (measured from the intended send time). So it is armed to
 * fire at least SETTLE_NS early, and the rest is waited out with setImmediate, which lets socket
 * events through on every turn. The cost: above about 1000 msgs/s with --rate the generator is
 * always polling (one core busy).
 */
const SETTLE_NS = 0.5e6;

export class TimerHeap {
  private when = new Float64Array(1024);
  private index = new Int32Array(1024);
  private seq = new Int32Array(1024);
  private kind = new Uint8Array(1024);
  private n = 0;
  private armedFor = Infinity;
  private timeout: ReturnType<typeof setTimeout> | null = null;
  private immediate: ReturnType<typeof setImmediate> | null = null;
  private stopped = false;
  /** Inside `run`: timers set by the callbacks are armed once, when the pass ends. */
  private running = false;
  private readonly tick = () => this.run();

  constructor(
    private readonly conns: readonly Timed[],
    private readonly fire: (conn: number, kind: TimerKind) => void,
    private readonly now: () => number = Bun.nanoseconds,
  ) {}

  /** Replaces `c`'s timer (if any) with one at `when` (nanoseconds on `now`'s clock). */
  set(c: Timed, when: number, kind: TimerKind): void {
    if (this.stopped) return;
    if (this.n === this.when.length) this.grow();
    const seq = ++c.timerSeq | 0;
    c.timerSeq = seq;
    let i = this.n++;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (this.when[p]! <= when) break;
      this.move(p, i);
      i = p;
    }
    this.put(i, when, c.index, seq, kind);
    if (when < this.armedFor && !this.running) this.arm();
  }

  cancel(c: Timed): void {
    c.timerSeq = (c.timerSeq + 1) | 0;
  }

  /** Drops every timer; later `set` calls do nothing. */
  stop(): void {
    this.stopped = true;
    this.n = 0;
    this.disarm();
  }

  private run(): void {
    this.timeout = this.immediate = null;
    this.armedFor = Infinity;
    // Timers due in this pass are fired against one clock reading; any set while firing wait for
    // the next pass, so a zero back-off cannot starve the socket events.
    const t = this.now();
    let budget = this.n;
    this.running = true;
    try {
      while (this.n > 0 && this.when[0]! <= t && budget-- > 0 && !this.stopped) {
        const conn = this.index[0]!;
        const seq = this.seq[0]!;
        const kind = this.kind[0]! as TimerKind;
        this.pop();
        const c = this.conns[conn]!;
        if (c.timerSeq !== seq) continue;
        c.timerSeq = (c.timerSeq + 1) | 0; // consumed
        this.fire(conn, kind);
      }
    } finally {
      this.running = false;
      if (this.n > 0 && !this.stopped) this.arm();
    }
  }

  private arm(): void {
    this.disarm();
    const when = this.when[0]!;
    this.armedFor = when;
    const ms = Math.floor((when - this.now() - SETTLE_NS) / 1e6);
    if (ms < 1) this.immediate = setImmediate(this.tick);
    else this.timeout = setTimeout(this.tick, ms);
  }

  private disarm(): void {
    if (this.timeout) clearTimeout(this.timeout);
    if (this.immediate) clearImmediate(this.immediate);
    this.timeout = this.immediate = null;
    this.armedFor = Infinity;
  }

  private pop(): void {
    const last = --this.n;
    if (last === 0) return;
    const w = this.when[last]!;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      let mw = w;
      if (l < last && this.when[l]! < mw) {
        m = l;
        mw = this.when[l]!;
      }
      if (r < last && this.when[r]! < mw) m = r;
      if (m === i) break;
      this.move(m, i);
      i = m;
    }
    this.move(last, i);
  }

  private move(from: number, to: number): void {
    this.put(to, this.when[from]!, this.index[from]!, this.seq[from]!, this.kind[from]!);
  }

  private put(i: number, when: number, index: number, seq: number, kind: number): void {
    this.when[i] = when;
    this.index[i] = index;
    this.seq[i] = seq;
    this.kind[i] = kind;
  }

  private grow(): void {
    const size = this.when.length * 2;
    const when = new Float64Array(size);
    when.set(this.when);
    this.when = when;
    const index = new Int32Array(size);
    index.set(this.index);
    this.index = index;
    const seq = new Int32Array(size);
    seq.set(this.seq);
    this.seq = seq;
    const kind = new Uint8Array(size);
    kind.set(this.kind);
    this.kind = kind;
  }
}
