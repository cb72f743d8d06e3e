// The supervisor's status page: its workers' views merged, as /metrics merges their counters.
import type { StatsSnapshot } from "../server/index.ts";
import { mergePages, type CloseJson, type ConnectionPage, type ListenerStatus, type StatusSource } from "../status/index.ts";
import type { FromWorker, ToWorker } from "./ipc.ts";

/** Sends a question to every listening worker; resolves with the answers (by worker) that came in time. */
export type AskWorkers = (make: (id: number) => ToWorker) => Promise<Map<number, FromWorker>>;

/** "12@main" of worker 2 -> "w2.12@main": ids stay unique across the workers. */
const tagged = (worker: number, id: string) => `w${worker}.${id}`;

/**
 * Every worker has the same listeners (one address, SO_REUSEPORT; --api, which could change them,
 * needs a single process): one entry per name, with the open connections of all workers.
 */
function mergeListeners(answers: readonly (readonly ListenerStatus[])[]): ListenerStatus[] {
  const byName = new Map<string, ListenerStatus>();
  for (const list of answers)
    for (const l of list) {
      const seen = byName.get(l.name);
      byName.set(l.name, seen ? { ...seen, open: seen.open + l.open, enabled: seen.enabled && l.enabled, accepting: seen.accepting && l.accepting } : l);
    }
  return [...byName.values()];
}

export function supervisorSource(workers: number, ask: AskWorkers, stats: () => Promise<StatsSnapshot>): StatusSource {
  return {
    workers,
    async sample() {
      const [total, answers] = await Promise.all([stats(), ask((id) => ({ type: "status", id }))]);
      const lists: ListenerStatus[][] = [];
      const closes: CloseJson[] = [];
      for (const [w, m] of answers) {
        if (m.type !== "status") continue;
        lists.push([...m.listeners]);
        for (const c of m.closes) closes.push({ ...c, id: tagged(w, c.id) });
      }
      closes.sort((a, b) => a.at - b.at);
      return { stats: total, listeners: mergeListeners(lists), closes };
    },
    async connections(q) {
      // The merged page's rows are among each worker's first offset+limit in the same order.
      const each = { ...q, offset: 0, limit: q.limit === null ? null : q.offset + q.limit };
      const answers = await ask((id) => ({ type: "connections", id, query: each }));
      const parts: ConnectionPage[] = [];
      for (const [w, m] of [...answers].sort(([a], [b]) => a - b)) if (m.type === "connections") parts.push({ total: m.page.total, rows: m.page.rows.map((r) => ({ ...r, id: tagged(w, r.id) })) });
      return mergePages(parts, q);
    },
  };
}
