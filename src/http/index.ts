/**
 * tcp-echo's HTTP/1.1 server for its control plane (metrics, health; later a toxiproxy-style JSON
 * API, a status page, Server-Sent Events), on Bun.listen rather than Bun.serve so that every
 * limit is ours: connections, head size and time, body size and time, pipelining, unsent output.
 *
 *   const server = startHttpServer({ host: "127.0.0.1", port: 0, logger, name: "metrics",
 *     handler: (req) => req.path === "/healthz" ? textReply(200, "ok") : textReply(404, "not found") });
 *   server.port; server.connections(); server.counters; await server.stop();
 *
 * - handler(req) returns (or resolves to) a CompleteReply { status, headers?, body? } or a
 *   StreamReply { status, headers?, stream(sink) }. The server owns Content-Length,
 *   Transfer-Encoding, Connection and Date. HEAD gets the head only. A throw or rejection is
 *   answered 500 "internal server error" and logged as one warn line; a RequestBodyError (from
 *   req.json()) is answered 400 with its message. 404/405 are the handler's: textReply, jsonReply.
 * - Requests on a connection are answered one at a time, in order (pipelining).
 * - Protocol errors and broken limits get a one-line text/plain reply, then the connection closes.
 * - Streams: chunked for HTTP/1.1, close-delimited for HTTP/1.0; see StreamReply, sseEvent.
 *
 * Modules: chars (byte classes), head (request-line and fields), parser (incremental, no socket),
 * request, reply, sse, outbox (unsent bytes), conn (per-connection state), exchange (one
 * connection's life), timeouts (every wait on one DeadlineWheel), stream and streaming (the sink
 * and its wire format), server (listener, cap, stop), types (the API and the limits).
 */
export { startHttpServer } from "./server.ts";
export {
  DEFAULT_HTTP_LIMITS,
  type HttpLimits,
  type HttpServer,
  type HttpServerOptions,
  type HttpHandler,
  type HttpReply,
  type CompleteReply,
  type StreamReply,
  type StreamSink,
  type ReplyHeaders,
  type HttpCounters,
} from "./types.ts";
export { HttpRequest, RequestBodyError } from "./request.ts";
export { textReply, jsonReply } from "./reply.ts";
export { sseEvent, sseComment, SSE_HEADERS, type SseEvent } from "./sse.ts";
export { RequestParser, type ParseStep, type ParsePhase, type ParserLimits } from "./parser.ts";
export type { RequestHead, BodyFraming, TargetForm, ParseFailure } from "./head.ts";
