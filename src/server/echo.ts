import type { Socket, SocketHandler } from "bun";
import { armQuickAck, closeSocket, readQuickAck, readSocketOptions, unmapIpv4, unreadBytes } from "../net/index.ts";
import { previewRepr } from "../protocol/repr.ts";
import type { LogGate, Logger } from "../log/logger.ts";
import { errorText } from "../log/error-text.ts";
import { writeCloseLine, writeOpenLine } from "./conn-lines.ts";
import type { Clock } from "../time/index.ts";
import type { FaultContext, ToxicSet } from "../faults/index.ts";
import { readTcpInfo, type TcpInfo } from "../net/index.ts";
import { FaultPath } from "./fault-path.ts";
import { Admission } from "./admission.ts";
import type { CloseReason, ListenerProfile } from "./config.ts";
import { Connection, Phase, type ConnectionTag } from "./connection.ts";
import { MAX_READ, type MemoryBudget } from "./memory.ts";
import { feedHeader, newProxyState, pendingBytes, proxiedClient, type ProxyMode } from "./proxy-header.ts";
import { formatProxyDetails, formatProxyEndpoints, proxyHeaderJson } from "../proxy/index.ts";
import { RecordFramer } from "./records.ts";
import type { ServerStats } from "./stats.ts";
import type { RecentCloses } from "./recent-closes.ts";
import { IdleTimeouts } from "./timeouts.ts";
import type { TlsHooks } from "./tls-handshakes.ts";

type Sock = Socket<Connection>;

/** Refused connections logged per second and event (limit, denied); the rest are counted in a summary line. */
export const REFUSAL_LINES_PER_S = 20;

/** What one listener's connection logic works with. */
export interface EchoContext {
  readonly profile: ListenerProfile;
  /** The listener's name, in JSON open/close lines (`listener`). */
  readonly listener: string;
  readonly log: Logger;
  /** This listener's counters. */
  readonly stats: ServerStats;
  /** Bytes held for echo across the process (--max-memory). */
  readonly budget: MemoryBudget;
  readonly clock: Clock;
  /** What goes around connection ids in tags ("#12", "w2#12", "#12@admin"), and whether peers arrive IPv4-mapped. */
  readonly tag: ConnectionTag;
  /** Called at every accept (the accept guard counts descriptors near the limit). */
  readonly onAccept: () => void;
  /** The listener's toxics; changes reach open connections. */
  readonly toxics: ToxicSet;
  /** The process's timer heap and source of chance for toxics. */
  readonly faults: FaultContext;
  /** The process's last closes, for the status page. */
  readonly closes: RecentCloses;
  /** A TLS listener: the handshake comes before the echo (tls-handshakes.ts); null for plain TCP. */
  readonly tls?: TlsHooks | null;
}

/** One open connection as GET /connections shows it. */
export interface ConnectionInfo {
  readonly id: string;
  readonly listener: string;
  /** The TCP peer as the kernel sees it (with PROXY protocol: the load balancer). */
  readonly peer: string;
  /** With PROXY protocol: the client the header named; null otherwise. */
  readonly proxiedSource: string | null;
  readonly phase: string;
  readonly ageMs: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
  /** Bytes waiting to be echoed: in the socket queue, and inside toxics. */
  readonly queued: number;
  readonly heldByToxics: number;
  /** Until the idle timeout (or, after our FIN, the hard close) acts; null without --timeout. */
  readonly timeoutInMs: number | null;
  readonly readingPaused: boolean;
  /** The toxics its toxicity draws gave it. */
  readonly toxics: readonly string[];
  readonly tcp: TcpInfo | null;
  /**
   * The socket, for reading TCP_INFO later in the same turn of the event loop (a connection
   * cannot close in between, so the number cannot be reused); never shown.
   */
  readonly fd: number;
  /** TLS listeners: the handshake's phase, the client's offer and what was negotiated (TlsState.toJSON); null on plain TCP. */
  readonly tls: Record<string, unknown> | null;
}

/** Ranges of one read to echo (record framing), reused: no allocation per read. */
const slices: number[] = [];

/**
 * The connection logic of one listener on Bun.listen's handlers. The data path is one short walk:
 * `data` -> framing (plain, or the record framer's ranges) -> `write`, which keeps what the kernel
 * does not take and pauses reading past --max-buffer or the process's --max-memory. Per chunk: one
 * write, counter updates and a clock read; no allocation unless a write falls short or debug
 * logging is on. It owns its connections' lives: shutdown() resolves when the last one closed.
 */
export class EchoHandlers {
  private nextId = 0;
  /** Open connections, oldest first: a list through the connections themselves, and its length. */
  private first: Connection | null = null;
  private last: Connection | null = null;
  private openCount = 0;
  private readonly maxBuffer: number;
  private readonly quickOn: boolean;
  private readonly quickAlways: boolean;
  private readonly framer: RecordFramer | null;
  private readonly admission: Admission;
  private readonly timeouts: IdleTimeouts;
  /** Connections paused because the memory budget was full; they read again when it has room. */
  private readonly budgetPaused = new Set<Connection>();
  /** Refusals come at the rate peers connect: their lines are bounded (see Logger.gate). */
  private readonly limitGate: LogGate;
  private readonly deniedGate: LogGate;
  private readonly proxyGate: LogGate;
  /** The framing in use, chosen once: 0 plain, 1 records interleaved, 2 records in a stream. */
  private readonly framing: 0 | 1 | 2;
  /** Resolve the promises of shutdown() when the last connection has closed. */
  private allClosed: (() => void)[] = [];
  /** Groups of connections being ended (endConnections), each resolved when its last one closed. */
  private batches: { conns: Set<Connection>; done: () => void }[] = [];
  /** Connections under toxics take this path; the others never look at it. */
  private readonly faultPath: FaultPath;

  constructor(private readonly ctx: EchoContext) {
    const p = ctx.profile;
    this.maxBuffer = p.maxBuffer;
    this.quickOn = p.quickack !== "off";
    this.quickAlways = p.quickack === "always";
    this.framer = p.record ? new RecordFramer(p.record, ctx.log, ctx.stats) : null;
    this.admission = new Admission(p.maxConnections, p.access);
    this.timeouts = new IdleTimeouts(p.timeout, ctx.clock, ctx.stats, ctx.log, {
      idle: (c) => this.idle(c),
      hardClose: (c) => c.socket.terminate(),
      headerTimeout: (c) =>
        c.tls ? this.ctx.tls!.timedOut(c) : this.proxyRefused(c, "timeout", `no complete PROXY header within ${p.proxyTimeout} s`, c.proxy ? pendingBytes(c.proxy) : new Uint8Array(0)),
    });
    this.proxyGate = ctx.log.gate("proxy-error", REFUSAL_LINES_PER_S, "info");
    this.limitGate = ctx.log.gate("limit", REFUSAL_LINES_PER_S, "warn");
    this.deniedGate = ctx.log.gate("denied", REFUSAL_LINES_PER_S, "info");
    this.framing = !p.record ? 0 : p.record.mode === "stream" ? 2 : 1;
    this.faultPath = new FaultPath(ctx, ctx.faults, {
      maxBuffer: this.maxBuffer,
      quickOn: this.quickOn,
      framer: this.framer,
      streamFraming: p.record?.mode === "stream",
      conns: () => this.openConnections(),
      budgetPaused: this.budgetPaused,
      write: (c, b) => void this.write(c.socket, c, b, 0, b.length),
      flush: (c) => this.flush(c),
      sendFin: (c) => this.sendFin(c),
      pause: (c, why) => this.pause(c.socket, c, why),
      resume: (c) => this.resume(c),
      relieveBudget: () => this.relieveBudget(),
    });
    ctx.toxics.onChange = (change) => this.faultPath.apply(change);
  }

  /** Open connections now. */
  get open(): number {
    return this.openCount;
  }

  /** The object given to Bun.listen as `socket`. Methods are bound once, not per event. */
  handlers(): SocketHandler<Connection, "uint8array"> {
    return {
      binaryType: "uint8array",
      open: (s) => this.opened(s),
      data: (s, d) => this.data(s, d),
      drain: (s) => this.drain(s),
      end: (s) => this.end(s),
      close: (s, e) => this.closed(s, e),
      error: (s, e) => this.error(s, e),
      timeout: (s) => s.data && this.timeouts.backstop(s.data),
    };
  }

  /**
   * Graceful stop: every connection echoes what its peer had sent by now, then gets our FIN.
   * Resolves when the last connection has closed (the caller bounds the wait).
   */
  shutdown(): Promise<void> {
    for (const c of this.openConnections()) this.beginShutdown(c);
    if (this.openCount === 0) return Promise.resolve();
    const { promise, resolve } = Promise.withResolvers<void>();
    this.allClosed.push(resolve);
    return promise;
  }

  /**
   * The connections open now end as in a graceful stop; those still open after `graceMs` are
   * reset. Connections accepted later are not touched (a listener disabled and enabled again).
   */
  endConnections(graceMs: number): Promise<void> {
    const batch = new Set(this.openConnections());
    for (const c of batch) this.beginShutdown(c);
    if (batch.size === 0) return Promise.resolve();
    const { promise, resolve } = Promise.withResolvers<void>();
    const timer = setTimeout(() => {
      for (const c of batch) {
        c.reason ??= "shutdown";
        c.socket.terminate();
      }
    }, graceMs);
    this.batches.push({
      conns: batch,
      done: () => {
        clearTimeout(timer);
        resolve();
      },
    });
    return promise;
  }

  /** Hard close (RST) of everyone left: for peers that outlive the shutdown grace period. */
  terminateAll(reason: CloseReason): void {
    for (const c of this.openConnections()) {
      c.reason ??= reason;
      c.socket.terminate();
    }
  }

  /** Stops the timers; called once the listener is done. */
  close(): void {
    this.timeouts.close();
  }

  /** A copy of the list, oldest first: stopping a connection may close it, which unlinks it. */
  private openConnections(): Connection[] {
    const all: Connection[] = [];
    for (let c = this.first; c; c = c.listNext) all.push(c);
    return all;
  }

  /** GET /connections: every open connection, with the kernel's view of it. */
  connections(withTcp = true): ConnectionInfo[] {
    const now = this.ctx.clock.now();
    const timeoutMs = this.ctx.profile.timeout * 1000;
    const out: ConnectionInfo[] = [];
    for (let c = this.first; c; c = c.listNext) {
      const wheel = c.wheelSlot >= 0 ? c.wheelDue - now : null;
      const timeoutIn = c.phase === Phase.Header || c.phase === Phase.FinSent ? wheel : timeoutMs > 0 ? c.lastActive + timeoutMs - now : null;
      out.push({
        id: `${c.id}@${this.ctx.listener}`,
        listener: this.ctx.listener,
        peer: c.proxy?.via ?? c.peer,
        proxiedSource: c.proxy && c.proxy.via !== c.peer ? c.peer : null,
        phase: Phase[c.phase]!,
        ageMs: Math.round(now - c.openedAt),
        bytesIn: c.bytesIn,
        bytesOut: c.bytesOut,
        queued: c.buffered,
        heldByToxics: c.faults?.held ?? 0,
        timeoutInMs: timeoutIn === null ? null : Math.max(0, Math.round(timeoutIn)),
        readingPaused: c.paused,
        toxics: c.faults?.applied() ?? [],
        tcp: withTcp ? readTcpInfo(c.fd) : null,
        fd: c.fd,
        tls: c.tls?.toJSON() ?? null,
      });
    }
    return out;
  }

  /**
   * DELETE /connections/{id}: "fin" ends it as a graceful stop would (what it sent is echoed,
   * then our FIN); "rst" resets it now. false when no such connection is open.
   */
  closeConnection(id: number, how: "fin" | "rst"): boolean {
    for (let c = this.first; c; c = c.listNext) {
      if (c.id !== id) continue;
      c.reason ??= "api";
      if (how === "rst") {
        c.phase = Phase.FinSent;
        c.socket.terminate();
      } else this.beginShutdown(c);
      return true;
    }
    return false;
  }

  private opened(socket: Sock): void {
    const { log, stats, clock } = this.ctx;
    const t = clock.now();
    const c = new Connection(++this.nextId, this.ctx.tag, t, socket);
    socket.data = c;
    stats.accepted++;
    stats.open++;
    c.listPrev = this.last;
    if (this.last) this.last.listNext = c;
    else this.first = c;
    this.last = c;
    this.openCount++;
    this.ctx.onAccept();
    const p = this.ctx.profile;
    const proxy = p.proxyProtocol !== "off";
    // With PROXY protocol the client is known only once its header is in: access rules wait for it.
    const judgeLater = proxy && p.clientIpFrom === "proxy";
    // The peer's address is read (a getpeername(2)) only when an access rule looks at it.
    const refused = judgeLater ? this.admission.limit(stats.open) : this.admission.admit(this.admission.needsAddress ? c.remoteAddress : "", stats.open);
    if (refused) return this.refuse(c, refused.reason, refused.why, refused.fields);
    if (!judgeLater && this.admission.countsPerIp) c.countedIp = true;
    // The recent-closes ring (status page) names every closed connection's peer, which a socket
    // closed before its address was read no longer tells: read it now (one getpeername(2); an IPv4
    // peer is kept as a number), but only in a process with a status page to show it (--api or
    // --metrics).
    if (this.ctx.closes.on) void c.peerHeld;
    // Bun turns TCP_NODELAY on for every accepted socket (measured), so only "off" needs a call.
    if (!this.ctx.profile.nodelay) socket.setNoDelay(false);
    if (this.framer) c.records = this.framer.newState();
    // No TCP_QUICKACK here: a new connection is already in quick-ack mode (it reads back "quick"
    // with --quickack off, tested), and its first segments are ACKed at once anyway (the kernel
    // starts every connection with a quick-ACK budget, tcp_event_data_recv): a syscall for nothing.
    if (proxy) {
      c.proxy = newProxyState(c.peer);
      c.phase = Phase.Header;
      this.timeouts.openedHeader(c, t, p.proxyTimeout * 1000);
      if (this.ctx.toxics.size > 0) this.faultPath.attach(c);
      if (log.debugOn) log.emit("debug", "proxy-wait", `${c.tag} waiting for a PROXY header (${p.proxyProtocol})`, { conn: c.id, peer: c.peer });
      return;
    }
    this.timeouts.opened(c, t);
    if (this.ctx.toxics.size > 0) this.faultPath.attach(c);
    // TLS: the handshake counts against --timeout; the open line comes when it is done.
    if (this.ctx.tls) return this.ctx.tls.begin(c);
    if (log.infoOn) writeOpenLine(log, c, this.ctx.listener);
    if (log.debugOn) this.logAccepted(c);
  }

  private data(socket: Sock, chunk: Uint8Array): void {
    const c = socket.data;
    if (c.phase === Phase.Header) return this.headerData(socket, c, chunk);
    if (c.faults !== null) return this.faultPath.data(c, chunk);
    const n = chunk.length;
    c.bytesIn += n;
    this.ctx.stats.bytesIn += n;
    c.lastActive = this.ctx.clock.now();
    const log = this.ctx.log;
    if (log.debugOn) log.emit("debug", "recv", `${c.tag} recv ${n} B ${previewRepr(chunk)}`, this.chunkFields(c, chunk));
    if (c.phase === Phase.Open) this.consume(socket, c, chunk);
    else if (c.phase === Phase.Flushing) this.consumeUntilFin(socket, c, chunk);
    // Our FIN is out: nothing more can be echoed.
    else c.discarded += n;
  }

  /**
   * --proxy-protocol: the header first. It is read, reported and never echoed; what follows it in
   * the same read is echoed as any data. A bad header refuses the connection without a byte back.
   */
  private headerData(socket: Sock, c: Connection, chunk: Uint8Array): void {
    if (c.tls) return this.helloData(socket, c, chunk);
    const st = c.proxy!;
    const p = this.ctx.profile;
    const step = feedHeader(st, chunk, p.proxyProtocol as Exclude<ProxyMode, "off">);
    if (step.kind === "incomplete") return;
    if (step.kind === "error") return this.proxyRefused(c, step.reason, step.detail, step.seen);
    const h = step.header;
    const stats = this.ctx.stats;
    const key = `${h.version} ${h.command}`;
    stats.proxyHeaders[key] = (stats.proxyHeaders[key] ?? 0) + 1;
    const client = proxiedClient(h);
    // The client the header names is the peer in logs; a LOCAL header (a health check) keeps the real one.
    if (client) c.proxied(unmapIpv4(client.address), client.port);
    if (p.clientIpFrom === "proxy") {
      const refused = this.admission.judge(c.remoteAddress);
      if (refused) return this.refuse(c, refused.reason, refused.why, refused.fields);
      if (this.admission.countsPerIp) c.countedIp = true;
    }
    const t = this.ctx.clock.now();
    c.lastActive = t;
    this.timeouts.headerDone(c, t);
    if (this.ctx.tls) {
      this.ctx.tls.begin(c);
      if (step.rest.length > 0) this.helloData(socket, c, step.rest);
      return;
    }
    c.phase = Phase.Open;
    const log = this.ctx.log;
    if (log.infoOn) {
      const endpoints = formatProxyEndpoints(h);
      log.emit("info", "open", `${c.tag} open ${endpoints ?? ""}${endpoints ? " " : ""}via ${st.via} (${formatProxyDetails(h)})`, {
        conn: c.id,
        peer: c.peer,
        listener: this.ctx.listener,
        via: st.via,
        proxy: proxyHeaderJson(h),
      });
    }
    if (step.rest.length > 0) this.data(socket, step.rest);
  }

  /** TLS listeners: ClientHello bytes until the TLS engine takes the socket (Bun's timer then moves to the new socket). */
  private helloData(socket: Sock, c: Connection, chunk: Uint8Array): void {
    if (this.ctx.tls!.hello(socket, c, chunk)) this.timeouts.socketChanged(c);
  }

  /** A bad or late PROXY header: counted by reason, logged with the first bytes, reset, nothing echoed. */
  private proxyRefused(c: Connection, reason: string, detail: string, seen: Uint8Array): void {
    const stats = this.ctx.stats;
    stats.proxyErrors[reason] = (stats.proxyErrors[reason] ?? 0) + 1;
    c.reason = reason === "timeout" ? "proxy-timeout" : "proxy-error";
    c.phase = Phase.FinSent;
    const log = this.ctx.log;
    if (log.infoOn && this.proxyGate.allow())
      log.emit("info", "proxy-error", `${c.tag} PROXY header refused (${reason}): ${detail}; first bytes ${previewRepr(seen)}`, {
        conn: c.id,
        peer: c.peer,
        listener: this.ctx.listener,
        reason,
        detail,
        preview: previewRepr(seen),
      });
    c.socket.terminate();
  }

  /** One read's echo, by framing: a switch the JIT inlines (a bound function per read showed in CPU profiles, 0.7 % at pp100). */
  private consume(socket: Sock, c: Connection, chunk: Uint8Array): void {
    if (this.framing === 0) this.consumePlain(socket, c, chunk);
    else if (this.framing === 2) this.consumeStream(socket, c, chunk);
    else this.consumeInterleaved(socket, c, chunk);
  }

  /** Plain echo. Quick-ack: the echo carries our ACK when it goes out whole (see README). */
  private consumePlain(socket: Sock, c: Connection, chunk: Uint8Array): void {
    const whole = this.write(socket, c, chunk, 0, chunk.length);
    if (whole ? this.quickAlways : this.quickOn) armQuickAck(c.fd);
  }

  /** --record-mode interleaved: the framer says which ranges are lines (echoed); records are not. */
  private consumeInterleaved(socket: Sock, c: Connection, chunk: Uint8Array): void {
    slices.length = 0;
    let held = this.framer!.interleaved(c, chunk, slices);
    for (let i = 0; i < slices.length; i += 2) if (!this.write(socket, c, chunk, slices[i]!, slices[i + 1]!)) held = true;
    // A record read gets no echo to carry our ACK: a Nagle peer would wait 40 ms for it.
    if (held ? this.quickOn : this.quickAlways) armQuickAck(c.fd);
  }

  /** --record-mode stream: everything echoed, and decoded as records back to back. */
  private consumeStream(socket: Sock, c: Connection, chunk: Uint8Array): void {
    const whole = this.write(socket, c, chunk, 0, chunk.length);
    this.framer!.stream(c, chunk);
    if (whole ? this.quickAlways : this.quickOn) armQuickAck(c.fd);
  }

  /**
   * Echoes chunk[start, end) behind whatever is queued; keeps what the kernel does not take and
   * pauses reading at --max-buffer (or --max-memory). Returns true when all of it went out at once.
   */
  private write(socket: Sock, c: Connection, chunk: Uint8Array, start: number, end: number): boolean {
    const n = end - start;
    if (n === 0) return true;
    let queued = n;
    if (c.buffered === 0) {
      const w = socket.write(chunk, start, n);
      if (w === n) {
        this.sent(c, w, chunk, start);
        return true;
      }
      if (w < 0) return true; // closing; the close handler accounts for it
      if (w > 0) this.sent(c, w, chunk, start);
      queued = n - w;
    }
    c.enqueue(chunk, end - queued, end);
    const budget = this.ctx.budget;
    budget.held += queued;
    if (!c.paused) {
      if (c.buffered >= this.maxBuffer) this.pause(socket, c, "max-buffer");
      else if (budget.over) {
        // The process holds more than --max-memory for echo: whoever queues more waits, in the
        // kernel, until others' echoes have gone out; whoever is echoed at once is not touched.
        this.budgetPaused.add(c);
        budget.pauses++;
        this.pause(socket, c, "max-memory");
      }
    }
    return false;
  }

  /** The one place bytes out are counted: the connection, the listener, the budget, the clock. */
  private sent(c: Connection, n: number, chunk: Uint8Array, start: number): void {
    c.bytesOut += n;
    this.ctx.stats.bytesOut += n;
    const log = this.ctx.log;
    if (log.debugOn) {
      const bytes = chunk.subarray(start, start + n);
      log.emit("debug", "send", `${c.tag} sent ${n} B ${previewRepr(bytes)}`, this.chunkFields(c, bytes));
    }
  }

  /** Writes what is queued; queued bytes going out also free budget and count as activity. */
  private flush(c: Connection): void {
    const log = this.ctx.log;
    const w = c.flush(log.debugOn ? (b) => log.emit("debug", "send", `${c.tag} sent ${b.length} B ${previewRepr(b)}`, this.chunkFields(c, b)) : null);
    if (w > 0) {
      c.lastActive = this.ctx.clock.now();
      c.bytesOut += w;
      this.ctx.stats.bytesOut += w;
      this.ctx.budget.held -= w;
    }
  }

  private pause(socket: Sock, c: Connection, why: "max-buffer" | "max-memory" | "toxic"): void {
    socket.pause();
    c.paused = true;
    this.ctx.stats.pauses++;
    const log = this.ctx.log;
    if (log.debugOn) log.emit("debug", "pause", `${c.tag} reading paused (${why}): ${c.buffered} B wait to be echoed`, { conn: c.id, peer: c.peer, buffered: c.buffered, why });
  }

  private resume(c: Connection): void {
    c.socket.resume();
    c.paused = false;
    this.budgetPaused.delete(c);
    const log = this.ctx.log;
    if (log.debugOn) log.emit("debug", "resume", `${c.tag} reading resumed: ${c.buffered} B wait`, { conn: c.id, peer: c.peer, buffered: c.buffered });
  }

  /** The budget has room again: the connections it paused read again (unless their own queue is full). */
  private relieveBudget(): void {
    const budget = this.ctx.budget;
    if (this.budgetPaused.size === 0 || !budget.relieved) return;
    // As many as the room can take if each reads a whole MAX_READ at once: resuming them all when
    // many peers reset together made the rest read their kernel queues, and RSS doubled.
    let room = budget.room;
    for (const c of [...this.budgetPaused]) {
      if (room < MAX_READ) break;
      // A connection an upstream toxic stalls stays paused: that is the toxic.
      if (c.buffered <= this.maxBuffer >> 1 && c.echoing && !c.faults?.stalled) {
        this.resume(c);
        room -= MAX_READ;
      }
    }
  }

  /** Stopping: echo up to the byte the peer had sent when the stop began, then FIN. */
  private consumeUntilFin(socket: Sock, c: Connection, chunk: Uint8Array): void {
    const before = c.bytesIn - chunk.length;
    const keep = Math.max(0, Math.min(chunk.length, c.finAt - before));
    c.discarded += chunk.length - keep;
    if (keep > 0) this.consume(socket, c, keep === chunk.length ? chunk : chunk.subarray(0, keep));
    if (c.canSendFin()) this.sendFin(c);
  }

  private drain(socket: Sock): void {
    const c = socket.data;
    if (c.faults !== null) return this.faultPath.drain(c);
    if (c.buffered > 0) this.flush(c);
    if (c.canSendFin()) this.sendFin(c);
    else if (c.paused && c.echoing && c.buffered <= this.maxBuffer >> 1 && (c.buffered === 0 || !this.ctx.budget.over)) {
      // Over the budget, a connection whose peer has read everything back holds nothing and may
      // read again: pausing it would wait on others' peers, and a client that reads its
      // connections one after the other would never be served.
      this.resume(c);
    }
    this.relieveBudget();
  }

  /** The peer's FIN (allowHalfOpen): echo everything it sent, then answer with ours. */
  private end(socket: Sock): void {
    const c = socket.data;
    const log = this.ctx.log;
    if (log.debugOn) log.emit("debug", "fin", `${c.tag} peer sent FIN`, { conn: c.id, peer: c.peer, buffered: c.buffered });
    // A FIN before the PROXY header was complete (a TCP health check): nothing to echo.
    if (c.phase === Phase.Header) {
      this.sendFin(c);
      return;
    }
    // Under toxics the FIN travels the upstream chain behind the peer's bytes.
    if (c.faults !== null) return this.faultPath.end(c);
    if (c.phase === Phase.Open) c.phase = Phase.PeerEnded;
    // Flushing: the FIN goes once byte finAt is echoed. FinSent: Bun closes on its own.
    if (c.canSendFin()) this.sendFin(c);
  }

  /** Closed at once, before any byte is echoed: RST, nothing kept. */
  private refuse(c: Connection, reason: "limit" | "denied", why: string, fields: Readonly<Record<string, unknown>>): void {
    c.reason = reason;
    // Anything that still arrives before the close is discarded, never echoed.
    c.phase = Phase.FinSent;
    const log = this.ctx.log;
    if (reason === "limit") {
      if (log.warnOn && this.limitGate.allow()) log.emit("warn", "limit", `${c.tag} refused: ${why}`, { conn: c.id, peer: c.peer, ...fields });
    } else if (log.infoOn && this.deniedGate.allow()) log.emit("info", "denied", `${c.tag} refused: ${why}`, { conn: c.id, peer: c.peer, ...fields });
    c.socket.terminate();
  }

  private closed(socket: Sock, error?: Error): void {
    const c = socket.data;
    if (!c || c.phase === Phase.Closed) return;
    if (c.countedIp) this.admission.release(c.remoteAddress);
    if (error && !c.errorText) this.noteError(c, error);
    const reason: CloseReason = c.reason ?? "peer-closed";
    c.phase = Phase.Closed;
    this.timeouts.closed(c);
    this.budgetPaused.delete(c);
    if (c.buffered > 0) {
      // What was queued for this connection is released with it.
      this.ctx.budget.held -= c.buffered;
      this.relieveBudget();
    }
    this.framer?.closed(c);
    if (c.faults !== null) this.faultPath.closed(c);
    const { stats, log } = this.ctx;
    if (c.listPrev) c.listPrev.listNext = c.listNext;
    else this.first = c.listNext;
    if (c.listNext) c.listNext.listPrev = c.listPrev;
    else this.last = c.listPrev;
    c.listPrev = c.listNext = null;
    this.openCount--;
    stats.open--;
    stats.closed[reason]++;
    const ms = this.ctx.clock.now() - c.openedAt;
    stats.duration.observe(ms / 1000);
    if (this.ctx.closes.on) this.ctx.closes.record(c.id, this.ctx.listener, c.peerHeld, reason, c.toxic && reason === "toxic" ? c.toxic.name : null, c.bytesIn, c.bytesOut, ms, c.errorText);
    if (log.infoOn) writeCloseLine(log, c, this.ctx.listener, reason, ms, c.buffered + c.discarded);
    if (this.allClosed.length > 0 && this.openCount === 0) for (const done of this.allClosed.splice(0)) done();
    if (this.batches.length > 0) this.batchClosed(c);
  }

  private batchClosed(c: Connection): void {
    this.batches = this.batches.filter((b) => {
      if (b.conns.delete(c) && b.conns.size === 0) {
        b.done();
        return false;
      }
      return true;
    });
  }

  private error(socket: Sock, error: Error): void {
    const c = socket.data;
    if (c) this.noteError(c, error);
  }

  /**
   * Graceful stop of one connection: everything the peer sent before this moment is echoed (what
   * we have read, and what still waits unread in the kernel: SIOCINQ says how much), then FIN.
   * Bytes that arrive later were sent after the stop and are discarded.
   */
  private beginShutdown(c: Connection): void {
    // Nothing was echoed to a connection still waiting for its PROXY header: just FIN.
    if (c.phase === Phase.Header) {
      c.reason ??= "shutdown";
      this.sendFin(c);
      return;
    }
    // A peer that already sent its FIN gets ours after the flush anyway.
    if (c.phase !== Phase.Open) return;
    c.reason ??= "shutdown";
    // Over TLS the kernel holds ciphertext, whose plaintext length is unknown: what was decrypted is echoed.
    c.finAt = c.bytesIn + (c.tls ? 0 : unreadBytes(c.fd));
    c.phase = Phase.Flushing;
    if (c.faults !== null) return this.faultPath.beginShutdown(c);
    // Otherwise data() and drain() send the FIN once byte finAt is echoed (resuming if paused).
    if (c.canSendFin()) this.sendFin(c);
  }

  /** Idle timeout: flush what can go, drop the rest (counted as not echoed), FIN. */
  private idle(c: Connection): void {
    c.reason ??= "idle-timeout";
    if (c.buffered > 0) this.flush(c);
    const dropped = c.dropQueue();
    c.discarded += dropped;
    this.ctx.budget.held -= dropped;
    this.sendFin(c);
  }

  /**
   * Our FIN. When the peer has ended (its FIN came, everything before it is echoed), the socket is
   * closed at once, as bare Bun does on a FIN: close(2) for plain TCP (end() costs a
   * setsockopt(TCP_CORK) more per connection, strace), end() under TLS (its close_notify). shutdown() would end the same way one loop turn
   * later (the socket is then shut both ways, epoll reports HUP and Bun closes it), for a syscall,
   * two epoll changes and a wake-up more (strace, connect16); either way the kernel still sends
   * what it holds of our echo before the FIN. Otherwise shutdown(SHUT_WR): a peer that has not
   * ended may still send, and Bun's end() would close the socket at its next byte (measured),
   * resetting it.
   */
  private sendFin(c: Connection): void {
    const log = this.ctx.log;
    if (c.phase === Phase.PeerEnded) {
      c.phase = Phase.FinSent;
      if (log.debugOn) log.emit("debug", "fin-sent", `${c.tag} sent FIN`, { conn: c.id, peer: c.peer });
      if (c.tls) c.socket.end();
      else closeSocket(c.socket);
      return;
    }
    c.phase = Phase.FinSent;
    c.socket.shutdown();
    // Nothing more is echoed, so back-pressure no longer applies: read again (and discard), or a
    // peer whose data our closed window held back could never deliver its FIN, and would be reset.
    if (c.paused) {
      c.paused = false;
      this.budgetPaused.delete(c);
      c.socket.resume();
    }
    if (log.debugOn) log.emit("debug", "fin-sent", `${c.tag} sent FIN`, { conn: c.id, peer: c.peer });
  }

  private noteError(c: Connection, error: Error): void {
    const code = (error as { code?: string }).code;
    c.errorText = errorText(error);
    if (!c.reason) c.reason = code === "ECONNRESET" || code === "EPIPE" ? "reset" : "error";
  }

  private chunkFields(c: Connection, bytes: Uint8Array) {
    return { conn: c.id, peer: c.peer, size: bytes.length, preview: previewRepr(bytes) };
  }

  private logAccepted(c: Connection): void {
    try {
      const o = readSocketOptions(c.fd);
      const quick = readQuickAck(c.fd);
      this.ctx.log.emit(
        "debug",
        "options",
        // TCP_QUICKACK reads the socket's current ack mode (tcp(7)), which is what is shown.
        `${c.tag} kernel options: TCP_NODELAY ${o.nodelay ? "on" : "off"}, ack mode ${quick ? "quick" : "delayed"}, SO_RCVBUF ${o.recvBuf}, SO_SNDBUF ${o.sendBuf}, SO_KEEPALIVE ${o.keepalive ? `on (idle ${o.keepIdle} s, interval ${o.keepInterval} s, count ${o.keepCount})` : "off"}`,
        { conn: c.id, peer: c.peer, nodelay: o.nodelay, ack_mode: quick ? "quick" : "delayed", recv_buf: o.recvBuf, send_buf: o.sendBuf, keepalive: o.keepalive },
      );
    } catch (e) {
      this.ctx.log.emit("debug", "options", `${c.tag} options not readable: ${errorText(e)}`, { conn: c.id, peer: c.peer });
    }
  }
}
