import type { Socket, SocketHandler } from "bun";
import { plural } from "../log/plural.ts";
import { armQuickAck, readQuickAck, readSocketOptions, unreadBytes } from "../net/index.ts";
import { previewRepr } from "../protocol/repr.ts";
import type { LogGate, Logger } from "../log/logger.ts";
import { errorText } from "../log/error-text.ts";
import { Connection, Phase } from "./connection.ts";
import type { CloseReason, ServerConfig } from "./config.ts";
import { DeadlineWheel } from "./deadlines.ts";
import { backstopSeconds } from "./backstop.ts";
import { RecordFramer, type Echoer } from "./records.ts";
import { refusal, type AccessConfig } from "./access.ts";
import type { ServerStats } from "./stats.ts";
import type { MemoryBudget } from "./memory.ts";

type Sock = Socket<Connection>;

/** Shared state of one server's connections. */
export interface EchoContext {
  readonly config: ServerConfig;
  readonly log: Logger;
  readonly stats: ServerStats;
  /** Bytes held for echo across the process (--max-memory). */
  readonly budget: MemoryBudget;
  readonly conns: Set<Connection>;
  /** Called after every close; the server uses it to finish a graceful stop. */
  onClosed: () => void;
}

const now = () => performance.now();

/** Refused connections logged per second and event (limit, denied); the rest are counted in a summary line. */
export const REFUSAL_LINES_PER_S = 20;

/**
 * The connection logic on Bun.listen's handlers. Per chunk: one write, counter updates and a clock
 * read; no allocation unless a write falls short or debug logging is on.
 */
export class EchoHandlers implements Echoer {
  readonly wheel: DeadlineWheel<Connection>;
  private nextId = 0;
  private readonly timeoutMs: number;
  private readonly maxBuffer: number;
  private readonly quickOn: boolean;
  private readonly quickAlways: boolean;
  private readonly framer: RecordFramer | null;
  private readonly tagPrefix: string;
  private readonly access: AccessConfig | null;
  /** Open connections per peer address, for --max-per-ip. */
  private readonly perIp = new Map<string, number>();
  /** Called at every accept (the accept guard counts descriptors near the limit). */
  onAccept: () => void = () => {};
  /** Connections paused because the memory budget was full; they read again when it has room. */
  private readonly budgetPaused = new Set<Connection>();
  /** Refusals come at the rate peers connect: their lines are bounded (see Logger.gate). */
  private readonly limitGate: LogGate;
  private readonly deniedGate: LogGate;
  /** The framing in use, chosen once: plain echo costs nothing for --record. */
  private readonly consume: (socket: Sock, c: Connection, chunk: Uint8Array) => void;

  constructor(private readonly ctx: EchoContext) {
    const cfg = ctx.config;
    this.timeoutMs = cfg.timeout * 1000;
    this.maxBuffer = cfg.maxBuffer;
    this.quickOn = cfg.quickack !== "off";
    this.quickAlways = cfg.quickack === "always";
    this.access = cfg.access;
    this.tagPrefix = cfg.workerId === null ? "#" : `w${cfg.workerId}#`;
    this.framer = cfg.record ? new RecordFramer(cfg.record, ctx.log, ctx.stats) : null;
    this.limitGate = ctx.log.gate("limit", REFUSAL_LINES_PER_S, "warn");
    this.deniedGate = ctx.log.gate("denied", REFUSAL_LINES_PER_S, "info");
    this.consume = (!cfg.record ? this.consumePlain : cfg.record.mode === "stream" ? this.consumeStream : this.consumeInterleaved).bind(this);
    this.wheel = new DeadlineWheel<Connection>(now, (c, t) => this.due(c, t));
  }

  /** The object given to Bun.listen as `socket`. Methods are bound once, not per event. */
  handlers(): SocketHandler<Connection, "uint8array"> {
    return {
      binaryType: "uint8array",
      open: (s) => this.open(s),
      data: (s, d) => this.data(s, d),
      drain: (s) => this.drain(s),
      end: (s) => this.end(s),
      close: (s, e) => this.close(s, e),
      error: (s, e) => this.error(s, e),
      timeout: (s) => this.backstop(s),
    };
  }

  open(socket: Sock): void {
    const { config, log, stats, conns } = this.ctx;
    const t = now();
    // `fd` is not in Bun's types but is there at run time: the FFI module reaches the socket by it.
    const fd = (socket as unknown as { fd: number }).fd;
    const c = new Connection(++this.nextId, socket.remoteAddress, socket.remotePort, this.tagPrefix, fd, t, socket);
    socket.data = c;
    stats.accepted++;
    stats.open++;
    this.onAccept();
    conns.add(c);
    if (config.maxConnections > 0 && stats.open > config.maxConnections) {
      this.refuse(c, "limit", `${plural(stats.open - 1, "connection")} open, --max-connections is ${config.maxConnections}`, { max_connections: config.maxConnections });
      return;
    }
    if (this.access) {
      const why = refusal(this.access, socket.remoteAddress);
      if (why) return this.refuse(c, "denied", why, { rule: why });
      const max = this.access.maxPerIp;
      if (max > 0) {
        const n = this.perIp.get(socket.remoteAddress) ?? 0;
        if (n >= max) return this.refuse(c, "denied", `--max-per-ip ${max}: ${n} open from ${socket.remoteAddress}`, { rule: `--max-per-ip ${max}` });
        this.perIp.set(socket.remoteAddress, n + 1);
        c.countedIp = true;
      }
    }
    // Bun turns TCP_NODELAY on for every accepted socket (measured), so only "off" needs a call.
    if (!config.nodelay) socket.setNoDelay(false);
    if (this.framer) c.records = this.framer.newState();
    if (this.quickOn) armQuickAck(fd);
    if (this.timeoutMs > 0) this.scheduleIdle(c, t + this.timeoutMs);
    // Bun arms a 120 s timer on every accepted socket (measured); with no idle timeout it must not
    // fire, since its handler is our backstop.
    else socket.timeout(0);
    if (log.infoOn) log.info("open", `${c.tag} open`, { conn: c.id, peer: c.peer });
    if (log.debugOn) this.logAccepted(c);
  }

  data(socket: Sock, chunk: Uint8Array): void {
    const c = socket.data;
    const n = chunk.length;
    c.bytesIn += n;
    this.ctx.stats.bytesIn += n;
    c.lastActive = now();
    const log = this.ctx.log;
    if (log.debugOn) log.debug("recv", `${c.tag} recv ${n} B ${previewRepr(chunk)}`, this.chunkFields(c, chunk));
    if (c.phase === Phase.Open) this.consume(socket, c, chunk);
    else if (c.phase === Phase.Flushing) this.consumeUntilFin(socket, c, chunk);
    // Our FIN is out: nothing more can be echoed.
    else c.discarded += n;
  }

  /** Plain echo. Quick-ack: the echo carries our ACK when it goes out whole (see README). */
  private consumePlain(socket: Sock, c: Connection, chunk: Uint8Array): void {
    const whole = this.write(socket, c, chunk, 0, chunk.length);
    if (whole ? this.quickAlways : this.quickOn) armQuickAck(c.fd);
  }

  /** --record-mode interleaved: lines echoed, records decoded and not echoed. */
  private consumeInterleaved(_socket: Sock, c: Connection, chunk: Uint8Array): void {
    const held = this.framer!.interleaved(this, c, chunk);
    // A record read gets no echo to carry our ACK: a Nagle peer would wait 40 ms for it.
    if (held ? this.quickOn : this.quickAlways) armQuickAck(c.fd);
  }

  /** --record-mode stream: everything echoed, and decoded as records back to back. */
  private consumeStream(socket: Sock, c: Connection, chunk: Uint8Array): void {
    const whole = this.write(socket, c, chunk, 0, chunk.length);
    this.framer!.stream(c, chunk);
    if (whole ? this.quickAlways : this.quickOn) armQuickAck(c.fd);
  }

  /** Echoer for the record framer. */
  echoSlice(c: Connection, chunk: Uint8Array, start: number, end: number): boolean {
    return this.write(c.socket, c, chunk, start, end);
  }

  /**
   * Echoes chunk[start, end) behind whatever is queued; keeps what the kernel does not take and
   * pauses reading at --max-buffer. Returns true when all of it went out at once.
   */
  private write(socket: Sock, c: Connection, chunk: Uint8Array, start: number, end: number): boolean {
    const n = end - start;
    if (n === 0) return true;
    if (c.buffered === 0) {
      const w = socket.write(chunk, start, n);
      if (w === n) {
        this.sent(c, w, chunk, start);
        return true;
      }
      if (w < 0) return true; // closing; the close handler accounts for it
      if (w > 0) this.sent(c, w, chunk, start);
      c.enqueue(chunk, start + w, end);
      this.ctx.budget.held += end - start - w;
    } else {
      c.enqueue(chunk, start, end);
      this.ctx.budget.held += n;
    }
    if (!c.paused) {
      const budget = this.ctx.budget;
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

  private pause(socket: Sock, c: Connection, why: "max-buffer" | "max-memory"): void {
    socket.pause();
    c.paused = true;
    this.ctx.stats.pauses++;
    const log = this.ctx.log;
    if (log.debugOn) log.debug("pause", `${c.tag} reading paused (${why}): ${c.buffered} B wait to be echoed`, { conn: c.id, peer: c.peer, buffered: c.buffered, why });
  }

  private resume(c: Connection): void {
    c.socket.resume();
    c.paused = false;
    this.budgetPaused.delete(c);
    const log = this.ctx.log;
    if (log.debugOn) log.debug("resume", `${c.tag} reading resumed: ${c.buffered} B wait`, { conn: c.id, peer: c.peer, buffered: c.buffered });
  }

  /** The budget has room again: the connections it paused read again (unless their own queue is full). */
  private relieveBudget(): void {
    if (this.budgetPaused.size === 0 || !this.ctx.budget.relieved) return;
    for (const c of [...this.budgetPaused]) {
      if (c.buffered <= this.maxBuffer >> 1 && (c.phase === Phase.Open || c.phase === Phase.Flushing)) this.resume(c);
    }
  }

  /** Stopping: echo up to the byte the peer had sent when the stop began, then FIN. */
  private consumeUntilFin(socket: Sock, c: Connection, chunk: Uint8Array): void {
    const before = c.bytesIn - chunk.length;
    const keep = Math.max(0, Math.min(chunk.length, c.finAt - before));
    c.discarded += chunk.length - keep;
    if (keep > 0) this.consume(socket, c, keep === chunk.length ? chunk : chunk.subarray(0, keep));
    if (c.buffered === 0 && c.bytesIn >= c.finAt && c.phase === Phase.Flushing) this.sendFin(c);
  }

  drain(socket: Sock): void {
    const c = socket.data;
    if (c.buffered > 0) this.flush(c);
    if (c.buffered === 0 && (c.phase === Phase.PeerEnded || (c.phase === Phase.Flushing && c.bytesIn >= c.finAt))) {
      this.sendFin(c);
    } else if (c.paused && c.buffered <= this.maxBuffer >> 1 && (c.buffered === 0 || !this.ctx.budget.over) && (c.phase === Phase.Open || c.phase === Phase.Flushing)) {
      // Over the budget, a connection whose peer has read everything back holds nothing and may
      // read again: pausing it would wait on others' peers, and a client that reads its
      // connections one after the other would never be served.
      this.resume(c);
    }
    this.relieveBudget();
  }

  /** The peer's FIN (allowHalfOpen): echo everything it sent, then answer with ours. */
  end(socket: Sock): void {
    const c = socket.data;
    const log = this.ctx.log;
    if (log.debugOn) log.debug("fin", `${c.tag} peer sent FIN`, { conn: c.id, peer: c.peer, buffered: c.buffered });
    if (c.phase === Phase.Open) {
      c.phase = Phase.PeerEnded;
      if (c.buffered === 0) this.sendFin(c);
    }
    // Flushing: drain() sends our FIN when the queue empties. FinSent: Bun closes on its own.
  }

  /** Closed at once, before any byte is echoed: RST, nothing kept. */
  private refuse(c: Connection, reason: "limit" | "denied", why: string, fields: Record<string, unknown>): void {
    c.reason = reason;
    // Anything that still arrives before the close is discarded, never echoed.
    c.phase = Phase.FinSent;
    const log = this.ctx.log;
    if (reason === "limit") {
      if (log.warnOn && this.limitGate.allow()) log.warn("limit", `${c.tag} refused: ${why}`, { conn: c.id, peer: c.peer, ...fields });
    } else if (log.infoOn && this.deniedGate.allow()) log.info("denied", `${c.tag} refused: ${why}`, { conn: c.id, peer: c.peer, ...fields });
    c.socket.terminate();
  }

  close(socket: Sock, error?: Error): void {
    const c = socket.data;
    if (!c || c.phase === Phase.Closed) return;
    if (c.countedIp) {
      const ip = c.remoteAddress;
      const n = (this.perIp.get(ip) ?? 1) - 1;
      if (n > 0) this.perIp.set(ip, n);
      else this.perIp.delete(ip);
    }
    if (error && !c.errorText) this.noteError(c, error);
    const reason: CloseReason = c.reason ?? "peer-closed";
    c.phase = Phase.Closed;
    this.wheel.cancel(c);
    this.budgetPaused.delete(c);
    if (c.buffered > 0) {
      // What was queued for this connection is released with it.
      this.ctx.budget.held -= c.buffered;
      this.relieveBudget();
    }
    this.framer?.closed(c);
    const { stats, conns, log } = this.ctx;
    conns.delete(c);
    stats.open--;
    stats.closed[reason]++;
    const ms = now() - c.openedAt;
    stats.duration.observe(ms / 1000);
    if (log.infoOn) {
      const lost = c.buffered + c.discarded;
      log.info(
        "close",
        `${c.tag} close ${reason}: in ${c.bytesIn} B, out ${c.bytesOut} B, ${ms.toFixed(1)} ms` +
          (lost > 0 ? `, not echoed ${lost} B` : "") +
          (c.errorText ? ` (${c.errorText})` : ""),
        {
          conn: c.id,
          peer: c.peer,
          reason,
          bytes_in: c.bytesIn,
          bytes_out: c.bytesOut,
          not_echoed: lost,
          duration_ms: Math.round(ms * 1000) / 1000,
          error: c.errorText,
        },
      );
    }
    this.ctx.onClosed();
  }

  error(socket: Sock, error: Error): void {
    const c = socket.data;
    if (c) this.noteError(c, error);
  }

  /**
   * Bun's own timeout, armed so that it cannot fire before our deadline plus a margin (see
   * backstop.ts). Firing at all means our wheel did not act in time: a bug, logged as such with
   * both deadlines. A connection whose deadline is still ahead is not cut: Bun's timer is re-armed.
   * One whose deadline passed is handled as the wheel should have handled it.
   */
  backstop(socket: Sock): void {
    const c = socket.data;
    if (!c || c.phase === Phase.Closed) return;
    const t = now();
    const ours = c.wheelSlot >= 0 ? c.wheelDue : null;
    this.ctx.log.error(
      "backstop",
      `${c.tag} bug: Bun's socket timeout fired ${((t - c.backstopArmedAt) / 1000).toFixed(3)} s after it was armed for ${c.backstopSeconds} s; ` +
        (ours === null ? "no deadline of ours was scheduled" : `our deadline is ${((ours - t) / 1000).toFixed(3)} s away`),
      { conn: c.id, peer: c.peer, armed_s: c.backstopSeconds, fired_after_ms: Math.round(t - c.backstopArmedAt), our_deadline_in_ms: ours === null ? null : Math.round(ours - t) },
    );
    if (ours === null) socket.timeout(0);
    else if (ours > t) this.armBackstop(c, ours - t, t);
    else {
      this.wheel.cancel(c);
      this.due(c, t);
    }
  }

  /**
   * Graceful stop of one connection: everything the peer sent before this moment is echoed (what
   * we have read, and what still waits unread in the kernel: SIOCINQ says how much), then FIN.
   * Bytes that arrive later were sent after the stop and are discarded.
   */
  beginShutdown(c: Connection): void {
    // A peer that already sent its FIN gets ours after the flush anyway.
    if (c.phase !== Phase.Open) return;
    c.reason ??= "shutdown";
    c.finAt = c.bytesIn + unreadBytes(c.fd);
    c.phase = Phase.Flushing;
    if (c.buffered === 0 && c.bytesIn >= c.finAt) this.sendFin(c);
    // Otherwise data() and drain() send the FIN once byte finAt is echoed (resuming if paused).
  }

  /** Hard close (RST): for peers that outlive the shutdown grace period. */
  terminate(c: Connection, reason: CloseReason): void {
    if (c.phase === Phase.Closed) return;
    c.reason ??= reason;
    c.socket.terminate();
  }

  private sent(c: Connection, n: number, chunk: Uint8Array, start: number): void {
    c.bytesOut += n;
    this.ctx.stats.bytesOut += n;
    const log = this.ctx.log;
    if (log.debugOn) {
      const bytes = chunk.subarray(start, start + n);
      log.debug("send", `${c.tag} sent ${n} B ${previewRepr(bytes)}`, this.chunkFields(c, bytes));
    }
  }

  private flush(c: Connection): void {
    const log = this.ctx.log;
    const w = c.flush(log.debugOn ? (b) => log.debug("send", `${c.tag} sent ${b.length} B ${previewRepr(b)}`, this.chunkFields(c, b)) : null);
    if (w > 0) {
      c.lastActive = now();
      this.ctx.stats.bytesOut += w;
      this.ctx.budget.held -= w;
    }
  }

  /** shutdown(SHUT_WR): Bun's end() would close the socket at the peer's next byte (measured). */
  private sendFin(c: Connection): void {
    c.phase = Phase.FinSent;
    c.socket.shutdown();
    // Nothing more is echoed, so back-pressure no longer applies: read again (and discard), or a
    // peer whose data our closed window held back could never deliver its FIN, and would be reset.
    if (c.paused) {
      c.paused = false;
      this.budgetPaused.delete(c);
      c.socket.resume();
    }
    const log = this.ctx.log;
    if (log.debugOn) log.debug("fin-sent", `${c.tag} sent FIN`, { conn: c.id, peer: c.peer });
  }

  /** Our deadline, and Bun's timer re-armed behind it (traffic does not reset Bun's timer). */
  private scheduleIdle(c: Connection, due: number): void {
    this.wheel.schedule(c, due);
    const t = now();
    this.armBackstop(c, due - t, t);
  }

  private armBackstop(c: Connection, remainingMs: number, t: number): void {
    const seconds = backstopSeconds(remainingMs);
    c.backstopArmedAt = t;
    c.backstopSeconds = seconds;
    c.socket.timeout(seconds);
  }

  /** The wheel says this connection's deadline may have come. */
  private due(c: Connection, t: number): void {
    if (c.phase === Phase.Closed) return;
    if (c.phase === Phase.FinSent) {
      // One more --timeout went by after our FIN and the peer is still there.
      const log = this.ctx.log;
      if (log.infoOn) log.info("hard-close", `${c.tag} peer did not close within ${this.ctx.config.timeout} s of our FIN; resetting`, { conn: c.id, peer: c.peer });
      c.socket.terminate();
      return;
    }
    const idleDue = c.lastActive + this.timeoutMs;
    if (t < idleDue) {
      this.scheduleIdle(c, idleDue);
      return;
    }
    c.reason ??= "idle-timeout";
    // How late we act, measured now rather than at the tick's start: a tick with many deadlines
    // handles them one after the other (the benchmark holds p99 to 30 ms at 10,000 connections).
    this.ctx.stats.timeoutLateness.observe((now() - idleDue) / 1000);
    const log = this.ctx.log;
    if (log.infoOn)
      log.info("timeout", `${c.tag} idle for ${((t - c.lastActive) / 1000).toFixed(3)} s (--timeout ${this.ctx.config.timeout}); sending FIN`, {
        conn: c.id,
        peer: c.peer,
        idle_ms: Math.round(t - c.lastActive),
        buffered: c.buffered,
      });
    if (c.buffered > 0) this.flush(c);
    const dropped = c.dropQueue();
    c.discarded += dropped;
    this.ctx.budget.held -= dropped;
    this.sendFin(c);
    this.scheduleIdle(c, t + this.timeoutMs);
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
      this.ctx.log.debug(
        "options",
        // TCP_QUICKACK reads the socket's current ack mode (tcp(7)), which is what is shown.
        `${c.tag} kernel options: TCP_NODELAY ${o.nodelay ? "on" : "off"}, ack mode ${quick ? "quick" : "delayed"}, SO_RCVBUF ${o.recvBuf}, SO_SNDBUF ${o.sendBuf}, SO_KEEPALIVE ${o.keepalive ? `on (idle ${o.keepIdle} s, interval ${o.keepInterval} s, count ${o.keepCount})` : "off"}`,
        { conn: c.id, peer: c.peer, nodelay: o.nodelay, ack_mode: quick ? "quick" : "delayed", recv_buf: o.recvBuf, send_buf: o.sendBuf, keepalive: o.keepalive },
      );
    } catch (e) {
      this.ctx.log.debug("options", `${c.tag} options not readable: ${(e as Error).message}`, { conn: c.id, peer: c.peer });
    }
  }
}
