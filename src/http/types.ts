import type { Logger } from "../log/logger.ts";
import type { HttpRequest } from "./request.ts";

/** Every bound the server enforces. A connection that breaks one is answered (when it can be) and closed. */
export interface HttpLimits {
  /** Open connections; one more is reset as soon as it is accepted, before a byte is read. */
  readonly maxConnections: number;
  /** Request-line plus header fields (and trailers, separately); beyond: 431, close. */
  readonly maxHeaderBytes: number;
  /**
   * From the connection's open, or from the end of the previous response when the next request's
   * bytes were already waiting, or from the first byte of a request after a keep-alive pause, to
   * the end of the head; traffic does not extend it. Then 408 (or a silent close when nothing of
   * the request came), close.
   */
  readonly headerTimeoutMs: number;
  /** A keep-alive connection with nothing in flight and no byte of a next request; then a silent close. Also how long unsent output may make no progress (a peer that does not read) before a reset. */
  readonly idleTimeoutMs: number;
  /** The decoded body; beyond: 413, close (before reading it when Content-Length says so). */
  readonly maxBodyBytes: number;
  /** From the end of the head (or of the previous response) to the end of the body; then 408, close. */
  readonly bodyTimeoutMs: number;
  /** Complete requests queued behind the one being answered; at the bound reading pauses. */
  readonly maxPipelined: number;
  /**
   * Reply bytes the peer has not taken yet. A stream (SSE) past it is closed; for complete
   * replies, reading and answering pause until it drains below.
   */
  readonly maxUnsentBytes: number;
  /** stop(): how long in-flight replies may take to finish before their connections are reset. */
  readonly stopGraceMs: number;
}

export const DEFAULT_HTTP_LIMITS: HttpLimits = {
  maxConnections: 64,
  maxHeaderBytes: 16 * 1024,
  headerTimeoutMs: 5_000,
  idleTimeoutMs: 30_000,
  maxBodyBytes: 64 * 1024,
  bodyTimeoutMs: 10_000,
  maxPipelined: 16,
  maxUnsentBytes: 1024 * 1024,
  stopGraceMs: 2_000,
};

/** Header fields of a reply. Content-Length, Transfer-Encoding and Connection belong to the server and are ignored here. */
export type ReplyHeaders = Readonly<Record<string, string>>;

/** A reply sent whole, with Content-Length (none for 204 and 304; no body for HEAD). */
export interface CompleteReply {
  readonly status: number;
  readonly headers?: ReplyHeaders;
  readonly body?: string | Uint8Array;
}

/**
 * A reply whose body is written over time (Server-Sent Events). The head goes out first, then
 * `stream` is called; what it returns is called once when the stream closes, however it closes.
 * HTTP/1.1: chunked transfer coding, so the end is explicit and the connection can be reused.
 * HTTP/1.0 (no chunked): no length, the body ends when the server closes the connection.
 */
export interface StreamReply {
  readonly status: number;
  readonly headers?: ReplyHeaders;
  readonly stream: (sink: StreamSink) => void | (() => void);
}

export type HttpReply = CompleteReply | StreamReply;

export interface StreamSink {
  /**
   * Sends (or queues) `chunk`. false when the stream is closed, or when this chunk would have
   * put more than maxUnsentBytes in the queue: then the peer is too slow and the stream and its
   * connection are closed. An empty chunk is ignored (it would end a chunked body).
   */
  write(chunk: string | Uint8Array): boolean;
  /** Ends the body (the last chunk); pipelined requests behind it are answered next. */
  end(): void;
  readonly closed: boolean;
  /** Bytes queued and not yet taken by the peer. */
  readonly unsent: number;
  /** `cb` runs once when the stream closes (ended, peer gone, too slow, server stopping); at once if it already has. */
  onClose(cb: () => void): void;
}

export type HttpHandler = (req: HttpRequest) => HttpReply | Promise<HttpReply>;

export interface HttpServerOptions {
  /** An IPv4 or IPv6 literal ("::1"; brackets are accepted and removed) or a host name. */
  readonly host: string;
  /** 0 picks a free port; HttpServer.port says which. */
  readonly port: number;
  readonly logger: Logger;
  /** Names the server in log lines ("metrics"). */
  readonly name: string;
  readonly limits?: Partial<HttpLimits>;
  readonly handler: HttpHandler;
}

/** Counters since start, for metrics. A live object: read it, do not write it. */
export interface HttpCounters {
  /** Connections accepted and served (refused ones not included). */
  connectionsAccepted: number;
  /** Connections reset at once because maxConnections were open. */
  connectionsRefused: number;
  connectionsOpen: number;
  /** Final responses by status class (100 Continue is not one). */
  responses: { "2xx": number; "3xx": number; "4xx": number; "5xx": number };
  /** Requests the server answered itself because they broke the protocol or a limit. */
  badRequests: number;
  /** Handlers that threw, rejected, or returned an invalid reply (each answered 500). */
  handlerErrors: number;
  timeouts: { header: number; body: number; idle: number; send: number };
  /** Streams closed because the peer did not take their output fast enough. */
  streamsOverflowed: number;
  bytesIn: number;
  bytesOut: number;
}

export interface HttpServer {
  /** The bound port (the real one when 0 was asked). */
  readonly port: number;
  readonly counters: Readonly<HttpCounters>;
  /** Open connections now. */
  connections(): number;
  /**
   * Stops accepting; closes connections that wait for a request; lets in-flight replies finish
   * (with Connection: close) for up to stopGraceMs, ends streams, then resets what is left.
   * Resolves when every connection is closed. Safe to call more than once.
   */
  stop(): Promise<void>;
}
