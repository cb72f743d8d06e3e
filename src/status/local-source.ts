import { connectionJson, tcpJson } from "../api/json.ts";
import { toxicJson } from "../faults/index.ts";
import type { CloseRecord, ServerHandle } from "../server/index.ts";
import { applyQuery, type ConnectionPage, type ConnectionQuery } from "./connection-query.ts";
import { readTcpInfo } from "../net/index.ts";
import type { CloseJson, ListenerStatus, StatusSource } from "./hub.ts";

export function closeJson(r: CloseRecord, idPrefix = ""): CloseJson {
  return { at: r.at, id: idPrefix + r.id, listener: r.listener, peer: r.peer, reason: r.reason, toxic: r.toxic, bytes_in: r.bytesIn, bytes_out: r.bytesOut, duration_ms: Math.round(r.durationMs * 10) / 10, error: r.error };
}

/** One process's server as the status page sees it; a worker's ids start with "w2." (idPrefix). */
export function localStatus(handle: Pick<ServerHandle, "stats" | "control" | "closes">, idPrefix = ""): {
  sample(): { stats: ReturnType<ServerHandle["stats"]>; listeners: ListenerStatus[]; closes: CloseJson[] };
} {
  // From 0: the closes before the page's feed started are in the ring too.
  let seen = 0;
  return {
    sample() {
      const stats = handle.stats();
      const reports = handle.control.reports();
      const listeners = handle.control.proxies().map((p, i) => ({
        name: p.name,
        listen: p.listen,
        enabled: p.enabled,
        accepting: p.accepting,
        open: stats.byListener[p.name]?.open ?? 0,
        toxics: p.toxics.map(toxicJson),
        options: reports[i]?.options ?? [],
      }));
      const closes = handle.closes.since(seen).map((c) => closeJson(c, idPrefix));
      seen = handle.closes.latest;
      return { stats, listeners, closes };
    },
  };
}

/**
 * A page of connections. TCP_INFO costs three syscalls a connection (getsockopt, SIOCOUTQ,
 * SIOCINQ): 80-260 ms at 10,000 connections, measured, every second a page is open. It is read for
 * every connection only when the order or the filter depends on it, and otherwise for the page's
 * rows alone.
 */
export function pageOf(control: ServerHandle["control"], q: ConnectionQuery, idPrefix = ""): ConnectionPage {
  const needTcp = q.sort === "rtt" || q.filter !== "";
  const infos = control.connections(needTcp);
  // A worker's ids carry its number before the filter sees them, so "w2." finds its connections.
  const rows = infos.map(connectionJson);
  if (idPrefix) for (const r of rows) r.id = idPrefix + r.id;
  const page = applyQuery(rows, q);
  if (needTcp) return page;
  const shown = new Map<string, number>(page.rows.map((r) => [r.id, -1]));
  for (const c of infos) if (shown.has(idPrefix + c.id)) shown.set(idPrefix + c.id, c.fd);
  return { total: page.total, rows: page.rows.map((r) => ({ ...r, tcp: tcpJson(readTcpInfo(shown.get(r.id)!)) })) };
}

export function localSource(handle: Pick<ServerHandle, "stats" | "control" | "closes">): StatusSource {
  const local = localStatus(handle);
  return {
    workers: null,
    sample: async () => local.sample(),
    connections: async (q) => pageOf(handle.control, q),
  };
}
