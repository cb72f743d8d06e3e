import type { Clock } from "./clock.ts";

/**
 * One hashed timing wheel for every connection's deadline (idle timeout, hard close). Activity
 * never touches the wheel: a connection only records when it was last active, and when its slot
 * comes round the owner either acts or reschedules it at its real deadline. So a chunk costs no
 * timer work, and a tick costs only the entries in its slot: flat at 10,000 connections.
 */
export interface WheelEntry {
  wheelDue: number;
  wheelNext: WheelEntry | null;
  wheelPrev: WheelEntry | null;
  /** Slot index while scheduled, -1 while not. */
  wheelSlot: number;
}

const TICK_MS = 10;
const SLOTS = 1024;

export class DeadlineWheel<T extends WheelEntry> {
  private readonly heads: (WheelEntry | null)[] = new Array<WheelEntry | null>(SLOTS).fill(null);
  private stopTimer: (() => void) | null = null;
  /** Last tick whose slot was processed. */
  private tick: number;
  private count = 0;

  constructor(
    private readonly clock: Clock,
    private readonly onDue: (entry: T, now: number) => void,
  ) {
    this.tick = Math.floor(clock.now() / TICK_MS);
  }

  get size(): number {
    return this.count;
  }

  /** (Re)schedules `entry` to come due at `due` (ms on the `now` clock). */
  schedule(entry: T, due: number): void {
    if (entry.wheelSlot >= 0) this.unlink(entry);
    // The first tick at or after `due`, and never one already processed.
    const t = Math.max(Math.ceil(due / TICK_MS), this.tick + 1);
    const slot = t % SLOTS;
    entry.wheelDue = due;
    entry.wheelSlot = slot;
    entry.wheelPrev = null;
    const head = this.heads[slot]!;
    entry.wheelNext = head;
    if (head) head.wheelPrev = entry;
    this.heads[slot] = entry;
    if (this.count++ === 0) this.start();
  }

  cancel(entry: T): void {
    if (entry.wheelSlot >= 0) this.unlink(entry);
  }

  /** Stops the timer; scheduled entries stay linked but never come due. */
  close(): void {
    this.stopTimer?.();
    this.stopTimer = null;
  }

  private unlink(entry: WheelEntry): void {
    if (entry.wheelPrev) entry.wheelPrev.wheelNext = entry.wheelNext;
    else this.heads[entry.wheelSlot] = entry.wheelNext;
    if (entry.wheelNext) entry.wheelNext.wheelPrev = entry.wheelPrev;
    entry.wheelNext = entry.wheelPrev = null;
    entry.wheelSlot = -1;
    if (--this.count === 0) this.close();
  }

  private start(): void {
    // Catch up from now: ticks that passed while the wheel was empty hold nothing.
    this.tick = Math.floor(this.clock.now() / TICK_MS);
    this.stopTimer = this.clock.every(TICK_MS, () => this.advance());
  }

  private advance(): void {
    const now = this.clock.now();
    const target = Math.floor(now / TICK_MS);
    // A stalled event loop can skip ticks; walk every missed slot (at most one revolution).
    const from = Math.max(this.tick + 1, target - SLOTS + 1);
    for (let t = from; t <= target && this.stopTimer; t++) {
      this.tick = t;
      const slot = t % SLOTS;
      let e = this.heads[slot] ?? null;
      while (e) {
        const next = e.wheelNext;
        // The slot check guards against an onDue callback that unlinked the entry we saved.
        if (e.wheelSlot === slot && e.wheelDue <= now) {
          this.unlink(e);
          this.onDue(e as T, now);
        }
        e = next;
      }
    }
    this.tick = target;
  }
}
