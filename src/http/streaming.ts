/**
 * Streaming replies on the wire. HTTP/1.1: chunked transfer coding (RFC 9112 section 7.1), so
 * the end of the stream is explicit and the connection can carry the next request. HTTP/1.0 has
 * no chunked coding: the body is close-delimited (section 6.3 rule 8). A peer that does not keep
 * up is cut once maxUnsentBytes wait: an SSE producer never blocks and memory stays bounded.
 */
import type { Logger } from "../log/logger.ts";
import type { HttpConn } from "./conn.ts";
import { bodiless, serializeHead, InvalidReplyError } from "./reply.ts";
import type { HttpRequest } from "./request.ts";
import { StreamSinkImpl, type SinkOwner } from "./stream.ts";
import type { HttpCounters, HttpLimits, StreamReply } from "./types.ts";

const LAST_CHUNK = "0\r\n\r\n";

/** What the exchange lends the stream writer. */
export interface ReplyHost {
  readonly name: string;
  readonly log: Logger;
  readonly limits: HttpLimits;
  readonly counters: HttpCounters;
  stopping(): boolean;
  /** Bytes written now; -1 when the socket is already closed. */
  send(c: HttpConn, data: string | Uint8Array, bytes: number): number;
  countStatus(status: number): void;
  finishReply(c: HttpConn, req: HttpRequest, status: number, bytes: number, close: boolean): void;
  advance(c: HttpConn): void;
  arm(c: HttpConn): void;
  handlerError(c: HttpConn, req: HttpRequest, what: string, e: unknown): void;
}

export class Streams implements SinkOwner {
  constructor(private readonly host: ReplyHost) {}

  /** Sends the head, then hands the sink to the handler. Throws InvalidReplyError before any byte. */
  start(c: HttpConn, req: HttpRequest, reply: StreamReply, close: boolean): void {
    const h = this.host;
    const status = reply.status;
    if (bodiless(status)) throw new InvalidReplyError(`a ${status} reply cannot stream`);
    const chunked = req.version === "1.1";
    const closeAfter = close || !chunked;
    const head = serializeHead(status, reply.headers, (chunked ? "transfer-encoding: chunked\r\n" : "") + (closeAfter ? "connection: close\r\n" : ""));
    h.send(c, head, head.length);
    h.countStatus(status);
    if (req.method === "HEAD") {
      h.finishReply(c, req, status, head.length, closeAfter);
      return;
    }
    const sink = new StreamSinkImpl(this, c, req, status, chunked, closeAfter);
    sink.bytes = head.length;
    c.stream = sink;
    try {
      const cleanup = reply.stream(sink);
      if (typeof cleanup === "function") sink.setCleanup(cleanup);
    } catch (e) {
      h.handlerError(c, req, "stream failed", e);
      // The head is out: the only honest way to say the body failed is to cut it short.
      if (!sink.closed) this.abort(c, sink);
    }
    if (!sink.closed && h.stopping()) sink.end();
  }

  streamWrite(sink: StreamSinkImpl, chunk: string | Uint8Array, n: number): boolean {
    const h = this.host;
    const c = sink.conn;
    let sent: number;
    if (!sink.chunked) sent = h.send(c, chunk, n);
    else {
      const size = n.toString(16);
      const total = size.length + 4 + n;
      if (typeof chunk === "string") sent = h.send(c, `${size}\r\n${chunk}\r\n`, total);
      else {
        const buf = Buffer.allocUnsafe(total);
        buf.write(`${size}\r\n`, 0, "latin1");
        buf.set(chunk, size.length + 2);
        buf.write("\r\n", total - 2, "latin1");
        sent = h.send(c, buf, total);
      }
    }
    if (sent < 0) {
      // The peer is gone; its close handler may only run after the caller's write loop.
      this.abort(c, sink);
      return false;
    }
    sink.bytes += sent;
    const unsent = c.outbox.unsent;
    if (unsent > h.limits.maxUnsentBytes) {
      h.counters.streamsOverflowed++;
      if (h.log.infoOn)
        h.log.info("http-stream-overflow", `${c.tag} ${sink.req.method} ${sink.req.path}: peer too slow, ${unsent} bytes unsent; stream closed`, {
          server: h.name,
          conn: c.id,
          peer: c.peer,
          path: sink.req.path,
          unsent,
        });
      this.abort(c, sink);
      return false;
    }
    if (unsent > 0) h.arm(c);
    return true;
  }

  streamEnd(sink: StreamSinkImpl): void {
    const h = this.host;
    const c = sink.conn;
    if (sink.chunked) sink.bytes += Math.max(0, h.send(c, LAST_CHUNK, LAST_CHUNK.length));
    c.stream = null;
    sink.finish();
    h.finishReply(c, sink.req, sink.status, sink.bytes, sink.closeAfter || h.stopping());
    h.advance(c);
  }

  unsent(sink: StreamSinkImpl): number {
    return sink.conn.outbox.unsent;
  }

  callbackFailed(sink: StreamSinkImpl, e: unknown): void {
    this.host.handlerError(sink.conn, sink.req, "stream close callback failed", e);
  }

  /** Cuts a stream short with a reset, so a client sees a broken body rather than a clean end. */
  abort(c: HttpConn, sink: StreamSinkImpl): void {
    c.stream = null;
    sink.finish();
    c.socket.terminate();
  }
}
