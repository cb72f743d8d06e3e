/**
 * Incremental HTTP/1.1 request parser: bytes in, heads and bodies out, no socket. "Incomplete" is
 * a normal answer; a failure is a value (status + reason) after which the parser stays failed,
 * because a stream whose framing is in doubt cannot be resynchronised (RFC 9112 section 6.3).
 *
 * Every check runs at the byte where a byte-by-byte reader would run it, so the outcome does not
 * depend on how the input is split into chunks (the tests feed every split).
 *
 * Line endings (RFC 9112 section 2.2): in the head a bare LF ends a line like CRLF does (the MAY
 * of section 2.2: `printf 'GET / HTTP/1.1\nHost: x\n\n' | nc` works) and a CR anywhere else is a
 * control byte, refused with 400. The chunked framing of a body is strict: CRLF only, since
 * lenient chunk line endings are what request-smuggling chains exploit and no client omits the CR.
 */
import { CR, HEX_VALUE, HTAB, LF, SP } from "./chars.ts";
import { HeadBuilder, failure, parseRequestLine, scanMethod, type ParseFailure, type RequestHead, type RequestLine } from "./head.ts";

export interface ParserLimits {
  /** Request-line plus fields plus line endings (and any empty lines before the request-line). */
  readonly maxHeaderBytes: number;
  /** The decoded body; a larger Content-Length or chunk total gets 413. */
  readonly maxBodyBytes: number;
}

export type ParseStep =
  | { readonly kind: "incomplete" }
  /** A head is complete; call next() again for its body (a body step follows even when empty). */
  | { readonly kind: "head"; readonly head: RequestHead }
  /** The message is complete. */
  | { readonly kind: "body"; readonly body: Uint8Array }
  | ParseFailure;

/** Where the parser is: between messages, inside a head, inside a body. */
export type ParsePhase = "idle" | "head" | "body" | "failed";

const INCOMPLETE: ParseStep = { kind: "incomplete" };
const EMPTY = new Uint8Array(0);
/** A chunk-size line with extensions; longer is not a client we want (RFC 9112 section 7.1.1 sets no bound). */
const MAX_CHUNK_LINE = 4096;

const enum State {
  Head,
  /** Head returned; the next call starts the body. */
  HeadDone,
  Length,
  ChunkSize,
  ChunkData,
  ChunkDataEnd,
  Trailer,
  Failed,
}

export class RequestParser {
  private buf: Buffer = Buffer.alloc(0);
  /** The unconsumed bytes are buf[pos, end). */
  private pos = 0;
  private end = 0;
  /** buf is ours (a copy), so bytes may be appended in place; otherwise it is the caller's chunk. */
  private owned = false;
  private ended = false;
  private state = State.Head;
  private failed: ParseFailure | null = null;

  // Head in progress.
  private headBytes = 0;
  private line: RequestLine | null = null;
  private fields: HeadBuilder | null = null;
  private head: RequestHead | null = null;

  // Body in progress.
  private body: Uint8Array = EMPTY;
  private bodyLen = 0;
  private chunkLeft = 0;
  private trailerBytes = 0;

  constructor(private readonly limits: ParserLimits) {}

  get phase(): ParsePhase {
    if (this.state === State.Failed) return "failed";
    if (this.state === State.Head) return this.headBytes === 0 && this.pos === this.end ? "idle" : "head";
    return "body";
  }

  /** Bytes received and not yet consumed. */
  get buffered(): number {
    return this.end - this.pos;
  }

  /** Adds received bytes. A chunk is kept by reference until it must be merged with a remainder. */
  push(chunk: Uint8Array): void {
    const n = chunk.length;
    if (n === 0 || this.state === State.Failed) return;
    if (this.pos === this.end) {
      this.buf = Buffer.from(chunk.buffer, chunk.byteOffset, n);
      this.pos = 0;
      this.end = n;
      this.owned = false;
      return;
    }
    const have = this.end - this.pos;
    if (this.owned && this.buf.length - this.end >= n) {
      this.buf.set(chunk, this.end);
      this.end += n;
      return;
    }
    const next = Buffer.allocUnsafe(Math.max(2 * (have + n), 4096));
    next.set(this.buf.subarray(this.pos, this.end), 0);
    next.set(chunk, have);
    this.buf = next;
    this.pos = 0;
    this.end = have + n;
    this.owned = true;
  }

  /** The peer will send nothing more: a message cut short becomes a failure. */
  finish(): void {
    this.ended = true;
  }

  /** The next step the bytes so far allow. */
  next(): ParseStep {
    const step = this.step();
    if (step.kind !== "incomplete" || !this.ended || this.phase === "idle") return step;
    return this.fail(400, this.state === State.Head ? "connection closed inside the request head" : "connection closed inside the request body");
  }

  private step(): ParseStep {
    switch (this.state) {
      case State.Head:
        return this.readHead();
      case State.HeadDone:
        return this.startBody();
      case State.Length:
        return this.readLength();
      case State.Failed:
        return this.failed!;
      default:
        return this.readChunked();
    }
  }

  private fail(status: number, reason: string): ParseFailure {
    return this.failWith(failure(status, reason));
  }

  private failWith(f: ParseFailure): ParseFailure {
    this.state = State.Failed;
    this.failed = f;
    this.buf = Buffer.alloc(0);
    this.pos = this.end = 0;
    this.body = EMPTY;
    return f;
  }

  /** The index of the first LF in buf[from, to), or -1. */
  private findLf(from: number, to: number): number {
    const buf = this.buf;
    for (let i = from; i < to; i++) if (buf[i] === LF) return i;
    return -1;
  }

  private readHead(): ParseStep {
    const max = this.limits.maxHeaderBytes;
    for (;;) {
      const start = this.pos;
      // Only a line ending inside the budget counts: the head must end within maxHeaderBytes.
      const window = Math.min(this.end, start + (max - this.headBytes));
      const lf = this.findLf(start, window);
      if (lf < 0) {
        if (this.line === null) {
          const m = scanMethod(this.buf, start, window, false);
          if (typeof m !== "number") return this.failWith(m);
        }
        if (this.end > window) return this.fail(431, `request head larger than ${max} bytes`);
        return INCOMPLETE;
      }
      const lineEnd = lf > start && this.buf[lf - 1] === CR ? lf - 1 : lf;
      this.headBytes += lf + 1 - start;
      this.pos = lf + 1;
      if (this.line === null) {
        // RFC 9112 section 2.2: empty lines before the request-line are skipped (old clients
        // send a CRLF after a POST body); they still count against the head budget.
        if (lineEnd === start) continue;
        const line = parseRequestLine(this.buf, start, lineEnd);
        if ("kind" in line) return this.failWith(line);
        this.line = line;
        this.fields = new HeadBuilder();
        continue;
      }
      if (lineEnd === start) return this.headComplete();
      const bad = this.fields!.addField(this.buf, start, lineEnd);
      if (bad) return this.failWith(bad);
    }
  }

  private headComplete(): ParseStep {
    const head = this.fields!.finish(this.line!, this.limits.maxBodyBytes);
    if ("status" in head) return this.failWith(head);
    this.head = head;
    this.line = null;
    this.fields = null;
    this.headBytes = 0;
    this.state = State.HeadDone;
    return { kind: "head", head };
  }

  private startBody(): ParseStep {
    const framing = this.head!.framing;
    this.head = null;
    this.bodyLen = 0;
    if (framing.kind === "none") return this.complete(EMPTY);
    if (framing.kind === "length") {
      this.body = new Uint8Array(framing.length);
      this.state = State.Length;
      return this.readLength();
    }
    this.body = EMPTY;
    this.state = State.ChunkSize;
    return this.readChunked();
  }

  private complete(body: Uint8Array): ParseStep {
    this.state = State.Head;
    this.body = EMPTY;
    this.bodyLen = 0;
    this.trailerBytes = 0;
    return { kind: "body", body };
  }

  private readLength(): ParseStep {
    const want = this.body.length - this.bodyLen;
    const n = Math.min(want, this.end - this.pos);
    this.body.set(this.buf.subarray(this.pos, this.pos + n), this.bodyLen);
    this.bodyLen += n;
    this.pos += n;
    return this.bodyLen === this.body.length ? this.complete(this.body) : INCOMPLETE;
  }

  /** chunked-body = *chunk last-chunk trailer-section CRLF (RFC 9112 section 7.1). */
  private readChunked(): ParseStep {
    for (;;) {
      switch (this.state) {
        case State.ChunkSize: {
          const lf = this.findLf(this.pos, Math.min(this.end, this.pos + MAX_CHUNK_LINE));
          if (lf < 0) return this.end - this.pos >= MAX_CHUNK_LINE ? this.fail(400, "chunk-size line too long") : INCOMPLETE;
          const bad = this.chunkSize(this.pos, lf);
          if (bad) return bad;
          this.pos = lf + 1;
          break;
        }
        case State.ChunkData: {
          const n = Math.min(this.chunkLeft, this.end - this.pos);
          if (n === 0) return INCOMPLETE;
          this.appendBody(this.pos, n);
          this.pos += n;
          this.chunkLeft -= n;
          if (this.chunkLeft === 0) this.state = State.ChunkDataEnd;
          break;
        }
        case State.ChunkDataEnd: {
          if (this.pos === this.end) return INCOMPLETE;
          if (this.buf[this.pos] !== CR) return this.fail(400, "chunk data not followed by CRLF");
          if (this.pos + 1 === this.end) return INCOMPLETE;
          if (this.buf[this.pos + 1] !== LF) return this.fail(400, "chunk data not followed by CRLF");
          this.pos += 2;
          this.state = State.ChunkSize;
          break;
        }
        case State.Trailer: {
          const step = this.trailerLine();
          if (step) return step;
          break;
        }
        default:
          return INCOMPLETE;
      }
    }
  }

  /**
   * chunk-size [chunk-ext] CRLF, the line buf[start, lf]. Extensions (";name=value", section
   * 7.1.1) are skipped, checked only for control bytes.
   */
  private chunkSize(start: number, lf: number): ParseFailure | null {
    const buf = this.buf;
    if (lf === start || buf[lf - 1] !== CR) return this.fail(400, "chunk-size line not ended by CRLF");
    const end = lf - 1;
    let size = 0;
    let i = start;
    const budget = this.limits.maxBodyBytes - this.bodyLen;
    for (; i < end; i++) {
      const d = HEX_VALUE[buf[i]!]!;
      if (d < 0) break;
      size = size * 16 + d;
      // Checked per digit, so a size of any length never leaves the safe integers.
      if (size > budget) return this.fail(413, `request body larger than ${this.limits.maxBodyBytes} bytes`);
    }
    if (i === start) return this.fail(400, "chunk-size is not a hex number");
    while (i < end && (buf[i] === SP || buf[i] === HTAB)) i++;
    if (i < end) {
      if (buf[i] !== 0x3b) return this.fail(400, "invalid byte after the chunk-size");
      for (; i < end; i++) {
        const b = buf[i]!;
        if (b !== HTAB && (b < 0x20 || b === 0x7f)) return this.fail(400, "control byte in a chunk extension");
      }
    }
    if (size === 0) this.state = State.Trailer;
    else {
      this.chunkLeft = size;
      this.state = State.ChunkData;
      this.reserve(size);
    }
    return null;
  }

  /** One trailer field line, or the empty line that ends the message. Trailers are dropped (RFC 9110 section 6.5.1). */
  private trailerLine(): ParseStep | null {
    const max = this.limits.maxHeaderBytes;
    const window = Math.min(this.end, this.pos + (max - this.trailerBytes));
    const lf = this.findLf(this.pos, window);
    if (lf < 0) return this.end > window ? this.fail(431, `trailer section larger than ${max} bytes`) : INCOMPLETE;
    const start = this.pos;
    if (lf === start || this.buf[lf - 1] !== CR) return this.fail(400, "trailer line not ended by CRLF");
    this.trailerBytes += lf + 1 - start;
    this.pos = lf + 1;
    if (lf - 1 === start) return this.complete(this.body.subarray(0, this.bodyLen));
    const bad = new HeadBuilder().addField(this.buf, start, lf - 1);
    return bad ? this.failWith(bad) : null;
  }

  /** Room for `more` body bytes: doubling, never past maxBodyBytes (already checked). */
  private reserve(more: number): void {
    const need = this.bodyLen + more;
    if (need <= this.body.length) return;
    const size = Math.min(this.limits.maxBodyBytes, Math.max(need, 2 * this.body.length, 1024));
    const next = new Uint8Array(size);
    next.set(this.body.subarray(0, this.bodyLen));
    this.body = next;
  }

  private appendBody(from: number, n: number): void {
    this.body.set(this.buf.subarray(from, from + n), this.bodyLen);
    this.bodyLen += n;
  }
}
