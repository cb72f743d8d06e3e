import { timingSafeEqual } from "node:crypto";
import type { CompleteReply, HttpRequest } from "../http/index.ts";
import { parseIp } from "../net/index.ts";
import { apiError } from "./json.ts";
import type { RouteOptions } from "./routes.ts";

/** Compared in constant time: how long a wrong token takes must not say how much of it was right. */
function sameToken(given: string, token: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** "127.0.0.1:8474", "[::1]:8474", "localhost" -> the host part. */
function hostOf(authority: string): string {
  const m = /^\[([^\]]*)\](?::\d*)?$/.exec(authority) ?? /^([^:]*)(?::\d*)?$/.exec(authority);
  return (m?.[1] ?? authority).toLowerCase();
}

/**
 * The API changes how the server behaves, so beyond the token a browser must not be able to drive
 * it on someone's behalf: a page of another site can send requests to a loopback address (CSRF),
 * or reach it under a name of its own that resolves to 127.0.0.1 (DNS rebinding). A change that
 * carries an Origin other than this server is refused, and a loopback server answers only Hosts
 * that are IP literals or localhost. Clients that are not browsers send neither header wrongly.
 * Returns the refusal, or null when the request may go on.
 */
export function authorize(req: HttpRequest, o: RouteOptions): CompleteReply | null {
  if (o.token !== null) {
    const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(req.headers.get("authorization") ?? "");
    if (!m || !sameToken(m[1]!, o.token)) return { ...apiError(401, "unauthorized: this API needs Authorization: Bearer <token> (--api-token)"), headers: { "content-type": "application/json", "www-authenticate": 'Bearer realm="tcp-echo"' } };
  }
  const host = req.headers.get("host");
  if (o.loopback && host !== undefined) {
    const h = hostOf(host);
    if (h !== "localhost" && !parseIp(h)) return apiError(403, `forbidden: Host ${JSON.stringify(host)} is not this loopback server's address`);
  }
  const origin = req.headers.get("origin");
  if (origin !== undefined && req.method !== "GET" && req.method !== "HEAD") {
    let originHost: string | null = null;
    try {
      originHost = new URL(origin).host.toLowerCase();
    } catch {}
    if (originHost === null || host === undefined || originHost !== host.toLowerCase()) return apiError(403, `forbidden: a change from another origin (${origin})`);
  }
  return null;
}
