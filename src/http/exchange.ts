/**
 * The life of one connection: bytes in, requests parsed and queued, handlers run one at a time,
 * replies written in order with back-pressure. Deadlines live in timeouts.ts, streaming replies
 * in streaming.ts; the socket handlers in server.ts call in here.
 */
import type { Logger } from "../log/logger.ts";
import { errorMessage, errorText } from "../log/error-text.ts";
import type { HttpConn } from "./conn.ts";
import { HttpRequest, RequestBodyError } from "./request.ts";
import { CONTINUE, bodiless, errorHead, isStream, serializeHead, textReply, InvalidReplyError } from "./reply.ts";
import { Streams, type ReplyHost } from "./streaming.ts";
import { Timeouts, type TimeoutActions } from "./timeouts.ts";
import type { CompleteReply, HttpCounters, HttpHandler, HttpLimits, HttpReply } from "./types.ts";

export interface ExchangeContext {
  readonly name: string;
  readonly log: Logger;
  readonly limits: HttpLimits;
  readonly handler: HttpHandler;
  readonly counters: HttpCounters;
  stopping(): boolean;
  /** After a connection's close handler ran. */
  onClosed(c: HttpConn): void;
}

const now = () => performance.now();

export class Exchange implements ReplyHost, TimeoutActions {
  readonly name: string;
  readonly log: Logger;
  readonly limits: HttpLimits;
  readonly counters: HttpCounters;
  readonly timeouts: Timeouts;
  private readonly streams: Streams;

  constructor(private readonly ctx: ExchangeContext) {
    this.name = ctx.name;
    this.limits = ctx.limits;
    this.log = ctx.log;
    this.counters = ctx.counters;
    this.timeouts = new Timeouts(this, this);
    this.streams = new Streams(this);
  }

  stopping(): boolean {
    return this.ctx.stopping();
  }

  open(c: HttpConn): void {
    this.counters.connectionsAccepted++;
    this.counters.connectionsOpen++;
    if (this.log.debugOn) this.log.debug("http-open", `${c.tag} open`, { server: this.name, conn: c.id, peer: c.peer });
    this.arm(c);
  }

  data(c: HttpConn, chunk: Uint8Array): void {
    this.counters.bytesIn += chunk.length;
    // The last reply is decided (or out): what still comes is read only to be dropped.
    if (c.closing) return;
    // After a keep-alive pause the header clock starts at the next request's first byte.
    if (c.served > 0 && c.waiting && c.parser.phase === "idle") c.waitStart = now();
    c.parser.push(chunk);
    this.advance(c);
  }

  /** The peer's FIN. */
  end(c: HttpConn): void {
    c.peerEnded = true;
    if (c.lingering) {
      c.socket.end();
      return;
    }
    c.parser.finish();
    this.advance(c);
  }

  drain(c: HttpConn): void {
    if (c.outbox.unsent === 0) return;
    const w = c.outbox.flush(c.socket);
    if (w > 0) {
      this.counters.bytesOut += w;
      c.lastProgress = now();
    }
    if (c.outbox.unsent > 0) return;
    if (c.closing && !c.lingering && !c.stream) this.shutdownWrite(c);
    else if (c.queue.length > 0) this.advance(c);
  }

  close(c: HttpConn, error: Error | undefined): void {
    if (c.closed) return;
    c.closed = true;
    this.timeouts.cancel(c);
    const s = c.stream;
    if (s) {
      c.stream = null;
      s.finish();
    }
    this.counters.connectionsOpen--;
    if (this.log.debugOn)
      this.log.debug("http-close", `${c.tag} closed after ${c.served} replies${error ? ` (${errorText(error)})` : ""}`, {
        server: this.name,
        conn: c.id,
        peer: c.peer,
        replies: c.served,
        error: error ? errorText(error) : undefined,
      });
    this.ctx.onClosed(c);
  }

  /** The server stops: idle and half-received connections close now, replies in flight finish, streams end. */
  stopConn(c: HttpConn): void {
    if (c.closed || c.closing) return;
    c.queue.length = 0;
    if (c.stream) c.stream.end();
    // A reply still to come carries Connection: close (see reply()).
    else if (!c.active) this.closeAfterFlush(c);
  }

  /** Parses and answers as far as the bytes, the pipeline bound and the output bound allow. */
  advance(c: HttpConn): void {
    if (c.closed) return;
    if (c.advancing) {
      c.again = true;
      return;
    }
    c.advancing = true;
    try {
      for (;;) {
        c.again = false;
        const parsed = this.pump(c);
        const answered = this.dispatch(c);
        if (c.closed || (!parsed && !answered && !c.again)) break;
      }
    } finally {
      c.advancing = false;
    }
    if (c.closed) return;
    if (!c.closing && c.waiting) {
      // Everything the peer sent before its FIN is answered.
      if (c.peerEnded && c.parser.phase === "idle") this.closeAfterFlush(c);
      else if (c.continuePending && c.parser.phase === "body") this.sendContinue(c);
    }
    if (c.paused && !c.closing && c.queue.length < this.limits.maxPipelined) {
      c.paused = false;
      c.socket.resume();
    }
    this.arm(c);
  }

  /** Parser steps into the queue, up to maxPipelined waiting requests. */
  private pump(c: HttpConn): boolean {
    const p = c.parser;
    const max = this.limits.maxPipelined;
    let progressed = false;
    while (!c.closing && c.queue.length < max && p.phase !== "failed") {
      const step = p.next();
      if (step.kind === "incomplete") break;
      progressed = true;
      if (step.kind === "head") {
        c.head = step.head;
        // At the front of the line, the body clock starts with the head's end.
        if (c.waiting) c.waitStart = now();
        if (step.head.expectContinue) {
          c.continuePending = true;
          // Behind a reply still in flight, the interim 100 waits its turn (advance sends it).
          if (c.waiting) this.sendContinue(c);
        }
      } else if (step.kind === "body") {
        c.continuePending = false;
        c.queue.push(new HttpRequest(c.head!, step.body, c.remoteAddress, c.remotePort));
        c.head = null;
      } else {
        c.continuePending = false;
        c.queue.push(step);
      }
    }
    if (c.queue.length >= max && !c.paused && !c.closing) {
      c.paused = true;
      c.socket.pause();
    }
    return progressed;
  }

  /** Starts handlers in order while nothing is being answered and the output is under its bound. */
  private dispatch(c: HttpConn): boolean {
    let progressed = false;
    while (c.active === null && !c.closing && c.queue.length > 0 && c.outbox.unsent <= this.limits.maxUnsentBytes) {
      const item = c.queue.shift()!;
      progressed = true;
      if (item instanceof HttpRequest) this.run(c, item);
      else {
        this.counters.badRequests++;
        this.refuse(c, item.status, item.reason);
      }
    }
    return progressed;
  }

  private run(c: HttpConn, req: HttpRequest): void {
    c.active = req;
    if (this.log.debugOn) c.activeSince = now();
    let r: HttpReply | Promise<HttpReply>;
    try {
      r = this.ctx.handler(req);
    } catch (e) {
      this.failed(c, req, e);
      return;
    }
    if (r instanceof Promise || typeof (r as { then?: unknown })?.then === "function") {
      (r as Promise<HttpReply>).then(
        (reply) => this.settled(c, req, true, reply),
        (e: unknown) => this.settled(c, req, false, e),
      );
      return;
    }
    this.reply(c, req, r as HttpReply);
  }

  private settled(c: HttpConn, req: HttpRequest, resolved: boolean, value: unknown): void {
    if (c.closed || c.active !== req) return;
    try {
      if (resolved) this.reply(c, req, value as HttpReply);
      else this.failed(c, req, value);
      this.advance(c);
    } catch (e) {
      // Outside the socket handlers' guard: a bug here must not become an unhandled rejection.
      this.log.error("http-bug", `${c.tag} bug: ${errorText(e)}; resetting the connection`, { server: this.name, conn: c.id, peer: c.peer, error: errorText(e) });
      c.socket.terminate();
    }
  }

  /** A handler threw or rejected, or its reply could not be sent: 500 (or 400 for a body it could not read). */
  private failed(c: HttpConn, req: HttpRequest, e: unknown): void {
    if (e instanceof RequestBodyError) {
      this.reply(c, req, textReply(400, errorMessage(e)));
      return;
    }
    this.handlerError(c, req, "handler failed", e);
    this.reply(c, req, textReply(500, "internal server error"));
  }

  /** Counted, and one warn line with the error's text: never its stack. */
  handlerError(c: HttpConn, req: HttpRequest, what: string, e: unknown): void {
    this.counters.handlerErrors++;
    if (this.log.warnOn)
      this.log.warn("http-handler-error", `${c.tag} ${req.method} ${req.path}: ${what}: ${errorText(e)}`, {
        server: this.name,
        conn: c.id,
        peer: c.peer,
        method: req.method,
        path: req.path,
        error: errorText(e),
      });
  }

  private reply(c: HttpConn, req: HttpRequest, reply: HttpReply): void {
    if (c.closed) return;
    // Close after this reply: the client asked, we are stopping, or the peer's FIN came and
    // nothing of another request is left (a half-received one gets its 400 after this).
    const close = !req.keepAlive || this.ctx.stopping() || (c.peerEnded && c.queue.length === 0 && c.parser.phase === "idle");
    try {
      if (reply === null || typeof reply !== "object") throw new InvalidReplyError("the handler returned no reply");
      if (isStream(reply)) this.streams.start(c, req, reply, close);
      else this.sendComplete(c, req, reply, close);
    } catch (e) {
      // Nothing was written: each send path validates before its first byte.
      this.failed(c, req, e);
    }
  }

  private sendComplete(c: HttpConn, req: HttpRequest, reply: CompleteReply, close: boolean): void {
    const { status, body } = reply;
    let len = 0;
    if (typeof body === "string") len = Buffer.byteLength(body, "utf8");
    else if (body instanceof Uint8Array) len = body.length;
    else if (body !== undefined) throw new InvalidReplyError("reply body is neither a string nor a Uint8Array");
    const noLength = bodiless(status);
    if (noLength && len > 0) throw new InvalidReplyError(`a ${status} reply has no body`);
    let framing = noLength ? "" : `content-length: ${len}\r\n`;
    if (close) framing += "connection: close\r\n";
    else if (req.version === "1.0") framing += "connection: keep-alive\r\n";
    // ASCII only (serializeHead checks), so its length is its byte count.
    const head = serializeHead(status, reply.headers, framing);
    const withBody = len > 0 && req.method !== "HEAD";
    if (!withBody) this.send(c, head, head.length);
    else if (typeof body === "string") this.send(c, head + body, head.length + len);
    else {
      const buf = Buffer.allocUnsafe(head.length + len);
      buf.write(head, 0, "latin1");
      buf.set(body as Uint8Array, head.length);
      this.send(c, buf, buf.length);
    }
    this.countStatus(status);
    this.finishReply(c, req, status, head.length + (withBody ? len : 0), close);
  }

  finishReply(c: HttpConn, req: HttpRequest, status: number, bytes: number, close: boolean): void {
    c.active = null;
    c.served++;
    if (this.log.debugOn) {
      const ms = now() - c.activeSince;
      this.log.debug("http-request", `${c.tag} ${req.method} ${req.target} ${status} ${bytes} B ${ms.toFixed(2)} ms`, {
        server: this.name,
        conn: c.id,
        peer: c.peer,
        method: req.method,
        target: req.target,
        status,
        bytes,
        duration_ms: Math.round(ms * 1000) / 1000,
      });
    }
    if (close) this.closeAfterFlush(c);
    else if (c.waiting) c.waitStart = now();
  }

  /** The server's own answer to a request it will not serve; the connection closes after it. */
  refuse(c: HttpConn, status: number, reason: string): void {
    const text = errorHead(status, reason);
    this.send(c, text, text.length);
    this.countStatus(status);
    if (this.log.debugOn) this.log.debug("http-refused-request", `${c.tag} ${status} ${reason}`, { server: this.name, conn: c.id, peer: c.peer, status, reason });
    this.closeAfterFlush(c);
  }

  private sendContinue(c: HttpConn): void {
    c.continuePending = false;
    this.send(c, CONTINUE, CONTINUE.length);
  }

  arm(c: HttpConn): void {
    this.timeouts.arm(c);
  }

  /** Cuts the connection: a stream ends broken, anything else is reset. */
  abort(c: HttpConn): void {
    if (c.stream) this.streams.abort(c, c.stream);
    else c.socket.terminate();
  }

  /** Bytes written now; -1 when the socket is already closed. */
  send(c: HttpConn, data: string | Uint8Array, bytes: number): number {
    const queued = c.outbox.unsent > 0;
    const w = c.outbox.send(c.socket, data, bytes);
    if (w > 0) this.counters.bytesOut += w;
    if (!queued && c.outbox.unsent > 0) c.lastProgress = now();
    return w;
  }

  countStatus(status: number): void {
    const r = this.counters.responses;
    if (status < 300) r["2xx"]++;
    else if (status < 400) r["3xx"]++;
    else if (status < 500) r["4xx"]++;
    else r["5xx"]++;
  }

  /** No more requests: send what is queued, then FIN. */
  closeAfterFlush(c: HttpConn): void {
    if (c.closing) return;
    c.closing = true;
    c.queue.length = 0;
    c.continuePending = false;
    // Read on (and drop), or a peer held back by our closed window could never send its FIN.
    if (c.paused) {
      c.paused = false;
      c.socket.resume();
    }
    if (c.outbox.unsent === 0) this.shutdownWrite(c);
    else this.arm(c);
  }

  private shutdownWrite(c: HttpConn): void {
    // Both directions are done: close now.
    if (c.peerEnded) {
      c.socket.end();
      return;
    }
    c.lingering = true;
    c.waitStart = now();
    c.socket.shutdown();
    this.arm(c);
  }
}
