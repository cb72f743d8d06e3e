import type { Socket } from "bun";
import type { ConnFaults, Toxic } from "../faults/index.ts";
import { hostPort, packedPeerText, peerAddress, socketFd, unmapIpv4 } from "../net/index.ts";
import type { LineBytes } from "../log/line-bytes.ts";
import type { WheelEntry } from "../time/index.ts";
import type { CloseReason } from "./config.ts";
import type { RecordState } from "./records.ts";
import type { ProxyState } from "./proxy-header.ts";
import type { TlsState } from "./tls-state.ts";

/** Where a connection is in its life; each step only moves forward. */
export enum Phase {
  /** Echoing. */
  Open,
  /** The peer sent FIN: echo what is buffered, then send ours. */
  PeerEnded,
  /** Waiting for the PROXY protocol header (--proxy-protocol): nothing is echoed yet. */
  Header,
  /** We are stopping (shutdown): echo up to byte `finAt`, then FIN; later input is discarded. */
  Flushing,
  /** Our FIN is out; waiting for the peer to close. Input is discarded. */
  FinSent,
  Closed,
}

const EMPTY = new Uint8Array(0);

/**
 * What a listener gives each of its connections, one object shared by all of them: what goes
 * around the id in its tag, and how its peer's address reads.
 */
export interface ConnectionTag {
  /** "#", or "w2#" in worker 2. */
  readonly prefix: string;
  /** "", or "@admin" when the process has several listeners. */
  readonly suffix: string;
  /** An IPv6 listener: an IPv4 peer of a dual-stack socket arrives IPv4-mapped and is shown (and matched) as IPv4. */
  readonly v6: boolean;
}

/**
 * What most connections never need: an echo queue (a short write), why and how it ended (a
 * timeout, a stop, an error, a refusal, a toxic), PROXY protocol and toxics state, the per-address
 * count. Kept off the Connection so that an idle connection costs its few hot fields only (JSC
 * stores every field of a class instance inline, in size classes).
 */
class Extra {
  /** --record framing state. */
  records: RecordState | null = null;
  reason: CloseReason | null = null;
  errorText: string | null = null;
  /** Bytes that arrived after we decided to stop echoing (our FIN is out or on its way). */
  discarded = 0;
  /** While Flushing: the stream offset up to which the peer's bytes are echoed before our FIN. */
  finAt = 0;
  /** Reading is paused (back-pressure); only ever with bytes queued. */
  paused = false;
  /** Counted in the per-address table (--max-per-ip), so close must uncount it. */
  countedIp = false;
  /** --proxy-protocol state. */
  proxy: ProxyState | null = null;
  /** TLS listeners: the handshake and its outcome. */
  tls: TlsState | null = null;
  /** The TCP socket's descriptor, kept once a TLS socket is made of it (-1: read it from the socket). */
  fd = -1;
  /** The client a PROXY header named (see proxied()); null: the TCP peer. */
  address: string | null = null;
  port = 0;
  /** Its toxics while its listener has any. */
  faults: ConnFaults<Connection> | null = null;
  /** The toxic that ended it (reason "toxic"), named in the close line. */
  toxic: Toxic | null = null;
  queue: Uint8Array[] | null = null;
  qHead = 0;
  headOffset = 0;
}

/**
 * Per-connection state (the socket's `data`). The echo queue holds bytes the kernel did not take
 * yet; chunks are Bun's own per-read buffers (a fresh one each `data` event), kept by reference.
 * Its size is most of what tcp-echo adds per idle connection to Bun's own (bench: idle): JSC
 * stores a class instance's fields inline in size classes (measured: 13-18 fields take 160 B,
 * 19-26 take 224, 30 took 256), so it holds 18 and the rest lives in an Extra made on first need.
 */
export class Connection implements WheelEntry {
  wheelDue = 0;
  wheelNext: WheelEntry | null = null;
  wheelPrev: WheelEntry | null = null;
  wheelSlot = -1;
  /** The listener's list of open connections (a Set cost 52 B per entry, measured; these 16). */
  listPrev: Connection | null = null;
  listNext: Connection | null = null;

  phase = Phase.Open;
  bytesIn = 0;
  bytesOut = 0;
  /** Bytes waiting in the queue. */
  buffered = 0;
  lastActive: number;
  /** When Bun's backstop timer was last armed (for as long as the wheel's deadline then needed). */
  backstopArmedAt = 0;
  private extra: Extra | null = null;
  // Read on first use: Bun's remoteAddress and remotePort each cost a getpeername(2) (remotePort
  // on every read; measured 1.5 us each, 2 of the 8 syscalls of a short connection). An IPv4
  // peer stays a number (peerAddress) until something asks for its text: the open and close
  // lines write it as digits.
  private peerName: string | number | null = null;

  constructor(
    readonly id: number,
    private readonly tagParts: ConnectionTag,
    readonly openedAt: number,
    /** The plain socket, then on a TLS listener the TLS socket Bun made of it (upgradeTLS). */
    public socket: Socket<Connection>,
  ) {
    this.lastActive = openedAt;
  }

  /** The descriptor (the FFI calls reach the socket by it); read from Bun's socket, not kept. */
  get fd(): number {
    const x = this.extra;
    return x !== null && x.fd >= 0 ? x.fd : socketFd(this.socket);
  }

  private get more(): Extra {
    return (this.extra ??= new Extra());
  }

  /** --record framing state; null for a plain echo server. */
  get records(): RecordState | null {
    return this.extra?.records ?? null;
  }
  set records(r: RecordState | null) {
    this.more.records = r;
  }
  get reason(): CloseReason | null {
    return this.extra?.reason ?? null;
  }
  set reason(r: CloseReason | null) {
    this.more.reason = r;
  }
  get errorText(): string | null {
    return this.extra?.errorText ?? null;
  }
  set errorText(t: string | null) {
    this.more.errorText = t;
  }
  /** Bytes that arrived after we decided to stop echoing (our FIN is out or on its way). */
  get discarded(): number {
    return this.extra?.discarded ?? 0;
  }
  set discarded(n: number) {
    this.more.discarded = n;
  }
  /** While Flushing: the stream offset up to which the peer's bytes are echoed before our FIN. */
  get finAt(): number {
    return this.extra?.finAt ?? 0;
  }
  set finAt(n: number) {
    this.more.finAt = n;
  }
  /** Reading is paused (back-pressure). */
  get paused(): boolean {
    return this.extra?.paused ?? false;
  }
  set paused(p: boolean) {
    this.more.paused = p;
  }
  /** Counted in the per-address table (--max-per-ip), so close must uncount it. */
  get countedIp(): boolean {
    return this.extra?.countedIp ?? false;
  }
  set countedIp(b: boolean) {
    this.more.countedIp = b;
  }
  /** --proxy-protocol state; null on listeners without it. */
  get proxy(): ProxyState | null {
    return this.extra?.proxy ?? null;
  }
  set proxy(p: ProxyState | null) {
    this.more.proxy = p;
  }
  /** TLS listeners: the handshake and its outcome (set once the ClientHello is awaited, while the
   * socket is still the TCP one, whose descriptor is kept: the TLS socket made of it replaces it). */
  get tls(): TlsState | null {
    return this.extra?.tls ?? null;
  }
  set tls(t: TlsState | null) {
    const x = this.more;
    if (t !== null && x.fd < 0) x.fd = socketFd(this.socket);
    x.tls = t;
  }
  /**
   * Its toxics while its listener has any; null on the plain path. Every event tests it: with no
   * Extra that is one load and a null test, as a field of its own would be.
   */
  get faults(): ConnFaults<Connection> | null {
    const x = this.extra;
    return x === null ? null : x.faults;
  }
  set faults(f: ConnFaults<Connection> | null) {
    this.more.faults = f;
  }
  /** The toxic that ended it (reason "toxic"), named in the close line. */
  get toxic(): Toxic | null {
    return this.extra?.toxic ?? null;
  }
  set toxic(t: Toxic | null) {
    this.more.toxic = t;
  }

  /**
   * The peer's address: the TCP peer, or the client a PROXY header named. The TCP peer's is read
   * from the socket while it is open: Bun keeps the address once read, but a socket that closed
   * before it was read answers undefined. The close line (info) has the peer because the open line
   * read it (peerName); --max-per-ip and access rules read the address at open (tested).
   */
  get remoteAddress(): string {
    const named = this.extra?.address;
    if (named != null) return named;
    const a = this.socket.remoteAddress ?? "unknown";
    return this.tagParts.v6 ? unmapIpv4(a) : a;
  }

  /** Read anew from the socket each time (undefined once it closed). */
  get remotePort(): number {
    const x = this.extra;
    return x !== null && x.address !== null ? x.port : (this.socket.remotePort ?? 0);
  }

  /** The PROXY header named the client: it is the peer in logs (and for access rules if so set). */
  proxied(address: string, port: number): void {
    const x = this.more;
    x.address = address;
    x.port = port;
    this.peerName = null;
  }

  /** The peer as held: text, or an IPv4 peer's number (peerAddress), read now if not yet. */
  get peerHeld(): string | number {
    return (this.peerName ??= this.readPeer());
  }

  /** "127.0.0.1:5555", "[::1]:5555" */
  get peer(): string {
    const p = this.peerHeld;
    return typeof p === "number" ? (this.peerName = packedPeerText(p)) : p;
  }

  private readPeer(): string | number {
    const x = this.extra;
    if (x !== null && x.address !== null) return hostPort(x.address, x.port);
    // One getpeername(2) rather than Bun's two (remoteAddress, remotePort): at info the open line
    // reads it for every connection (connect16: 2 of its syscalls). Only while Bun's socket is
    // open (its fd reads -1 once closed): a kept TLS descriptor could by then be another socket's.
    const fd = socketFd(this.socket);
    const peer = fd >= 0 ? peerAddress(x !== null && x.fd >= 0 ? x.fd : fd, this.tagParts.v6) : null;
    return peer ?? hostPort(this.remoteAddress, this.remotePort);
  }

  /**
   * "[#12 127.0.0.1:5555]" ("[w2#12 ...]" in a worker, "[#12@admin ...]" with several listeners):
   * starts every log line about it. Built per line, not kept: a field more would move every
   * connection up a size class.
   */
  get tag(): string {
    return `[${this.tagParts.prefix}${this.id}${this.tagParts.suffix} ${this.peer}]`;
  }

  /** The tag, written as bytes (the open and close lines: conn-lines.ts). */
  writeTag(w: LineBytes): void {
    w.ascii("[");
    w.say(this.tagParts.prefix);
    w.uint(this.id);
    w.say(this.tagParts.suffix);
    w.ascii(" ");
    this.writePeer(w);
    w.ascii("]");
  }

  /** The peer, written as bytes: an IPv4 peer from its number, without a string. */
  writePeer(w: LineBytes): void {
    const p = this.peerHeld;
    if (typeof p !== "number") return w.say(p);
    const ip = Math.floor(p / 65536);
    w.uint(ip >>> 24);
    w.ascii(".");
    w.uint((ip >>> 16) & 255);
    w.ascii(".");
    w.uint((ip >>> 8) & 255);
    w.ascii(".");
    w.uint(ip & 255);
    w.ascii(":");
    w.uint(p % 65536);
  }

  /** An upper bound on the characters of the tag (and of the peer). */
  get tagLength(): number {
    const p = this.peerHeld;
    return this.tagParts.prefix.length + this.tagParts.suffix.length + (typeof p === "number" ? 21 : p.length) + 20;
  }

  /** Queues `chunk[start, end)` behind whatever is already waiting (kept by reference). */
  enqueue(chunk: Uint8Array, start: number, end: number): void {
    (this.more.queue ??= []).push(start === 0 && end === chunk.length ? chunk : chunk.subarray(start, end));
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
    const x = this.extra;
    const q = x?.queue;
    if (!x || !q) return 0;
    let written = 0;
    while (x.qHead < q.length) {
      const chunk = q[x.qHead]!;
      const len = chunk.length - x.headOffset;
      const n = this.socket.write(chunk, x.headOffset, len);
      if (n <= 0) break;
      if (onSent) onSent(chunk.subarray(x.headOffset, x.headOffset + n));
      written += n;
      if (n < len) {
        x.headOffset += n;
        break;
      }
      q[x.qHead++] = EMPTY;
      x.headOffset = 0;
    }
    if (x.qHead === q.length) {
      q.length = 0;
      x.qHead = 0;
    } else if (x.qHead > 1024) {
      q.splice(0, x.qHead);
      x.qHead = 0;
    }
    this.buffered -= written;
    return written;
  }

  /** Drops whatever could not be echoed (hard close, or a FIN that cannot wait any longer). */
  dropQueue(): number {
    const dropped = this.buffered;
    const x = this.extra;
    if (x) {
      x.queue = null;
      x.qHead = 0;
      x.headOffset = 0;
    }
    this.buffered = 0;
    return dropped;
  }
}
