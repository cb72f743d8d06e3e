import type { Socket, SocketHandler, TCPSocketConnectOptions } from "bun";
import { hostPort } from "../net/index.ts";
import { Conn, ConnState } from "./conn.ts";
import type { BenchOptions } from "./options.ts";
import { startOffset } from "./pattern.ts";
import { TimerHeap, TimerKind } from "./timers.ts";

export type Sock = Socket<Conn>;

// As in loadgen.c.
/** Handshakes in flight while the connections of pingpong/stream/idle are opened. */
const MAX_OPENING = 128;
/** Wait before reconnecting after an error (a mismatch reconnects at once). */
const BACKOFF_NS = 10e6;
/** Idle mode: opening plus the one exchange must finish within this. */
const IDLE_OPEN_TIMEOUT_NS = 10e9;

export const now = Bun.nanoseconds;
const ignore = () => {};
/** Bun's socket errors carry the errno name in `code` ("ECONNREFUSED") and a vaguer message. */
const describe = (e: Error) => (e as Error & { code?: string }).code ?? e.message;

/** What the traffic reports to the run; the run owns phases and counters. */
export interface Tally {
  readonly stopping: boolean;
  error(message: string): void;
  mismatch(): void;
  /** A message (connect mode: a whole cycle) completed at `t` after `latencyNs`. */
  message(t: number, latencyNs: number): void;
  /** Stream mode: `n` more bytes came back verified. */
  streamed(n: number): void;
  /** Idle mode: every connection is held or has failed. */
  idleSettled(): void;
}

/**
 * The life of the connection slots, as in loadgen.c: opening (at most MAX_OPENING handshakes at
 * once), failure (an error or a mismatch closes the socket; the slot reconnects with a new stream,
 * or in idle mode is done), timers, and the socket events that are not about payload. What each
 * mode sends and checks is in traffic.ts.
 */
export abstract class Connections {
  readonly conns: Conn[];
  /** Sockets open now. */
  open = 0;
  /** Idle mode: connections held now; exchanges completed. */
  held = 0;
  exchanges = 0;
  private settled = 0;
  private opening = 0;
  private nextOpen = 0;
  protected readonly timers: TimerHeap;
  private readonly connectOptions: TCPSocketConnectOptions<Conn>[];
  protected readonly paced: boolean;
  /** With --rate: nanoseconds between two messages of one connection. */
  protected readonly interval: number;

  constructor(
    protected readonly o: BenchOptions,
    protected readonly tally: Tally,
    t0: number,
  ) {
    this.paced = o.rate !== null;
    this.interval = o.rate === null ? 0 : (o.connections * 1e9) / o.rate;
    this.conns = Array.from({ length: o.connections }, (_, i) => new Conn(i));
    // Connections are staggered over one interval, so the total rate is even from the start.
    for (const c of this.conns) c.nextIntended = t0 + (this.interval * c.index) / o.connections;
    this.timers = new TimerHeap(this.conns, (i, kind) => this.fire(this.conns[i]!, kind));
    const socket: SocketHandler<Conn> = {
      open: (s) => this.onOpen(s),
      connectError: (s, e) => this.onConnectError(s, e),
      data: (s, d) => this.onData(s, d),
      drain: (s) => this.onDrain(s),
      close: (s, e) => this.onClose(s, e),
      error: ignore, // `close` follows, with the error
    };
    // One options object per slot, reused for every reconnect.
    this.connectOptions = this.conns.map((c) => ({ hostname: o.host, port: o.port, data: c, socket }));
  }

  /** A new socket of `c` is connected and reset: start this mode's traffic on it. */
  protected abstract started(c: Conn): void;
  /** Pingpong with --rate: `c`'s next message is due. */
  protected abstract sendDue(c: Conn): void;
  protected abstract onData(s: Sock, chunk: Buffer): void;
  protected abstract onDrain(s: Sock): void;

  start(): void {
    if (this.o.mode !== "connect") return this.ramp();
    const t = now();
    for (const c of this.conns) {
      if (this.paced && c.nextIntended > t) this.timers.set(c, c.nextIntended, TimerKind.Start);
      else this.cycleStart(c);
    }
  }

  /** Stops every timer and closes every socket. */
  closeAll(): void {
    this.timers.stop();
    for (const c of this.conns) this.closeSocket(c);
  }

  private ramp(): void {
    while (this.opening < MAX_OPENING && this.nextOpen < this.conns.length && !this.tally.stopping) {
      const c = this.conns[this.nextOpen++]!;
      c.initial = true;
      this.opening++;
      this.connect(c);
    }
  }

  /** An initial opening has finished, either way: let the next one start. */
  protected settle(c: Conn): void {
    if (!c.initial) return;
    c.initial = false;
    this.opening--;
    this.ramp();
  }

  private connect(c: Conn): void {
    c.state = ConnState.Connecting;
    c.msgActive = false;
    // A failure arrives in `connectError`; the rejected promise carries nothing more.
    Bun.connect(this.connectOptions[c.index]!).catch(ignore);
    if (this.o.mode === "idle" && c.initial) this.timers.set(c, now() + IDLE_OPEN_TIMEOUT_NS, TimerKind.Timeout);
  }

  /** Connect mode: one connect, exchange, close cycle. */
  protected cycleStart(c: Conn): void {
    if (this.tally.stopping) return;
    c.tStart = this.paced ? c.nextIntended : now();
    this.connect(c);
  }

  protected closeSocket(c: Conn): void {
    const s = c.socket;
    if (!s) return;
    c.socket = null; // before end(): its close event is then ignored as stale
    this.open--;
    s.end();
  }

  /** An error (`message`) or a mismatch (null): count it, drop the socket, and retry as the mode does. */
  protected fail(c: Conn, message: string | null): void {
    if (message === null) this.tally.mismatch();
    else this.tally.error(message);
    const wasMessage = c.msgActive;
    this.closeSocket(c);
    c.msgActive = false;
    c.cycle++;
    this.timers.cancel(c);
    this.settle(c);
    if (this.tally.stopping) return;
    const retry = now() + (message === null ? 0 : BACKOFF_NS);
    switch (this.o.mode) {
      case "pingpong":
        if (this.paced && wasMessage) c.nextIntended += this.interval; // that message is lost
        c.state = ConnState.None;
        return this.timers.set(c, retry, TimerKind.Reconnect);
      case "stream":
        c.state = ConnState.None;
        return this.timers.set(c, retry, TimerKind.Reconnect);
      case "connect":
        c.state = ConnState.None;
        if (this.paced) c.nextIntended += this.interval;
        return this.timers.set(c, this.paced ? Math.max(retry, c.nextIntended) : retry, TimerKind.Start);
      case "idle":
        c.state = ConnState.Failed;
        return this.slotDone();
    }
  }

  /** Idle mode: `c`'s exchange is done (or there is none); keep it open until the end. */
  protected hold(c: Conn): void {
    this.timers.cancel(c);
    c.state = ConnState.Hold;
    this.held++;
    this.exchanges++;
    this.settle(c);
    this.slotDone();
  }

  private slotDone(): void {
    if (++this.settled === this.conns.length) this.tally.idleSettled();
  }

  private fire(c: Conn, kind: TimerKind): void {
    if (this.tally.stopping) return;
    switch (kind) {
      case TimerKind.Reconnect:
        return this.connect(c);
      case TimerKind.Send:
        return this.sendDue(c);
      case TimerKind.Start:
        return this.cycleStart(c);
      case TimerKind.Timeout:
        if (c.state === ConnState.Connecting) this.fail(c, "connect timed out (10 s)");
        else if (c.state === ConnState.Active) this.fail(c, "no echo within 10 s of connecting");
        return;
    }
  }

  private onOpen(s: Sock): void {
    const c = s.data;
    if (this.tally.stopping || c.state !== ConnState.Connecting) return void s.end(); // abandoned attempt
    c.socket = s;
    this.open++;
    s.setNoDelay(true);
    c.state = ConnState.Active;
    c.txOff = c.rxOff = startOffset(c.index, c.cycle);
    c.sent = c.got = c.txTotal = c.rxTotal = 0;
    this.started(c);
  }

  private onConnectError(s: Sock, e: Error): void {
    const c = s.data;
    if (this.tally.stopping || c.state !== ConnState.Connecting) return;
    this.fail(c, `connect ${hostPort(this.o.host, this.o.port)} failed: ${describe(e)}`);
  }

  private onClose(s: Sock, e: Error | undefined): void {
    const c = s.data;
    if (c.socket !== s) return;
    c.socket = null;
    this.open--;
    if (c.state === ConnState.Hold) {
      // Idle mode: the server closing a held connection is what this mode observes, not an error.
      c.state = ConnState.Closed;
      this.held--;
      return;
    }
    if (!this.tally.stopping) this.fail(c, e ? `connection failed: ${describe(e)}` : "connection closed by the server");
  }
}
