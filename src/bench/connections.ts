import type { Socket, SocketHandler, TCPSocketConnectOptions } from "bun";
import { hostPort } from "../net/index.ts";
import { ProxyHeaderTemplate, TEMPLATE_MAX_LENGTH } from "../proxy/index.ts";
import { settleHandshake, type ServerSession, type TlsSocketView } from "../tls/index.ts";
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
/** --proxy-protocol: payload bytes at most copied behind the header into its write (a slot's lead holds header + this). */
const LEAD_PAYLOAD = 2048;

export const now = Bun.nanoseconds;
const ignore = () => {};
/** Bun's socket errors carry the errno name in `code` ("ECONNREFUSED") and a vaguer message. */
const describe = (e: Error) => (e as Error & { code?: string }).code ?? e.message;

/** What the traffic reports to the run; the run owns phases and counters. */
export interface Tally {
  readonly stopping: boolean;
  error(message: string): void;
  /** `note`: what is known about it (the server echoed the PROXY header). */
  mismatch(note?: string): void;
  /** A message (connect mode: a whole cycle) completed at `t` after `latencyNs`. */
  message(t: number, latencyNs: number): void;
  /** Stream mode: `n` more bytes came back verified. */
  streamed(n: number): void;
  /** Idle mode: every connection is held or has failed. */
  idleSettled(): void;
  /** --proxy-protocol: a socket's header went out whole. */
  proxyHeader(): void;
  /** TLS: a handshake ended (`ok` false: it failed or the certificate did not verify). */
  handshake(session: ServerSession | null, ok: boolean): void;
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
  /** --proxy-protocol: the header of this run's connections, rebuilt only if the local address changes. */
  private template: ProxyHeaderTemplate | null = null;

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
      ...(o.tls ? { handshake: (s: Sock, ok: boolean, err: Error | null) => this.onHandshake(s, ok, err) } : {}),
    };
    // One options object per slot, reused for every reconnect.
    const tls = o.tls ? { tls: o.tls.options } : {};
    this.connectOptions = this.conns.map((c) => ({ hostname: o.host, port: o.port, data: c, socket, ...tls }));
  }

  /** A new socket of `c` is connected and reset: start this mode's traffic on it. */
  protected abstract started(c: Conn): void;
  /** Pingpong with --rate: `c`'s next message is due. */
  protected abstract sendDue(c: Conn): void;
  protected abstract onData(s: Sock, chunk: Buffer): void;
  protected abstract onDrain(s: Sock): void;
  /** The pattern every connection sends (pattern.ts). */
  protected abstract readonly pattern: Buffer;

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

  /** An error (`message`) or a mismatch (null, with a `note` if known): count it, drop the socket, and retry as the mode does. */
  protected fail(c: Conn, message: string | null, note?: string): void {
    if (message === null) this.tally.mismatch(note);
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
    // TLS: the traffic starts once the handshake is done (Bun calls `open` before it).
    if (!this.o.tls) this.activate(c);
  }

  private onHandshake(s: Sock, ok: boolean, err: Error | null): void {
    const c = s.data;
    if (c.socket !== s || c.state !== ConnState.Connecting) return;
    const r = settleHandshake(s as unknown as TlsSocketView, ok, err, this.o.tls!);
    this.tally.handshake(r.session, r.ok);
    if (!r.ok) return this.fail(c, `TLS handshake failed: ${r.session.verifyError ?? (err ? err.message : "unknown")}`);
    this.activate(c);
  }

  private activate(c: Conn): void {
    const s = c.socket!;
    c.state = ConnState.Active;
    c.txOff = c.rxOff = startOffset(c.index, c.cycle);
    c.sent = c.got = c.txTotal = c.rxTotal = 0;
    if (this.o.proxyProtocol === "v1" || this.o.proxyProtocol === "v2") this.prepareHeader(c, s, this.o.proxyProtocol);
    this.started(c);
    // The mode writes nothing yet (a paced first message, an idle connection without exchange):
    // the header goes alone now, as a load balancer sends it before any client byte.
    if (c.leadEnd > 0 && c.leadOff === 0 && c.socket === s) this.writeLead(c, s, 0);
  }

  /** The socket's PROXY header into its slot's lead: its own local address and port, the server's. */
  private prepareHeader(c: Conn, s: Sock, version: "v1" | "v2"): void {
    const local = s.localAddress;
    if (this.template === null || this.template.sourceAddress !== local) {
      this.template = new ProxyHeaderTemplate(version, local, { address: this.o.host, port: this.o.port });
    }
    c.lead ??= Buffer.allocUnsafe(TEMPLATE_MAX_LENGTH + Math.min(this.o.size, LEAD_PAYLOAD));
    c.leadHeader = c.leadEnd = this.template.writeInto(c.lead, 0, s.localPort);
    c.leadOff = 0;
  }

  /**
   * Writes what is unsent of the lead; when nothing of it is sent yet, first copies up to `want`
   * payload bytes (the pattern from txOff) behind the header, so that header and payload leave in
   * one write. Returns the payload bytes written, or -1 when the socket is closed; `leadEnd` is 0
   * once the lead is all out.
   */
  protected writeLead(c: Conn, s: Sock, want: number): number {
    const lead = c.lead!;
    if (c.leadOff === 0 && c.leadEnd === c.leadHeader && want > 0) {
      const k = Math.min(want, lead.length - c.leadHeader);
      this.pattern.copy(lead, c.leadHeader, c.txOff, c.txOff + k);
      c.leadEnd += k;
    }
    const had = c.leadOff;
    const before = Math.max(0, had - c.leadHeader);
    const n = s.write(lead, had, c.leadEnd - had);
    if (n < 0) return -1;
    c.leadOff += n;
    if (had < c.leadHeader && c.leadOff >= c.leadHeader) this.tally.proxyHeader();
    const payload = Math.max(0, c.leadOff - c.leadHeader) - before;
    if (c.leadOff === c.leadEnd) c.leadEnd = c.leadOff = 0;
    return payload;
  }

  /**
   * A mismatch: when this run sends PROXY headers, nothing had come back on this socket yet, and
   * the bytes back begin as its header did (4 bytes at least), the server sent the header back.
   */
  protected mismatchNote(c: Conn, chunk: Uint8Array): string | undefined {
    if (c.leadHeader === 0 || c.lead === null || c.rxOff !== startOffset(c.index, c.cycle)) return undefined;
    const n = Math.min(chunk.length, c.leadHeader);
    if (n < 4) return undefined;
    for (let i = 0; i < n; i++) if (chunk[i] !== c.lead[i]) return undefined;
    return `the server echoed the PROXY ${this.o.proxyProtocol} header: it does not read the PROXY protocol`;
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
    if (this.tally.stopping) return;
    // After a PROXY header and before any byte back: how a server that reads PROXY refuses a header.
    const refused = c.leadHeader > 0 && c.rxOff === startOffset(c.index, c.cycle) ? ` before any byte came back (does the server read PROXY ${this.o.proxyProtocol} headers?)` : "";
    this.fail(c, (e ? `connection failed: ${describe(e)}` : "connection closed by the server") + refused);
  }
}
