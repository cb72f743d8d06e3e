// The control API's routes: toxiproxy's (api.go's Routes, same paths, methods, bodies and status
// codes), tcp-echo's connections, and the metrics and health routes that --metrics served alone.
import { jsonReply, textReply, type CompleteReply, type HttpHandler, type HttpRequest } from "../http/index.ts";
import { FaultError, toxicJson } from "../faults/index.ts";
import { hostPort } from "../net/index.ts";
import { renderMetrics, type MetricsSource } from "../ops/index.ts";
import type { ServerControl } from "../server/index.ts";
import type { HttpCounters } from "../http/index.ts";
import { authorize } from "./auth.ts";
import { apiError, body, connectionJson, errorReply, proxyJson } from "./json.ts";
import { pageOf, assetReply, eventsReply, parseConnectionQuery, statusReply, type StatusHub } from "../status/index.ts";

export interface RouteOptions {
  /** null where the process has no control plane of its own (a supervisor's read-only server). */
  readonly control: ServerControl | null;
  readonly metrics: MetricsSource;
  /** --metrics: GET and HEAD only; changes are --api's. */
  readonly readOnly: boolean;
  /** Requests need `Authorization: Bearer <token>` (the API routes; not /metrics, /healthz, /readyz). */
  readonly token: string | null;
  /** The address the server listens on: a loopback server checks Host (DNS rebinding). */
  readonly loopback: boolean;
  readonly version: string;
  readonly counters: () => Readonly<HttpCounters> | null;
  /** The status page's feed and paged connections (null: no page, /connections from `control`). */
  readonly status: StatusHub | null;
}

const READS = new Set(["GET", "HEAD"]);

/** Path segments, percent-decoded; null when one does not decode. */
function segments(path: string): string[] | null {
  try {
    return path.split("/").slice(1).map((s) => decodeURIComponent(s));
  } catch {
    return null;
  }
}

const allow = (methods: string) => apiError(405, `method not allowed (allowed: ${methods})`);

export function apiHandler(o: RouteOptions): HttpHandler {
  return async (req) => {
    switch (req.path) {
      case "/metrics":
      case "/healthz":
      case "/readyz":
        return health(req, o);
    }
    // The page's files hold no data and must load before anyone can type a token; the Host
    // check (DNS rebinding) still applies.
    const asset = o.status ? assetReply(req) : null;
    if (asset) return authorize(req, { ...o, token: null }) ?? asset;
    const denied = authorize(req, o);
    if (denied) return denied;
    if (o.status && READS.has(req.method)) {
      if (req.path === "/events") return eventsReply(o.status);
      if (req.path === "/status") return statusReply(o.status, o.readOnly, o.version);
      if (req.path === "/connections") return connections(req, o.status);
    }
    try {
      return route(req, o);
    } catch (e) {
      if (e instanceof FaultError) return errorReply(e);
      throw e;
    }
  };
}

async function health(req: HttpRequest, o: RouteOptions): Promise<CompleteReply> {
  if (!READS.has(req.method)) return textReply(405, "method not allowed", { allow: "GET, HEAD" });
  const m = o.metrics;
  if (req.path === "/metrics") return { status: 200, headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8" }, body: renderMetrics(await m.view(), m.accepting(), o.counters()) };
  if (req.path === "/healthz") {
    const down = m.health?.() ?? [];
    return down.length === 0 ? textReply(200, "ok") : textReply(503, `worker slots down: ${down.join(", ")}`);
  }
  return m.accepting() ? textReply(200, "ready") : textReply(503, "not ready");
}

/**
 * GET /connections: every connection as before, or with sort, order, filter, offset and limit a
 * page of them; the body stays a JSON list, and X-Total-Count says how many passed the filter.
 */
async function connections(req: HttpRequest, hub: StatusHub): Promise<CompleteReply> {
  const q = parseConnectionQuery(req.query);
  if (typeof q === "string") return apiError(400, q);
  const page = await hub.source.connections(q);
  return jsonReply(200, page.rows, { "x-total-count": String(page.total) });
}

function route(req: HttpRequest, o: RouteOptions): CompleteReply {
  const seg = segments(req.path);
  if (!seg) return apiError(400, "bad request: the path does not decode as UTF-8");
  const method = req.method === "HEAD" ? "GET" : req.method;
  const write = !READS.has(req.method);
  if (write && o.readOnly) return apiError(405, "this server is read-only (--metrics); changes go to the --api server");
  const by = hostPort(req.peer.address, req.peer.port);
  const [a, b, c, d] = seg;
  if (a === "version" && seg.length === 1) return method === "GET" ? jsonReply(200, { version: o.version, server: "tcp-echo" }) : allow("GET");
  const control = o.control;
  if (!control) return apiError(404, "not found: this process has no listeners of its own (--workers: ask a worker's API)");
  if (a === "reset" && seg.length === 1) {
    if (method !== "POST") return allow("POST");
    control.reset(by);
    return { status: 204 };
  }
  if (a === "populate" && seg.length === 1) {
    if (method !== "POST") return allow("POST");
    const r = control.populate(body(req), by);
    const proxies = r.proxies.map(proxyJson);
    return r.error ? jsonReply(r.error.status, { error: r.error.message, status: r.error.status, proxies }) : jsonReply(201, { proxies });
  }
  if (a === "proxies") {
    if (seg.length === 1) {
      if (method === "GET") return jsonReply(200, Object.fromEntries(control.proxies().map((p) => [p.name, proxyJson(p)])));
      if (method === "POST") return jsonReply(201, proxyJson(control.create(body(req), by)));
      return allow("GET, POST");
    }
    const name = b!;
    if (seg.length === 2) {
      if (method === "GET") return jsonReply(200, proxyJson(control.proxy(name)));
      if (method === "POST" || method === "PATCH") return jsonReply(200, proxyJson(control.update(name, body(req), by)));
      if (method === "DELETE") {
        control.remove(name, by);
        return { status: 204 };
      }
      return allow("GET, POST, PATCH, DELETE");
    }
    if (c === "toxics" && seg.length === 3) {
      if (method === "GET") return jsonReply(200, control.toxics(name).map(toxicJson));
      // toxiproxy answers a new toxic with 200, not 201 (api.go ToxicCreate).
      if (method === "POST") return jsonReply(200, toxicJson(control.addToxic(name, body(req), by)));
      return allow("GET, POST");
    }
    if (c === "toxics" && seg.length === 4) {
      const toxic = d!;
      if (method === "GET") return jsonReply(200, toxicJson(control.toxic(name, toxic)));
      if (method === "POST" || method === "PATCH") return jsonReply(200, toxicJson(control.updateToxic(name, toxic, body(req), by)));
      if (method === "DELETE") {
        control.removeToxic(name, toxic, by);
        return { status: 204 };
      }
      return allow("GET, POST, PATCH, DELETE");
    }
  }
  if (a === "connections") {
    if (seg.length === 1) {
      if (method !== "GET") return allow("GET");
      const q = parseConnectionQuery(req.query);
      if (typeof q === "string") return apiError(400, q);
      const page = pageOf(control, q);
      return jsonReply(200, page.rows, { "x-total-count": String(page.total) });
    }
    if (seg.length === 2) {
      if (method !== "DELETE") return allow("DELETE");
      const how = req.query.get("how") ?? "fin";
      if (how !== "fin" && how !== "rst") return apiError(400, `how: ${JSON.stringify(how)} is not fin or rst`);
      control.closeConnection(b!, how, by);
      return { status: 204 };
    }
  }
  return apiError(404, "not found");
}
