import { Chain, type ChainOwner, type Item } from "./chain.ts";
import type { Random } from "./random.ts";
import { createStage, type Stage } from "./stages.ts";
import type { TimerHeap } from "./timer-heap.ts";
import type { Toxic } from "./toxics.ts";

/**
 * What a connection under toxics does at the ends of its two chains. The engine never touches a
 * socket: the echo server implements this on Bun's sockets, the engine's tests on a recorder.
 */
export interface FaultHost<C> {
  /** Upstream out: bytes the peer sent, now handed to the echo logic (framing, then echo()). */
  deliver(c: C, bytes: Uint8Array): void;
  /** Upstream out: the peer's end of stream (its FIN, or a toxic that ended the stream). */
  deliverEnd(c: C): void;
  /** Downstream out: echo bytes for the socket. */
  write(c: C, bytes: Uint8Array): void;
  /** Downstream out: our FIN, once what was written before it is out. */
  fin(c: C): void;
  /** A toxic resets the connection now (RST). */
  reset(c: C, toxic: Toxic): void;
  /** A toxic ended the stream: it names the connection's close. */
  closing(c: C, toxic: Toxic): void;
  /** Bytes a toxic dropped: never echoed. */
  dropped(c: C, n: number): void;
  /** Bytes held by the chains changed by `delta` (the process's memory budget counts them). */
  held(c: C, delta: number): void;
  /** After a timer moved items: what the connection holds or stalls on may have changed. */
  settled(c: C): void;
}

/** Shared by every connection of a process: one timer structure, one source of chance. */
export interface FaultContext {
  readonly heap: TimerHeap;
  readonly random: Random;
}

/**
 * One connection's toxics: the upstream chain (bytes read from the peer, before the echo logic
 * sees them) and the downstream chain (the echo, before the socket). Each toxic of the listener
 * is a stage of its stream's chain; the toxicity draw decides, per connection, whether it acts.
 */
export class ConnFaults<C> implements ChainOwner {
  readonly up: Chain;
  readonly down: Chain;
  readonly heap: TimerHeap;
  readonly random: Random;
  private lastHeld = 0;

  constructor(
    private readonly owner: C,
    private readonly host: FaultHost<C>,
    ctx: FaultContext,
    toxics: readonly Toxic[],
  ) {
    this.heap = ctx.heap;
    this.random = ctx.random;
    this.up = new Chain(this, (item) => this.upOut(item));
    this.down = new Chain(this, (item) => this.downOut(item));
    const now = this.heap.now();
    for (const t of toxics) this.chainOf(t).add(this.stage(t), now);
    this.settle();
  }

  /** Bytes inside the chains now. */
  get held(): number {
    return this.up.held + this.down.held;
  }

  /** Reading should pause: an upstream toxic stalls the reader. */
  get stalled(): boolean {
    return this.up.stalled;
  }

  /** A toxic holds bytes, an end of stream, or a timer for this connection. */
  get busy(): boolean {
    return this.held > 0 || this.up.waiting || this.down.waiting;
  }

  /** No stage left: the connection can go back to the plain path. */
  get empty(): boolean {
    return this.up.stages.length === 0 && this.down.stages.length === 0 && this.held === 0 && !this.busy;
  }

  /** The toxics this connection drew (toxicity), in chain order. */
  applied(): string[] {
    return [...this.up.stages, ...this.down.stages].filter((s) => s.applied).map((s) => s.toxic.name);
  }

  /** Bytes read from the peer. */
  read(bytes: Uint8Array): void {
    this.up.push(bytes);
    this.settle();
  }

  /** The peer's FIN (or the cut-off of a graceful stop). */
  readEnd(): void {
    this.up.push(null);
    this.settle();
  }

  get readEnded(): boolean {
    return this.up.ended;
  }

  /** Echo bytes the echo logic chose (called from deliver). */
  echo(bytes: Uint8Array): void {
    if (bytes.length > 0) this.down.push(bytes);
  }

  /** Our FIN, behind the echo (called once the peer's end came out upstream). */
  echoEnd(): void {
    this.down.push(null);
  }

  add(t: Toxic): void {
    this.chainOf(t).add(this.stage(t), this.heap.now());
    this.settle();
  }

  /** New attributes or toxicity: a new toxicity draw, as toxiproxy's re-run of the toxic. */
  update(t: Toxic): void {
    const chain = this.chainOf(t);
    const i = chain.stages.findIndex((s) => s.toxic.name === t.name);
    if (i < 0) return;
    const s = chain.stages[i]!;
    const hit = this.draw(t);
    const now = this.heap.now();
    if (hit && s.applied) s.update(t, now);
    else if (hit || s.applied) chain.replace(i, createStage(t, chain, hit), now);
    else s.toxic = t;
    this.settle();
  }

  remove(t: Toxic): void {
    const chain = this.chainOf(t);
    const i = chain.stages.findIndex((s) => s.toxic.name === t.name);
    if (i >= 0) chain.remove(i, this.heap.now());
    this.settle();
  }

  /** The connection closed: timers are cancelled, what the chains held is let go. */
  dispose(): void {
    this.up.dispose();
    this.down.dispose();
    if (this.lastHeld !== 0) this.host.held(this.owner, -this.lastHeld);
    this.lastHeld = 0;
  }

  // --- ChainOwner ---

  dropped(n: number): void {
    this.host.dropped(this.owner, n);
  }

  closedBy(stage: Stage): void {
    this.host.closing(this.owner, stage.toxic);
  }

  resetBy(stage: Stage): void {
    if (this.up.dead) return;
    this.host.reset(this.owner, stage.toxic);
  }

  settled(): void {
    this.settle();
    if (!this.up.dead) this.host.settled(this.owner);
  }

  private settle(): void {
    const held = this.held;
    if (held !== this.lastHeld && !this.up.dead) {
      this.host.held(this.owner, held - this.lastHeld);
      this.lastHeld = held;
    }
  }

  private chainOf(t: Toxic): Chain {
    return t.stream === "upstream" ? this.up : this.down;
  }

  private draw(t: Toxic): boolean {
    // toxic.go: rand.Float32() < toxicity, so 1 always applies and 0 never does.
    return t.toxicity >= 1 || (t.toxicity > 0 && this.random.next() < t.toxicity);
  }

  private stage(t: Toxic): Stage {
    return createStage(t, this.chainOf(t), this.draw(t));
  }

  private upOut(item: Item): void {
    if (item === null) this.host.deliverEnd(this.owner);
    else this.host.deliver(this.owner, item);
  }

  private downOut(item: Item): void {
    if (item === null) this.host.fin(this.owner);
    else this.host.write(this.owner, item);
  }
}
