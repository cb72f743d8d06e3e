import { connectionJson } from "../api/json.ts";
import { toxicJson } from "../faults/index.ts";
import type { CloseRecord, ServerHandle } from "../server/index.ts";
import { applyQuery } from "./connection-query.ts";
import type { CloseJson, ListenerStatus, StatusSource } from "./hub.ts";

export function closeJson(r: CloseRecord): CloseJson {
  return { at: r.at, id: r.id, listener: r.listener, peer: r.peer, reason: r.reason, toxic: r.toxic, bytes_in: r.bytesIn, bytes_out: r.bytesOut, duration_ms: Math.round(r.durationMs * 10) / 10, error: r.error };
}

/** One process's server as the status page sees it. */
export function localStatus(handle: Pick<ServerHandle, "stats" | "control" | "closes">): {
  sample(): { stats: ReturnType<ServerHandle["stats"]>; listeners: ListenerStatus[]; closes: CloseJson[] };
  rows: typeof rows;
} {
  // From 0: the closes before the page's feed started are in the ring too.
  let seen = 0;
  const rows = () => handle.control.connections().map(connectionJson);
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
      const closes = handle.closes.since(seen).map(closeJson);
      seen = handle.closes.latest;
      return { stats, listeners, closes };
    },
    rows,
  };
}

export function localSource(handle: Pick<ServerHandle, "stats" | "control" | "closes">): StatusSource {
  const local = localStatus(handle);
  return {
    workers: null,
    sample: async () => local.sample(),
    connections: async (q) => applyQuery(local.rows(), q),
  };
}
