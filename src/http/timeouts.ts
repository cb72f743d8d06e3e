/**
 * Every wait of a connection is bounded, on one DeadlineWheel: the head (headerTimeoutMs), the
 * body (bodyTimeoutMs), a keep-alive pause (idleTimeoutMs), output the peer does not take
 * (idleTimeoutMs without progress), and the linger after our FIN. Traffic never moves a head or
 * body deadline: each counts from the start of its wait (HttpConn.waitStart), which is why a
 * slowloris trickling one byte at a time is cut on time. Bun's socket.timeout() is not used: it
 * fires on a 4 s sweep and traffic does not reset it (see src/server/backstop.ts).
 */
import type { Logger } from "../log/logger.ts";
import { DeadlineWheel, realClock } from "../time/index.ts";
import type { HttpConn } from "./conn.ts";
import type { HttpCounters, HttpLimits } from "./types.ts";

/**
 * After our last reply and FIN, how long input is still read and dropped. Closing at once with
 * unread input makes the kernel send RST, which can destroy the reply before the client reads
 * it (a 413 sent while the body still streams in); the peer normally closes within an RTT.
 */
export const LINGER_MS = 2_000;

/** What a deadline does to its connection; the exchange implements them. */
export interface TimeoutActions {
  /** Reply `status` with a one-line reason, then close. */
  refuse(c: HttpConn, status: number, reason: string): void;
  /** Close without a reply (after what is queued). */
  closeAfterFlush(c: HttpConn): void;
  /** Reset: the connection cannot be ended cleanly (a stream is cut short). */
  abort(c: HttpConn): void;
}

const enum Due {
  None,
  Header,
  Body,
  Idle,
  Send,
  Linger,
}

export interface TimeoutContext {
  readonly name: string;
  readonly log: Logger;
  readonly limits: HttpLimits;
  readonly counters: HttpCounters;
}

export class Timeouts {
  readonly wheel: DeadlineWheel<HttpConn>;
  /** Set by deadline(): when the deadline it names comes. */
  private nextDue = Infinity;

  constructor(
    private readonly ctx: TimeoutContext,
    private readonly actions: TimeoutActions,
  ) {
    this.wheel = new DeadlineWheel<HttpConn>(realClock, (c, t) => this.due(c, t));
  }

  /** Schedules the deadline that applies now (after any change of the connection's state). */
  arm(c: HttpConn): void {
    if (c.closed) return;
    this.deadline(c);
    const due = this.nextDue;
    if (due === Infinity) this.wheel.cancel(c);
    else if (c.wheelSlot < 0 || c.wheelDue !== due) this.wheel.schedule(c, due);
  }

  cancel(c: HttpConn): void {
    this.wheel.cancel(c);
  }

  close(): void {
    this.wheel.close();
  }

  /** Which deadline applies now; its time goes to this.nextDue. */
  private deadline(c: HttpConn): Due {
    const L = this.ctx.limits;
    if (c.lingering) {
      this.nextDue = c.waitStart + LINGER_MS;
      return Due.Linger;
    }
    let kind = Due.None;
    let due = Infinity;
    if (c.outbox.unsent > 0) {
      kind = Due.Send;
      due = c.lastProgress + L.idleTimeoutMs;
    }
    if (!c.closing && c.waiting) {
      const phase = c.parser.phase;
      let k = Due.None;
      let d = Infinity;
      // A new connection's first request is on the header clock from the open, bytes or not.
      if (phase === "head" || (phase === "idle" && c.served === 0)) {
        k = Due.Header;
        d = c.waitStart + L.headerTimeoutMs;
      } else if (phase === "idle") {
        k = Due.Idle;
        d = c.waitStart + L.idleTimeoutMs;
      } else if (phase === "body") {
        k = Due.Body;
        d = c.waitStart + L.bodyTimeoutMs;
      }
      if (d < due) {
        kind = k;
        due = d;
      }
    }
    this.nextDue = due;
    return kind;
  }

  /** The wheel says a deadline may have come: act on it, or reschedule at the real one. */
  private due(c: HttpConn, t: number): void {
    if (c.closed) return;
    const kind = this.deadline(c);
    const due = this.nextDue;
    if (due > t) {
      if (due !== Infinity) this.wheel.schedule(c, due);
      return;
    }
    const { limits: L, counters } = this.ctx;
    const T = counters.timeouts;
    switch (kind) {
      case Due.Linger:
        c.socket.terminate();
        return;
      case Due.Send:
        T.send++;
        this.log(c, "send", `peer took no reply bytes for ${L.idleTimeoutMs} ms (${c.outbox.unsent} unsent); resetting`);
        this.actions.abort(c);
        return;
      case Due.Idle:
        T.idle++;
        this.log(c, "idle", `idle for ${L.idleTimeoutMs} ms; closing`);
        this.actions.closeAfterFlush(c);
        return;
      case Due.Header:
        T.header++;
        this.log(c, "header", `no complete request head within ${L.headerTimeoutMs} ms`);
        // Nothing of a request came: nobody waits for an answer.
        if (c.parser.phase === "idle") this.actions.closeAfterFlush(c);
        else this.actions.refuse(c, 408, "request head not received in time");
        return;
      case Due.Body:
        T.body++;
        this.log(c, "body", `request body not complete within ${L.bodyTimeoutMs} ms`);
        this.actions.refuse(c, 408, "request body not received in time");
        return;
      case Due.None:
        return;
    }
  }

  private log(c: HttpConn, which: string, text: string): void {
    const log = this.ctx.log;
    if (log.debugOn) log.debug("http-timeout", `${c.tag} ${text}`, { server: this.ctx.name, conn: c.id, peer: c.peer, timeout: which });
  }
}
