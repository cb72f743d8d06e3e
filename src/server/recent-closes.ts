import { packedPeerText } from "../net/index.ts";
import type { CloseReason } from "./config.ts";

/** One closed connection, as the status page lists it. */
export interface CloseRecord {
  /** Order of the close in this process, from 1: readers ask for what came after the last they saw. */
  readonly seq: number;
  /** Wall-clock time of the close (ms since the epoch). */
  readonly at: number;
  /** "12@main", as in GET /connections. */
  readonly id: string;
  readonly listener: string;
  readonly peer: string;
  readonly reason: CloseReason;
  /** The toxic that ended it (reason "toxic"); null otherwise. */
  readonly toxic: string | null;
  readonly bytesIn: number;
  readonly bytesOut: number;
  readonly durationMs: number;
  readonly error: string | null;
}

interface Slot {
  seq: number;
  at: number;
  conn: number;
  listener: string;
  /** As the connection held it: text, or an IPv4 peer's number (packedPeerText), made text when read. */
  peer: string | number;
  reason: CloseReason;
  toxic: string | null;
  bytesIn: number;
  bytesOut: number;
  durationMs: number;
  error: string | null;
}

/**
 * The last `capacity` closes of a process (capacity 0: none kept, for a process with no status page). Written once per close, from the close handler: the
 * slots are allocated up front and overwritten in place, and the id and an IPv4 peer's text are
 * only built when a reader asks, so a connect-and-close flood costs field stores, not garbage.
 */
export class RecentCloses {
  private readonly slots: Slot[];
  private last = 0;

  constructor(readonly capacity = 500) {
    this.slots = Array.from({ length: capacity }, () => ({ seq: 0, at: 0, conn: 0, listener: "", peer: "", reason: "peer-closed", toxic: null, bytesIn: 0, bytesOut: 0, durationMs: 0, error: null }));
  }

  /** The seq of the latest close (0 before the first). */
  get latest(): number {
    return this.last;
  }

  /** Whether closes are kept: the caller then needs each connection's peer before it closes. */
  get on(): boolean {
    return this.capacity > 0;
  }

  record(conn: number, listener: string, peer: string | number, reason: CloseReason, toxic: string | null, bytesIn: number, bytesOut: number, durationMs: number, error: string | null): void {
    if (this.capacity === 0) return;
    const seq = ++this.last;
    const s = this.slots[seq % this.capacity]!;
    s.seq = seq;
    s.at = Date.now();
    s.conn = conn;
    s.listener = listener;
    s.peer = peer;
    s.reason = reason;
    s.toxic = toxic;
    s.bytesIn = bytesIn;
    s.bytesOut = bytesOut;
    s.durationMs = durationMs;
    s.error = error;
  }

  /** The closes after `seq` still held (at most `limit`, the newest), oldest first. */
  since(seq: number, limit = this.capacity): CloseRecord[] {
    const from = Math.max(seq + 1, this.last - Math.min(limit, this.capacity) + 1, 1);
    const out: CloseRecord[] = [];
    for (let n = from; n <= this.last; n++) {
      const s = this.slots[n % this.capacity]!;
      out.push({ seq: s.seq, at: s.at, id: `${s.conn}@${s.listener}`, listener: s.listener, peer: typeof s.peer === "number" ? packedPeerText(s.peer) : s.peer, reason: s.reason, toxic: s.toxic, bytesIn: s.bytesIn, bytesOut: s.bytesOut, durationMs: s.durationMs, error: s.error });
    }
    return out;
  }
}
