// What each toxic does to one direction of one connection: toxiproxy's Pipe() loops (toxics/*.go)
// as event-driven stages. Items arrive with push(); whatever waits on time has one entry on the
// process's TimerHeap; an update re-runs the stage with new attributes the way toxiproxy's
// interrupt does (the item in flight goes on at once); release() is removal: everything held
// goes on, in order.
import type { Chain, Item } from "./chain.ts";
import type { Timed } from "./timer-heap.ts";
import type { Toxic } from "./toxics.ts";

export abstract class Stage implements Timed {
  due = 0;
  heapIndex = -1;
  /** Position in its chain. */
  index = 0;

  constructor(
    public toxic: Toxic,
    protected readonly chain: Chain,
  ) {}

  /** Did the toxicity draw give this connection the toxic (false: a pass-through). */
  get applied(): boolean {
    return true;
  }

  /** Upstream: the reader should pause (the peer's window closes). */
  get stalls(): boolean {
    return false;
  }

  /** Holds an end of stream not passed on yet. */
  get holdsEnd(): boolean {
    return false;
  }

  /** Attached to the connection (at its accept, or when the toxic was added). */
  start(_now: number): void {}

  abstract push(item: Item, now: number): void;

  fire(_now: number): void {}

  /** New attributes or toxicity of the same toxic. */
  update(t: Toxic, _now: number): void {
    this.toxic = t;
  }

  /** Removal: everything held goes on now. */
  release(_now: number): void {
    this.cancel();
  }

  dispose(): void {
    this.cancel();
  }

  protected schedule(due: number): void {
    this.chain.owner.heap.schedule(this, due);
  }

  protected cancel(): void {
    this.chain.owner.heap.cancel(this);
  }

  protected emit(item: Item): void {
    this.chain.forward(this, item);
  }

  /** Runs after a timer moved items: the connection re-checks what it holds. */
  protected settle(): void {
    this.chain.owner.settled();
  }
}

/** A toxic whose toxicity draw missed this connection: bytes pass untouched. */
export class PassStage extends Stage {
  override get applied(): boolean {
    return false;
  }
  push(item: Item): void {
    this.emit(item);
  }
}

/** A FIFO of items for stages that hold them. */
abstract class QueueStage extends Stage {
  protected q: Item[] = [];
  protected qt: number[] = [];
  protected qHead = 0;
  /** Bytes held here. */
  held = 0;

  protected get empty(): boolean {
    return this.qHead === this.q.length;
  }

  protected enqueue(item: Item, now: number): void {
    this.q.push(item);
    this.qt.push(now);
    if (item) this.held += item.length;
  }

  /** Takes the head item off (its bytes counted out). */
  protected shift(): Item {
    const item = this.q[this.qHead]!;
    this.q[this.qHead] = null;
    this.qHead++;
    if (item) this.held -= item.length;
    if (this.qHead === this.q.length) {
      this.q.length = 0;
      this.qt.length = 0;
      this.qHead = 0;
    }
    return item;
  }

  override get holdsEnd(): boolean {
    for (let i = this.qHead; i < this.q.length; i++) if (this.q[i] === null) return true;
    return false;
  }

  override release(now: number): void {
    this.cancel();
    this.flushAll(now);
  }

  protected flushAll(_now: number): void {
    while (!this.empty && !this.chain.dead) this.emit(this.shift());
  }
}

/**
 * latency: each item goes on `latency` +/- `jitter` ms after it arrived (latency.go: the delay
 * counts from the chunk's read time), in order: an item never passes the one before it.
 */
export class LatencyStage extends QueueStage {
  push(item: Item, now: number): void {
    this.enqueue(item, now);
    if (this.q.length - this.qHead === 1) this.next(now);
  }

  override fire(now: number): void {
    if (!this.empty) this.emit(this.shift());
    this.next(now);
    this.settle();
  }

  override update(t: Toxic, now: number): void {
    // toxiproxy's interrupt: the item being waited on goes on at once, the rest with the new delay.
    this.toxic = t;
    this.cancel();
    if (!this.empty) this.emit(this.shift());
    this.next(now);
  }

  private next(now: number): void {
    while (!this.empty && !this.chain.dead) {
      const due = this.qt[this.qHead]! + this.delay();
      if (due > now) return this.schedule(due);
      this.emit(this.shift());
    }
  }

  /** latency.go: latency + rand(-jitter, jitter), whole milliseconds; never negative. */
  private delay(): number {
    const { latency, jitter } = this.toxic.attributes as { latency: number; jitter: number };
    return Math.max(0, jitter > 0 ? latency + this.chain.owner.random.int(2 * jitter) - jitter : latency);
  }
}

/**
 * bandwidth: `rate` KB/s (bytes per ms). As bandwidth.go, a chunk goes on when the time its bytes
 * take at the rate has passed, in pieces of at most 100 ms worth; the release clock accumulates
 * exactly while data waits, so neither timer rounding nor late timers drift the rate. Upstream it stalls the reader while more
 * than one piece waits.
 */
export class BandwidthStage extends QueueStage {
  private offset = 0;
  /** When the piece being timed may go (-1: none is). */
  private pieceDue = -1;
  private pieceLen = 0;
  /** The release clock: when the link is free again. */
  private free = 0;

  override get stalls(): boolean {
    return this.held > Math.max(1, this.slice);
  }

  private get slice(): number {
    return this.toxic.attributes.rate! * 100;
  }

  push(item: Item, now: number): void {
    this.enqueue(item, now);
    if (this.pieceDue < 0) this.pump(now);
  }

  override fire(now: number): void {
    this.pump(now);
    this.settle();
  }

  override update(t: Toxic, now: number): void {
    // The interrupted chunk goes on whole; the next ones at the new rate.
    this.toxic = t;
    this.cancel();
    this.pieceDue = -1;
    if (!this.empty) this.emitRest();
    this.pump(now);
  }

  override release(now: number): void {
    this.cancel();
    this.pieceDue = -1;
    if (!this.empty) this.emitRest();
    this.flushAll(now);
  }

  private emitRest(): void {
    const head = this.q[this.qHead]!;
    if (head && this.offset > 0) {
      // Its first `offset` bytes were counted out as they went.
      this.held += this.offset;
      this.shift();
      this.emit(head.subarray(this.offset));
    } else this.emit(this.shift());
    this.offset = 0;
  }

  private pump(now: number): void {
    const rate = this.toxic.attributes.rate!;
    // A piece that follows the one just sent starts when that one's time ended, not when a late
    // timer got round to it: lateness would add up over a long transfer (on a loaded machine 2 s
    // of pieces took 2.12 s). A piece after an idle link starts now.
    let chained = false;
    while (!this.empty && !this.chain.dead) {
      const head = this.q[this.qHead]!;
      if (head === null || rate <= 0) {
        this.emit(this.shift());
        continue;
      }
      if (this.pieceDue < 0) {
        this.pieceLen = Math.min(head.length - this.offset, this.slice);
        this.free = (chained ? this.free : Math.max(this.free, now)) + this.pieceLen / rate;
        this.pieceDue = this.free;
      }
      if (this.pieceDue > now) return this.schedule(this.pieceDue);
      this.pieceDue = -1;
      const piece = head.subarray(this.offset, this.offset + this.pieceLen);
      this.offset += this.pieceLen;
      this.held -= this.pieceLen;
      if (this.offset === head.length) {
        // The bytes of the head were counted out piece by piece.
        this.held += head.length;
        this.shift();
        this.offset = 0;
      }
      this.emit(piece);
      chained = true;
    }
  }
}

/** slow_close: bytes pass; the end of stream waits `delay` ms (slow_close.go). */
export class SlowCloseStage extends Stage {
  private endHeld = false;

  override get holdsEnd(): boolean {
    return this.endHeld;
  }

  push(item: Item, now: number): void {
    if (item !== null) return this.emit(item);
    this.endHeld = true;
    this.schedule(now + this.toxic.attributes.delay!);
  }

  override fire(): void {
    this.endHeld = false;
    this.emit(null);
    this.settle();
  }

  override update(t: Toxic, now: number): void {
    // Re-run: a held end of stream waits the new delay from now.
    this.toxic = t;
    if (this.endHeld) this.schedule(now + t.attributes.delay!);
  }

  override release(): void {
    this.cancel();
    if (this.endHeld) this.fire();
  }
}

/**
 * timeout: nothing passes. With timeout > 0 the stream ends that long after the toxic came to the
 * connection or the last item came to it (timeout.go restarts its timer on every chunk); what it
 * held is dropped. With 0 it holds until removed, and then everything it held goes on (toxiproxy
 * drops it; holding is what lets an endpoint test "the server stopped answering" and then see the
 * answer arrive). Upstream it stalls the reader from the start: the zero-window case.
 */
export class TimeoutStage extends QueueStage {
  private closed = false;

  override get stalls(): boolean {
    return !this.closed;
  }

  override start(now: number): void {
    this.arm(now);
  }

  push(item: Item, now: number): void {
    if (this.closed) {
      if (item) this.chain.drop(item.length);
      return;
    }
    this.enqueue(item, now);
    this.arm(now);
  }

  override fire(): void {
    this.closed = true;
    let dropped = 0;
    while (!this.empty) dropped += this.shift()?.length ?? 0;
    this.chain.drop(dropped);
    this.chain.owner.closedBy(this);
    this.emit(null);
    this.settle();
  }

  override update(t: Toxic, now: number): void {
    this.toxic = t;
    if (!this.closed) this.arm(now);
  }

  private arm(now: number): void {
    const ms = this.toxic.attributes.timeout!;
    if (ms > 0) this.schedule(now + ms);
    else this.cancel();
  }
}

/**
 * reset_peer: the first item that reaches it (bytes or the end of stream) is dropped and starts a
 * `timeout` ms count; then the connection is reset (RST). reset_peer.go's wait cannot be
 * interrupted, so a count that has started ends in the reset even if the toxic is removed.
 */
export class ResetPeerStage extends Stage {
  private triggered = false;

  push(item: Item, now: number): void {
    if (item) this.chain.drop(item.length);
    if (this.triggered) return;
    this.triggered = true;
    const ms = this.toxic.attributes.timeout!;
    if (ms === 0) this.chain.owner.resetBy(this);
    else this.schedule(now + ms);
  }

  override fire(): void {
    this.chain.owner.resetBy(this);
  }

  override update(t: Toxic): void {
    if (!this.triggered) this.toxic = t;
  }

  override release(): void {
    if (this.heapIndex >= 0) this.chain.orphans.push(this);
  }
}

/**
 * slicer: each chunk goes on in pieces of about `average_size` +/- `size_variation` bytes, with
 * `delay` microseconds after each piece (slicer.go's halving cut). Timers have millisecond
 * resolution: pieces due within the same millisecond go out as separate writes at once.
 */
export class SlicerStage extends QueueStage {
  private cuts: number[] | null = null;
  private piece = 0;
  private free = 0;

  push(item: Item, now: number): void {
    this.enqueue(item, now);
    if (this.heapIndex < 0) this.pump(now);
  }

  override fire(now: number): void {
    this.pump(now);
    this.settle();
  }

  override update(t: Toxic, now: number): void {
    this.toxic = t;
    this.cancel();
    this.emitRest();
    this.pump(now);
  }

  override release(now: number): void {
    this.cancel();
    this.emitRest();
    this.flushAll(now);
  }

  /** The rest of a chunk being sliced goes on whole (toxiproxy's interrupt). */
  private emitRest(): void {
    if (this.cuts === null || this.empty) return;
    const head = this.shift()!;
    const from = this.cuts[this.piece]!;
    this.cuts = null;
    this.emit(head.subarray(from));
  }

  private pump(now: number): void {
    const delayMs = this.toxic.attributes.delay! / 1000;
    while (!this.empty && !this.chain.dead) {
      if (this.free > now) return this.schedule(this.free);
      const head = this.q[this.qHead]!;
      if (head === null) {
        this.emit(this.shift());
        continue;
      }
      if (this.cuts === null) {
        this.cuts = this.cut(head.length);
        this.piece = 0;
      }
      const from = this.cuts[this.piece]!;
      const to = this.cuts[++this.piece]!;
      if (this.piece === this.cuts.length - 1) {
        this.cuts = null;
        this.shift();
      }
      this.free = Math.max(this.free, now) + delayMs;
      this.emit(head.subarray(from, to));
    }
  }

  /** Offsets [0, c1, c2, ..., n]: halve a run until it is within average_size + size_variation. */
  private cut(n: number): number[] {
    const { average_size: avg, size_variation: v } = this.toxic.attributes as { average_size: number; size_variation: number };
    const rnd = this.chain.owner.random;
    const out = [0];
    // Depth-first, left before right, as slicer.go's recursion orders its pieces.
    const stack: [number, number][] = [[0, n]];
    while (stack.length > 0) {
      const [start, end] = stack.pop()!;
      if (end - start - avg <= v) {
        out.push(end);
        continue;
      }
      let mid = start + Math.floor((end - start) / 2) + (v > 0 ? rnd.int(2 * v) - v : 0);
      mid = Math.min(end - 1, Math.max(start + 1, mid));
      stack.push([mid, end], [start, mid]);
    }
    return out;
  }
}

/** limit_data: `bytes` pass in all (counted across updates, as limit_data.go's state), then the stream ends. */
export class LimitDataStage extends Stage {
  private passed = 0;
  private closed = false;

  push(item: Item): void {
    if (this.closed) {
      if (item) this.chain.drop(item.length);
      return;
    }
    if (item === null) return this.emit(null);
    const room = Math.max(0, this.toxic.attributes.bytes! - this.passed);
    const n = Math.min(room, item.length);
    this.passed += n;
    if (n < item.length) this.chain.drop(item.length - n);
    if (n > 0) this.emit(n === item.length ? item : item.subarray(0, n));
    if (this.passed >= this.toxic.attributes.bytes! && !this.chain.dead) {
      this.closed = true;
      this.chain.owner.closedBy(this);
      this.emit(null);
    }
  }
}

/** The stage of a toxic, or a pass-through when the toxicity draw missed. */
export function createStage(t: Toxic, chain: Chain, hit: boolean): Stage {
  if (!hit) return new PassStage(t, chain);
  switch (t.type) {
    case "latency":
      return new LatencyStage(t, chain);
    case "bandwidth":
      return new BandwidthStage(t, chain);
    case "slow_close":
      return new SlowCloseStage(t, chain);
    case "timeout":
      return new TimeoutStage(t, chain);
    case "reset_peer":
      return new ResetPeerStage(t, chain);
    case "slicer":
      return new SlicerStage(t, chain);
    case "limit_data":
      return new LimitDataStage(t, chain);
  }
}
