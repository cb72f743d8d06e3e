import type { Logger } from "../log/logger.ts";
import { DeadlineWheel, type Clock } from "../time/index.ts";
import { backstopSeconds } from "./backstop.ts";
import { Phase, type Connection } from "./connection.ts";
import type { ServerStats } from "./stats.ts";

/** What the idle timeout does to a connection; the echo handlers do it. */
export interface TimeoutActions {
  /** Idle too long: flush what can go, drop the rest, send FIN. */
  idle(c: Connection): void;
  /** Our FIN has been out for one more timeout and the peer is still there: RST. */
  hardClose(c: Connection): void;
  /** The PROXY header did not come complete in time. */
  headerTimeout(c: Connection): void;
}

/**
 * The idle timeout of one listener's connections: one deadline wheel, and Bun's coarse socket
 * timer kept only as a backstop behind it (see backstop.ts). Traffic never touches the wheel: a
 * connection only stamps `lastActive`, and when its slot comes round it is either timed out or
 * moved to its real deadline.
 */
export class IdleTimeouts {
  private readonly wheel: DeadlineWheel<Connection>;
  private readonly timeoutMs: number;

  constructor(
    private readonly timeout: number,
    private readonly clock: Clock,
    private readonly stats: ServerStats,
    private readonly log: Logger,
    private readonly actions: TimeoutActions,
  ) {
    this.timeoutMs = timeout * 1000;
    this.wheel = new DeadlineWheel<Connection>(clock, (c, t) => this.due(c, t));
  }

  /** A new connection: its first deadline; with no idle timeout, Bun's own 120 s timer is disarmed
   * (Bun arms it on every accepted socket, measured, and its handler is our backstop). */
  opened(c: Connection, t: number): void {
    if (this.timeoutMs > 0) this.schedule(c, t + this.timeoutMs);
    else c.socket.timeout(0);
  }

  /** A connection that must first send its PROXY header: a deadline for that, then the idle one. */
  openedHeader(c: Connection, t: number, ms: number): void {
    this.schedule(c, t + ms);
  }

  /** The header is in: from now on the idle timeout (or none). */
  headerDone(c: Connection, t: number): void {
    if (this.timeoutMs > 0) this.schedule(c, t + this.timeoutMs);
    else {
      this.wheel.cancel(c);
      c.socket.timeout(0);
    }
  }

  /** The connection's socket was replaced (a TLS upgrade): Bun's timer does not follow, so it is armed on the new one. */
  socketChanged(c: Connection): void {
    if (c.wheelSlot < 0) return;
    const t = this.clock.now();
    this.armBackstop(c, c.wheelDue - t, t);
  }

  closed(c: Connection): void {
    this.wheel.cancel(c);
  }

  /** Stops the wheel's timer (the listener is done). */
  close(): void {
    this.wheel.close();
  }

  /** Our deadline, and Bun's timer re-armed behind it (traffic does not reset Bun's timer). */
  private schedule(c: Connection, due: number): void {
    this.wheel.schedule(c, due);
    const t = this.clock.now();
    this.armBackstop(c, due - t, t);
  }

  /** Armed for the wheel's deadline (c.wheelDue): what it was armed for can be worked out again. */
  private armBackstop(c: Connection, remainingMs: number, t: number): void {
    c.backstopArmedAt = t;
    c.socket.timeout(backstopSeconds(remainingMs));
  }

  /** The wheel says this connection's deadline may have come. */
  private due(c: Connection, t: number): void {
    if (c.phase === Phase.Closed) return;
    if (c.phase === Phase.Header) {
      this.actions.headerTimeout(c);
      return;
    }
    if (c.phase === Phase.FinSent) {
      if (this.log.infoOn) this.log.emit("info", "hard-close", `${c.tag} peer did not close within ${this.timeout} s of our FIN; resetting`, { conn: c.id, peer: c.peer });
      this.actions.hardClose(c);
      return;
    }
    const idleDue = c.lastActive + this.timeoutMs;
    // A toxic holding this connection's bytes, FIN or reader: the server is the slow side, not the peer.
    if (t < idleDue) {
      this.schedule(c, idleDue);
      return;
    }
    if (c.faults !== null && c.faults.busy) {
      this.schedule(c, t + this.timeoutMs);
      return;
    }
    // How late we act, measured now rather than at the tick's start: a tick with many deadlines
    // handles them one after the other (the benchmark holds p99 to 30 ms at 10,000 connections).
    this.stats.timeoutLateness.observe((this.clock.now() - idleDue) / 1000);
    if (this.log.infoOn)
      this.log.emit("info", "timeout", `${c.tag} idle for ${((t - c.lastActive) / 1000).toFixed(3)} s (--timeout ${this.timeout}); sending FIN`, {
        conn: c.id,
        peer: c.peer,
        idle_ms: Math.round(t - c.lastActive),
        buffered: c.buffered,
      });
    this.actions.idle(c);
    // One more timeout for the peer to close after our FIN.
    this.schedule(c, t + this.timeoutMs);
  }

  /**
   * Bun's own timer fired. It is armed so that it cannot fire before our deadline plus a margin:
   * firing means our wheel did not act in time, a bug, logged as such with both deadlines. A
   * connection whose deadline is still ahead is not cut (Bun's timer is re-armed); one whose
   * deadline passed is handled as the wheel should have handled it.
   */
  backstop(c: Connection): void {
    if (c.phase === Phase.Closed) return;
    const t = this.clock.now();
    const ours = c.wheelSlot >= 0 ? c.wheelDue : null;
    // Every arming is for the wheel's deadline of that moment, which stays in wheelDue.
    const armed = backstopSeconds(c.wheelDue - c.backstopArmedAt);
    this.log.error(
      "backstop",
      `${c.tag} bug: Bun's socket timeout fired ${((t - c.backstopArmedAt) / 1000).toFixed(3)} s after it was armed for ${armed} s; ` +
        (ours === null ? "no deadline of ours was scheduled" : `our deadline is ${((ours - t) / 1000).toFixed(3)} s away`),
      { conn: c.id, peer: c.peer, armed_s: armed, fired_after_ms: Math.round(t - c.backstopArmedAt), our_deadline_in_ms: ours === null ? null : Math.round(ours - t) },
    );
    if (ours === null) c.socket.timeout(0);
    else if (ours > t) this.armBackstop(c, ours - t, t);
    else {
      this.wheel.cancel(c);
      this.due(c, t);
    }
  }
}
