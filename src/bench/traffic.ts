import { Conn, ConnState } from "./conn.ts";
import { Connections, now, type Sock, type Tally } from "./connections.ts";
import type { BenchOptions } from "./options.ts";
import { advance, MAX_SPAN, matches, patternBuffer } from "./pattern.ts";
import { TimerKind } from "./timers.ts";

/** Stream mode: bytes written but not yet echoed, per connection (or --size if larger); loadgen's. */
const STREAM_WINDOW_MIN = 256 * 1024;

/**
 * What each mode sends and checks. Per event: a few counter updates, one
 * `write(pattern, offset, length)` or one range `compare`; no allocation.
 */
export class Traffic extends Connections {
  protected readonly pattern = patternBuffer();
  private readonly window: number;

  constructor(o: BenchOptions, tally: Tally, t0: number) {
    super(o, tally, t0);
    this.window = Math.max(STREAM_WINDOW_MIN, o.size);
  }

  protected started(c: Conn): void {
    switch (this.o.mode) {
      case "pingpong":
        this.settle(c);
        return this.pingpongNext(c);
      case "stream":
        this.settle(c);
        return this.streamWrite(c);
      case "connect":
        return this.msgStart(c, c.tStart);
      case "idle":
        return this.o.size > 0 ? this.msgStart(c, now()) : this.hold(c);
    }
  }

  protected sendDue(c: Conn): void {
    if (c.socket && c.state === ConnState.Active && !c.msgActive) this.msgStart(c, c.nextIntended);
  }

  protected onDrain(s: Sock): void {
    const c = s.data;
    if (c.socket !== s || this.tally.stopping) return;
    if (this.o.mode === "stream") this.streamWrite(c);
    else if (c.msgActive && c.sent < this.o.size) this.msgWrite(c);
    // A PROXY header written alone, and not all of it (no message is out yet).
    else if (c.leadEnd > 0 && this.writeLead(c, s, 0) < 0) this.fail(c, "write on a closed connection");
  }

  protected onData(s: Sock, chunk: Buffer): void {
    const c = s.data;
    if (c.socket !== s) return;
    if (c.state === ConnState.Hold) return this.tally.mismatch(); // nothing may arrive on a held connection
    if (this.tally.stopping) return;
    const n = chunk.length;
    if (this.o.mode === "stream") {
      if (c.rxTotal + n > c.txTotal || !matches(this.pattern, chunk, c.rxOff)) return this.fail(c, null, this.mismatchNote(c, chunk));
      c.rxTotal += n;
      c.rxOff = advance(c.rxOff, n);
      this.tally.streamed(n);
      if (!this.tally.stopping) this.streamWrite(c);
      return;
    }
    // More bytes than the message had, or other bytes: the echo cannot be trusted any more.
    if (!c.msgActive || c.got + n > this.o.size || !matches(this.pattern, chunk, c.rxOff)) return this.fail(c, null, this.mismatchNote(c, chunk));
    c.got += n;
    c.rxOff = advance(c.rxOff, n);
    if (c.got === this.o.size && c.sent === this.o.size) this.msgComplete(c);
  }

  private pingpongNext(c: Conn): void {
    if (!this.paced) return this.msgStart(c, now());
    // Behind schedule (a slow echo): send at once, and charge the wait from the intended time.
    if (c.nextIntended <= now()) this.msgStart(c, c.nextIntended);
    else this.timers.set(c, c.nextIntended, TimerKind.Send);
  }

  private msgStart(c: Conn, t: number): void {
    c.tStart = t;
    c.sent = c.got = 0;
    c.msgActive = true;
    this.msgWrite(c);
  }

  /** Writes what is left of the message; the rest goes on `drain` when the kernel takes only part. */
  private msgWrite(c: Conn): void {
    const s = c.socket!;
    const size = this.o.size;
    if (c.leadEnd > 0) {
      // A new socket's PROXY header, with the message's first bytes behind it.
      const p = this.writeLead(c, s, size - c.sent);
      if (p < 0) return void (c.socket === s && this.fail(c, "write on a closed connection"));
      c.sent += p;
      c.txOff = advance(c.txOff, p);
      if (c.leadEnd > 0) return;
    }
    while (c.sent < size) {
      const len = Math.min(size - c.sent, MAX_SPAN);
      const n = s.write(this.pattern, c.txOff, len);
      if (n < 0) return void (c.socket === s && this.fail(c, "write on a closed connection"));
      c.sent += n;
      c.txOff = advance(c.txOff, n);
      if (n < len) return;
    }
  }

  private msgComplete(c: Conn): void {
    const t = now();
    c.msgActive = false;
    switch (this.o.mode) {
      case "pingpong":
        this.tally.message(t, t - c.tStart);
        if (this.paced) c.nextIntended += this.interval;
        if (!this.tally.stopping) this.pingpongNext(c);
        return;
      case "connect":
        this.closeSocket(c);
        c.state = ConnState.None;
        c.cycle++;
        this.tally.message(t, t - c.tStart);
        if (this.tally.stopping) return;
        if (this.paced) {
          c.nextIntended += this.interval;
          if (c.nextIntended > t) return this.timers.set(c, c.nextIntended, TimerKind.Start);
        }
        return this.cycleStart(c);
      case "idle":
        return this.hold(c);
    }
  }

  /** Keeps up to `window` bytes in flight, in writes of at most --size bytes. */
  private streamWrite(c: Conn): void {
    const s = c.socket!;
    if (c.leadEnd > 0) {
      const p = this.writeLead(c, s, Math.min(this.o.size, this.window - (c.txTotal - c.rxTotal)));
      if (p < 0) return void (c.socket === s && this.fail(c, "write on a closed connection"));
      c.txTotal += p;
      c.txOff = advance(c.txOff, p);
      if (c.leadEnd > 0) return;
    }
    for (;;) {
      const room = this.window - (c.txTotal - c.rxTotal);
      if (room <= 0) return;
      const len = Math.min(this.o.size, room, MAX_SPAN);
      const n = s.write(this.pattern, c.txOff, len);
      if (n < 0) return void (c.socket === s && this.fail(c, "write on a closed connection"));
      c.txTotal += n;
      c.txOff = advance(c.txOff, n);
      if (n < len) return;
    }
  }
}
