import type { Random } from "./random.ts";
import type { TimerHeap } from "./timer-heap.ts";
import type { Stage } from "./stages.ts";

/** What travels a chain: bytes, or null for the end of the stream (a FIN, or a toxic's close). */
export type Item = Uint8Array | null;

/** What a chain's stages need from their connection. */
export interface ChainOwner {
  readonly heap: TimerHeap;
  readonly random: Random;
  /** A toxic dropped these bytes (never echoed). */
  dropped(n: number): void;
  /** A toxic ends the stream (its end of stream follows through the rest of the chain). */
  closedBy(stage: Stage): void;
  /** A toxic resets the connection now. */
  resetBy(stage: Stage): void;
  /** A timer moved items: what the connection holds or stalls on may have changed. */
  settled(): void;
}

/**
 * One direction of one connection: toxic stages in the order they were added (toxiproxy's
 * chain), each passing items on to the next, the last to the connection (`end`). Bytes are
 * counted from the moment they enter until they leave or are dropped.
 */
export class Chain {
  readonly stages: Stage[] = [];
  /** Bytes inside the chain. */
  held = 0;
  /** The end of stream went in: nothing more will. */
  ended = false;
  /** The connection is gone: stages stop moving items. */
  dead = false;
  /** Stages taken out that still have a deed pending (a reset_peer already counting down). */
  readonly orphans: Stage[] = [];

  constructor(
    readonly owner: ChainOwner,
    private readonly end: (item: Item) => void,
  ) {}

  push(item: Item): void {
    if (item === null) {
      if (this.ended) return;
      this.ended = true;
    } else this.held += item.length;
    const first = this.stages[0];
    if (first) first.push(item, this.owner.heap.now());
    else this.out(item);
  }

  /** From stage `from` to the next one, or out of the chain. */
  forward(from: Stage, item: Item): void {
    if (this.dead) return;
    const next = this.stages[from.index + 1];
    if (next) next.push(item, this.owner.heap.now());
    else this.out(item);
  }

  /** Bytes a stage drops leave the chain too. */
  drop(n: number): void {
    if (n <= 0) return;
    this.held -= n;
    this.owner.dropped(n);
  }

  /** Upstream: a stage wants reading paused (a stalled or throttled reader). */
  get stalled(): boolean {
    for (const s of this.stages) if (s.stalls) return true;
    return false;
  }

  /** A stage waits on time or holds an end of stream (the idle timeout should not run). */
  get waiting(): boolean {
    for (const s of this.stages) if (s.heapIndex >= 0 || s.holdsEnd) return true;
    return false;
  }

  add(stage: Stage, now: number): void {
    stage.index = this.stages.length;
    this.stages.push(stage);
    stage.start(now);
  }

  /** Takes stage i out: what it holds goes on at once (toxiproxy flushes a removed toxic's buffer). */
  remove(i: number, now: number): Stage {
    const s = this.stages[i]!;
    s.release(now);
    this.stages.splice(i, 1);
    this.stages.forEach((x, j) => (x.index = j));
    return s;
  }

  /** Puts `stage` in place of stage i (a new toxicity draw on update), releasing the old one's items. */
  replace(i: number, stage: Stage, now: number): void {
    this.stages[i]!.release(now);
    stage.index = i;
    this.stages[i] = stage;
    stage.start(now);
  }

  dispose(): void {
    this.dead = true;
    for (const s of this.stages) s.dispose();
    for (const s of this.orphans) s.dispose();
  }

  private out(item: Item): void {
    if (item !== null) this.held -= item.length;
    this.end(item);
  }
}
