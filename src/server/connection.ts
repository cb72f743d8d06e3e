import type { Socket } from "bun";
import type { WheelEntry } from "../time/index.ts";
import type { CloseReason } from "./config.ts";
import type { RecordState } from "./records.ts";

/** Where a connection is in its life; each step only moves forward. */
export enum Phase {
  /** Echoing. */
  Open,
  /** The peer sent FIN: echo what is buffered, then send ours. */
  PeerEnded,
  /** We are stopping (shutdown): echo up to byte `finAt`, then FIN; later input is discarded. */
  Flushing,
  /** Our FIN is out; waiting for the peer to close. Input is discarded. */
  FinSent,
  Closed,
}

const EMPTY = new Uint8Array(0);

/**
 * Per-connection state (the socket's `data`). The echo queue holds bytes the kernel did not take
 * yet; chunks are Bun's own per-read buffers (a fresh one each `data` event), kept by reference.
 */
export class Connection implements WheelEntry {
  wheelDue = 0;
  wheelNext: WheelEntry | null = null;
  wheelPrev: WheelEntry | null = null;
  wheelSlot = -1;

  phase = Phase.Open;
  reason: CloseReason | null = null;
  errorText: string | null = null;
  bytesIn = 0;
  bytesOut = 0;
  /** Bytes that arrived after we decided to stop echoing (our FIN is out or on its way). */
  discarded = 0;
  /** While Flushing: the stream offset up to which the peer's bytes are echoed before our FIN. */
  finAt = 0;
  /** Bytes waiting in the queue. */
  buffered = 0;
  paused = false;
  lastActive: number;
  /** When Bun's backstop timer was last armed, and for how many seconds (its log line says both). */
  backstopArmedAt = 0;
  backstopSeconds = 0;
  /** Counted in the per-address table (--max-per-ip), so close must uncount it. */
  countedIp = false;
  /** --record framing state; null for a plain echo server. */
  records: RecordState | null = null;

  // Allocated on the first short write: most connections never need one, and an idle
  // connection's footprint is part of what the benchmark holds us to (1.5 KiB).
  private queue: Uint8Array[] | null = null;
  private qHead = 0;
  private headOffset = 0;
  // Built on first use (logging): at warn level they would be two strings per connection for nothing.
  private peerText: string | null = null;
  private tagText: string | null = null;
  // Read from the socket on first use: Bun's remoteAddress and remotePort each cost a getpeername(2)
  // (remotePort on every read; measured 1.5 us each, 2 of the 8 syscalls of a short connection).
  private address: string | null = null;
  private port = 0;

  constructor(
    readonly id: number,
    private readonly tagPrefix: string,
    readonly fd: number,
    readonly openedAt: number,
    readonly socket: Socket<Connection>,
  ) {
    this.lastActive = openedAt;
  }

  /**
   * The peer's address. Read it while the socket is open: once it has closed Bun cannot tell (a
   * reset socket answers undefined), so whatever logs about a connection after its close (the close
   * line, at info) must have read it before (the open line does).
   */
  get remoteAddress(): string {
    return (this.address ??= this.socket.remoteAddress ?? "unknown");
  }

  /** "127.0.0.1:5555" */
  get peer(): string {
    if (this.peerText === null) {
      this.port ||= this.socket.remotePort ?? 0;
      this.peerText = `${this.remoteAddress}:${this.port}`;
    }
    return this.peerText;
  }

  /** "[#12 127.0.0.1:5555]" (or "[w2#12 ...]" in a worker): starts every log line about it. */
  get tag(): string {
    return (this.tagText ??= `[${this.tagPrefix}${this.id} ${this.peer}]`);
  }

  /** Queues `chunk[start, end)` behind whatever is already waiting (kept by reference). */
  enqueue(chunk: Uint8Array, start: number, end: number): void {
    (this.queue ??= []).push(start === 0 && end === chunk.length ? chunk : chunk.subarray(start, end));
    this.buffered += end - start;
  }

  /**
   * Our FIN may go now: everything to echo before it is out, and the peer has ended (PeerEnded)
   * or a graceful stop's cut-off byte has been echoed (Flushing). The one rule for every path
   * that can send it: the peer's FIN, a drain, a read during a stop, the stop itself.
   */
  canSendFin(): boolean {
    return this.buffered === 0 && (this.phase === Phase.PeerEnded || (this.phase === Phase.Flushing && this.bytesIn >= this.finAt));
  }

  /** Still echoing (reading is worth resuming). */
  get echoing(): boolean {
    return this.phase === Phase.Open || this.phase === Phase.Flushing;
  }

  /**
   * Writes queued bytes until the kernel stops taking them. Returns the bytes written; the caller
   * counts them (EchoHandlers.sent, the one place bytes out are counted). `onSent` sees each
   * written slice (debug logs).
   */
  flush(onSent: ((bytes: Uint8Array) => void) | null): number {
    let written = 0;
    const q = this.queue;
    if (!q) return 0;
    while (this.qHead < q.length) {
      const chunk = q[this.qHead]!;
      const len = chunk.length - this.headOffset;
      const n = this.socket.write(chunk, this.headOffset, len);
      if (n <= 0) break;
      if (onSent) onSent(chunk.subarray(this.headOffset, this.headOffset + n));
      written += n;
      if (n < len) {
        this.headOffset += n;
        break;
      }
      q[this.qHead++] = EMPTY;
      this.headOffset = 0;
    }
    if (this.qHead === q.length) {
      q.length = 0;
      this.qHead = 0;
    } else if (this.qHead > 1024) {
      q.splice(0, this.qHead);
      this.qHead = 0;
    }
    this.buffered -= written;
    return written;
  }

  /** Drops whatever could not be echoed (hard close, or a FIN that cannot wait any longer). */
  dropQueue(): number {
    const dropped = this.buffered;
    this.queue = null;
    this.qHead = 0;
    this.headOffset = 0;
    this.buffered = 0;
    return dropped;
  }
}
