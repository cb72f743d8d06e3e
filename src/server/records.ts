import { formatChars, jsonValues, reprValues, type StructCodec } from "../protocol/struct/index.ts";
import { bytesRepr } from "../protocol/repr.ts";
import type { LogGate, Logger } from "../log/logger.ts";
import type { RecordConfig } from "./config.ts";
import type { Connection } from "./connection.ts";
import type { ServerStats } from "./stats.ts";

/** Record lines logged per second; the rest are counted in one `suppressed` line per second. */
export const RECORD_LINES_PER_S = 200;

/** The longest line of the interleaved framing; a longer run is cut here (issue 4). */
export const MAX_LINE = 1024;

/** Per-connection framing state ("not enough bytes yet" is a normal state, not an error). */
export class RecordState {
  /** Interleaved: inside a record (true) or a line (false). */
  inRecord = false;
  lineLength = 0;
  /** Bytes of the current record so far, gathered across reads. */
  readonly buf: Uint8Array;
  have = 0;
  seq = 0;

  constructor(size: number) {
    this.buf = new Uint8Array(size);
  }
}

/**
 * Splits a connection's inbound stream into lines and records and decodes the records. One per
 * listener; the per-connection part is RecordState. It decides and does no I/O: it says which
 * ranges of a read to echo, and the echo handlers write them. Only used when --record is given,
 * so a plain echo server never runs any of it.
 */
export class RecordFramer {
  private readonly codec: StructCodec;
  private readonly size: number;
  private readonly chars: string[];
  /** A peer sends records at any rate; their lines are bounded (Logger.gate). */
  private readonly gate: LogGate;

  constructor(
    config: RecordConfig,
    private readonly log: Logger,
    private readonly stats: ServerStats,
  ) {
    this.codec = config.codec;
    this.size = config.codec.size;
    this.chars = formatChars(config.codec);
    this.gate = log.gate("record", RECORD_LINES_PER_S, "info");
  }

  newState(): RecordState {
    return new RecordState(this.size);
  }

  /**
   * Interleaved framing: a line (through `\n`, at most MAX_LINE bytes) is echoed as its bytes
   * arrive; then exactly `size` bytes of one record are decoded and not echoed. Appends the ranges
   * of `chunk` to echo to `echo` as start, end pairs (an array the caller reuses) and returns true
   * when some of this read is a record's (no echo will carry our ACK for it: quick-ack matters).
   */
  interleaved(c: Connection, chunk: Uint8Array, echo: number[]): boolean {
    const r = c.records!;
    const n = chunk.length;
    let held = false;
    let i = 0;
    while (i < n) {
      if (!r.inRecord) {
        const limit = Math.min(n, i + (MAX_LINE - r.lineLength));
        const nl = chunk.indexOf(0x0a, i);
        const end = nl >= 0 && nl < limit ? nl + 1 : limit;
        echo.push(i, end);
        r.lineLength += end - i;
        i = end;
        if (chunk[end - 1] === 0x0a || r.lineLength >= MAX_LINE) {
          r.inRecord = true;
          r.lineLength = 0;
        }
      } else {
        held = true;
        i = this.gather(c, r, chunk, i);
        if (r.have === 0) r.inRecord = false;
      }
    }
    return held;
  }

  /** Stream framing: everything is echoed (by the caller); records are decoded back to back. */
  stream(c: Connection, chunk: Uint8Array): void {
    const r = c.records!;
    for (let i = 0; i < chunk.length; ) i = this.gather(c, r, chunk, i);
  }

  /** Logs a record cut short by the end of the connection. */
  closed(c: Connection): void {
    const r = c.records;
    if (!r || r.have === 0) return;
    this.stats.partialRecords++;
    if (this.log.infoOn)
      this.log.info("partial-record", `${c.tag} closed inside record #${r.seq + 1}: ${r.have} of ${this.size} B arrived ${bytesRepr(r.buf, 0, r.have)}`, {
        conn: c.id,
        peer: c.peer,
        seq: r.seq + 1,
        got: r.have,
        size: this.size,
      });
  }

  /** Takes bytes of the current record from chunk[i..]; decodes it when complete. Returns the new i. */
  private gather(c: Connection, r: RecordState, chunk: Uint8Array, i: number): number {
    const size = this.size;
    // A whole record inside this read: decode it in place, no copy.
    if (r.have === 0 && chunk.length - i >= size) {
      this.record(c, r, chunk, i);
      return i + size;
    }
    const take = Math.min(chunk.length - i, size - r.have);
    r.buf.set(chunk.subarray(i, i + take), r.have);
    r.have += take;
    if (r.have === size) {
      r.have = 0;
      this.record(c, r, r.buf, 0);
    }
    return i + take;
  }

  private record(c: Connection, r: RecordState, bytes: Uint8Array, offset: number): void {
    r.seq++;
    this.stats.records++;
    // Decoding is only for the log: with info off (or the line suppressed) a record is just counted.
    if (!this.log.infoOn || !this.gate.allow()) return;
    const values = this.codec.decode(bytes, offset);
    const repr = reprValues(values, this.chars);
    this.log.info("record", `${c.tag} record #${r.seq} ${repr}`, {
      conn: c.id,
      peer: c.peer,
      seq: r.seq,
      format: this.codec.format,
      values: jsonValues(values),
      repr,
    });
  }
}
