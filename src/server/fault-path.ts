import { ConnFaults, type FaultContext, type FaultHost, type Toxic, type ToxicChange } from "../faults/index.ts";
import { armQuickAck } from "../net/index.ts";
import { previewRepr } from "../protocol/repr.ts";
import { Phase, type Connection } from "./connection.ts";
import type { EchoContext } from "./echo.ts";
import type { RecordFramer } from "./records.ts";

/** What the fault path borrows from the echo handlers: their write, FIN and pause rules. */
export interface EchoOps {
  readonly maxBuffer: number;
  readonly quickOn: boolean;
  readonly framer: RecordFramer | null;
  /** --record-mode stream (records echoed) rather than interleaved. */
  readonly streamFraming: boolean;
  /** The open connections, oldest first (a copy). */
  conns(): readonly Connection[];
  readonly budgetPaused: Set<Connection>;
  /** Echoes bytes behind whatever is queued (pauses reading at --max-buffer / --max-memory). */
  write(c: Connection, bytes: Uint8Array): void;
  flush(c: Connection): void;
  sendFin(c: Connection): void;
  pause(c: Connection, why: "max-buffer" | "toxic"): void;
  resume(c: Connection): void;
  relieveBudget(): void;
}

/** Ranges of one read to echo (record framing), reused. */
const slices: number[] = [];

/**
 * The echo path of a connection under toxics. The plain path stays as it is, one `c.faults`
 * check per event away: a read goes into the upstream chain; what comes out is framed as usual
 * and goes into the downstream chain; what comes out of that is written. The peer's FIN and our
 * FIN travel the chains as ends of stream, so a toxic can hold or delay them as toxiproxy's do.
 * Reading pauses while an upstream toxic stalls the reader (the peer's window closes) or the
 * chains and the socket queue hold --max-buffer bytes.
 */
export class FaultPath implements FaultHost<Connection> {
  /** Connections whose FIN came out of the downstream chain while echo bytes still waited in the socket queue. */
  private readonly finQueued = new Set<Connection>();

  constructor(
    private readonly ctx: EchoContext,
    private readonly fctx: FaultContext,
    private readonly ops: EchoOps,
  ) {}

  /** A new connection of a listener with toxics: each toxic's toxicity is drawn for it now. */
  attach(c: Connection): void {
    c.faults = new ConnFaults(c, this, this.fctx, this.ctx.toxics.list());
    this.sync(c);
  }

  /** A toxic added, changed or removed: applied to every open connection (toxiproxy re-links them). */
  apply(change: ToxicChange): void {
    for (const c of this.ops.conns()) {
      if (c.phase === Phase.Closed) continue;
      const f = c.faults;
      if (!f) {
        if (change.op === "add") this.attach(c);
        continue;
      }
      f[change.op](change.toxic);
      this.settled(c);
    }
  }

  data(c: Connection, chunk: Uint8Array): void {
    const n = chunk.length;
    const { stats, log, clock } = this.ctx;
    c.bytesIn += n;
    stats.bytesIn += n;
    c.lastActive = clock.now();
    if (log.debugOn) log.emit("debug", "recv", `${c.tag} recv ${n} B ${previewRepr(chunk)}`, { conn: c.id, peer: c.peer, size: n, preview: previewRepr(chunk) });
    const f = c.faults!;
    if (c.phase === Phase.Open) f.read(chunk);
    else if (c.phase === Phase.Flushing) {
      // A graceful stop echoes up to byte finAt: the cut is made as bytes arrive, before any toxic.
      const keep = Math.max(0, Math.min(n, c.finAt - (c.bytesIn - n)));
      c.discarded += n - keep;
      if (keep > 0) f.read(keep === n ? chunk : chunk.subarray(0, keep));
      if (c.bytesIn >= c.finAt && !f.readEnded) f.readEnd();
    } else c.discarded += n;
    // The echo does not leave with this read, so our ACK would wait (see --quickack).
    if (this.ops.quickOn && c.phase !== Phase.Closed) armQuickAck(c.fd);
    this.settled(c);
  }

  /** The peer's FIN enters the upstream chain behind its bytes. */
  end(c: Connection): void {
    c.faults!.readEnd();
    this.settled(c);
  }

  drain(c: Connection): void {
    if (c.buffered > 0) this.ops.flush(c);
    if (c.buffered === 0 && this.finQueued.delete(c)) this.ops.sendFin(c);
    if (c.faults) this.settled(c);
    this.ops.relieveBudget();
  }

  /** A graceful stop of a connection under toxics: its cut-off enters the upstream chain. */
  beginShutdown(c: Connection): void {
    const f = c.faults!;
    if (c.bytesIn >= c.finAt && !f.readEnded) f.readEnd();
    this.settled(c);
  }

  closed(c: Connection): void {
    this.finQueued.delete(c);
    c.faults!.dispose();
    c.faults = null;
  }

  // --- FaultHost: the ends of the chains ---

  deliver(c: Connection, bytes: Uint8Array): void {
    const f = c.faults!;
    const framer = this.ops.framer;
    if (!framer) return f.echo(bytes);
    if (c.records === null) return;
    if (this.ops.streamFraming) {
      f.echo(bytes);
      framer.stream(c, bytes);
      return;
    }
    slices.length = 0;
    framer.interleaved(c, bytes, slices);
    for (let i = 0; i < slices.length; i += 2) f.echo(bytes.subarray(slices[i]!, slices[i + 1]!));
  }

  deliverEnd(c: Connection): void {
    if (c.phase === Phase.Open) c.phase = Phase.PeerEnded;
    c.faults!.echoEnd();
  }

  write(c: Connection, bytes: Uint8Array): void {
    if (c.phase === Phase.FinSent || c.phase === Phase.Closed) return;
    c.lastActive = this.ctx.clock.now();
    this.ops.write(c, bytes);
  }

  fin(c: Connection): void {
    if (c.phase === Phase.FinSent || c.phase === Phase.Closed) return;
    // A toxic that ends the stream ends the echo: later input is read and discarded.
    if (c.phase === Phase.Open) c.phase = Phase.PeerEnded;
    if (c.buffered === 0) this.ops.sendFin(c);
    else this.finQueued.add(c);
  }

  reset(c: Connection, toxic: Toxic): void {
    if (c.phase === Phase.Closed) return;
    c.reason ??= "toxic";
    c.toxic ??= toxic;
    c.phase = Phase.FinSent;
    c.socket.terminate();
  }

  closing(c: Connection, toxic: Toxic): void {
    c.reason ??= "toxic";
    c.toxic ??= toxic;
  }

  dropped(c: Connection, n: number): void {
    c.discarded += n;
  }

  held(_c: Connection, delta: number): void {
    this.ctx.budget.held += delta;
  }

  settled(c: Connection): void {
    const f = c.faults;
    if (!f || c.phase === Phase.Closed) return;
    // Back on the plain path once no toxic is left and nothing is in flight.
    if (f.empty && !this.finQueued.has(c)) {
      f.dispose();
      c.faults = null;
      // A reader the toxic stalled reads again under the plain path's own rules.
      if (c.paused && c.echoing && c.buffered <= this.ops.maxBuffer >> 1 && !this.ops.budgetPaused.has(c)) this.ops.resume(c);
      return;
    }
    this.sync(c);
  }

  /** Reading paused while an upstream toxic stalls it or too much is held; resumed at half. */
  private sync(c: Connection): void {
    const f = c.faults!;
    // After our FIN, reading goes on (and discards) whatever the toxics say: see sendFin.
    if (c.phase === Phase.FinSent || c.phase === Phase.Closed) return;
    const total = f.held + c.buffered;
    const max = this.ops.maxBuffer;
    if (!c.paused) {
      if (f.stalled) this.ops.pause(c, "toxic");
      else if (total >= max && c.echoing) this.ops.pause(c, "max-buffer");
    } else if (!f.stalled && total <= max >> 1 && !this.ops.budgetPaused.has(c) && c.echoing) this.ops.resume(c);
  }
}
