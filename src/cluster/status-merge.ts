// The supervisor's status page: its workers' views merged, as /metrics merges their counters.
import type { StatsSnapshot } from "../server/index.ts";
import { mergePages, type CloseJson, type ConnectionPage, type ListenerStatus, type StatusSource } from "../status/index.ts";
import type { FromWorker, ToWorker } from "./ipc.ts";

/** Sends a question to every listening worker; resolves with the answers (by worker) that came in time. */
export type AskWorkers = (make: (id: number) => ToWorker) => Promise<Map<number, FromWorker>>;

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
      // Ids come tagged by their worker ("w2.12@main"), unique across the workers.
      for (const m of answers.values()) {
        if (m.type !== "status") continue;
        lists.push([...m.listeners]);
        closes.push(...m.closes);
      }
      closes.sort((a, b) => a.at - b.at);
      return { stats: total, listeners: mergeListeners(lists), closes };
    },
    async connections(q) {
      // The merged page's rows are among each worker's first offset+limit in the same order.
      const each = { ...q, offset: 0, limit: q.limit === null ? null : q.offset + q.limit };
      const answers = await ask((id) => ({ type: "connections", id, query: each }));
      const parts: ConnectionPage[] = [];
      for (const [, m] of [...answers].sort(([a], [b]) => a - b)) if (m.type === "connections") parts.push(m.page);
      return mergePages(parts, q);
    },
  };
}
