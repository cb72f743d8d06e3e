// The status page's routes on the API (and --metrics) server: the page's files, its summary
// feed (GET /events) and its first paint (GET /status).
import { jsonReply, SSE_HEADERS, type CompleteReply, type HttpReply, type HttpRequest } from "../http/index.ts";
import { ASSETS } from "./assets.ts";
import type { StatusHub } from "./hub.ts";

/**
 * The page may be framed by nobody (its buttons reset connections: no clickjacking), runs only its
 * own scripts, and talks only to this server. uPlot sets styles through the CSSOM, which
 * style-src does not restrict.
 */
const PAGE_HEADERS = {
  "content-security-policy": "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  "x-frame-options": "DENY",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "cache-control": "no-cache",
};

/** The page's files: public (they hold no data), so they need no token; null for other paths. */
export function assetReply(req: HttpRequest): CompleteReply | null {
  const a = ASSETS.get(req.path);
  if (!a) return null;
  if (req.method !== "GET" && req.method !== "HEAD") return jsonReply(405, { error: "method not allowed (allowed: GET, HEAD)", status: 405 }, { allow: "GET, HEAD" });
  return { status: 200, headers: { "content-type": a.type, ...PAGE_HEADERS }, body: a.body };
}

/** GET /events: one summary event a second (see StatusHub); 503 past the client bound. */
export function eventsReply(hub: StatusHub): HttpReply {
  if (hub.clientCount >= hub.maxClients)
    return jsonReply(503, { error: `too many event streams open (at most ${hub.maxClients}); close a status page and retry`, status: 503 }, { "retry-after": "5" });
  return {
    status: 200,
    headers: SSE_HEADERS,
    stream: (sink) => {
      const cleanup = hub.subscribe(sink);
      if (!cleanup) sink.end();
      return cleanup ?? undefined;
    },
  };
}

/** GET /status: what the page needs before the first event. */
export async function statusReply(hub: StatusHub, readOnly: boolean, version: string): Promise<CompleteReply> {
  const s = await hub.current();
  return jsonReply(200, {
    version,
    read_only: readOnly,
    workers: hub.source.workers,
    max_event_clients: hub.maxClients,
    listeners: s.listeners,
    totals: { accepted: s.stats.accepted, open: s.stats.open, bytes_in: s.stats.bytesIn, bytes_out: s.stats.bytesOut, closed: s.stats.closed },
  });
}
