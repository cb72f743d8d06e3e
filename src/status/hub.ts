import type { StreamSink } from "../http/index.ts";
import { sseComment, sseEvent } from "../http/index.ts";
import type { OptionReport, StatsSnapshot } from "../server/index.ts";
import type { ConnectionPage, ConnectionQuery } from "./connection-query.ts";
import { History, type Sample } from "./history.ts";

/** A listener on the status page: its state, toxics and the options the kernel holds. */
export interface ListenerStatus {
  readonly name: string;
  readonly listen: string;
  readonly enabled: boolean;
  readonly accepting: boolean;
  readonly open: number;
  readonly toxics: readonly unknown[];
  readonly options: readonly OptionReport[];
}

/** A close as the page lists it (JSON field names, as GET /connections uses). */
export interface CloseJson {
  readonly at: number;
  readonly id: string;
  readonly listener: string;
  readonly peer: string;
  readonly reason: string;
  readonly toxic: string | null;
  readonly bytes_in: number;
  readonly bytes_out: number;
  readonly duration_ms: number;
  readonly error: string | null;
}

/** Where the page's data comes from: this process's server, or a supervisor's workers. */
export interface StatusSource {
  /** The counters now, the listeners, and the closes since the previous call (oldest first). */
  sample(): Promise<{ stats: StatsSnapshot; listeners: readonly ListenerStatus[]; closes: readonly CloseJson[] }>;
  connections(q: ConnectionQuery): Promise<ConnectionPage>;
  /** --workers N: N; null for a single process. */
  readonly workers: number | null;
}

/** Open event streams at once: each costs a connection of the HTTP server (64) and a copy of every event. */
export const MAX_EVENT_CLIENTS = 8;
/** Recent closes the page can list. */
export const CLOSES_KEPT = 500;
/** At most this many closes ride on one event; a flood of closes is in the counters, not in rows. */
export const CLOSES_PER_EVENT = 100;

interface Client {
  readonly sink: StreamSink;
  /** Has had its first event (the whole history and the recent closes). */
  started: boolean;
}

/**
 * The status page's live feed. Once a second, whether or not a page is open, it samples the
 * counters into a five-minute history and collects the closes; then every open event stream gets
 * one event: a summary (totals, the last second's rates, listeners, the new closes), never the
 * connections themselves, which the page fetches a page at a time. A stream's first event carries
 * the whole history and the recent closes, so a page opened late draws the last five minutes.
 * Each event is formatted once for every client.
 */
export class StatusHub {
  private readonly clients = new Set<Client>();
  private readonly history = new History();
  private readonly closes: CloseJson[] = [];
  private closesTotal = 0;
  private timer: ReturnType<typeof setInterval> | null = null;
  private busy = false;
  private last: { stats: StatsSnapshot; listeners: readonly ListenerStatus[] } | null = null;

  constructor(
    readonly source: StatusSource,
    readonly maxClients = MAX_EVENT_CLIENTS,
    private readonly intervalMs = 1000,
  ) {}

  start(): this {
    this.timer ??= setInterval(() => void this.tick(), this.intervalMs);
    void this.tick();
    return this;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    for (const c of [...this.clients]) c.sink.end();
    this.clients.clear();
  }

  get clientCount(): number {
    return this.clients.size;
  }

  /** Adds an event stream; false when maxClients are open already. Returns its cleanup. */
  subscribe(sink: StreamSink): (() => void) | null {
    if (this.clients.size >= this.maxClients) return null;
    const c: Client = { sink, started: false };
    this.clients.add(c);
    // Until the next tick there is no event; the comment tells the page the stream is up, and
    // the retry field (a real event needs none) sets how soon it comes back after a restart.
    sink.write(`retry: 1000\n${sseComment("tcp-echo status")}`);
    return () => this.clients.delete(c);
  }

  /** The last listeners and counters (the page's first paint, before an event arrives). */
  async current(): Promise<{ stats: StatsSnapshot; listeners: readonly ListenerStatus[] }> {
    if (this.last) return this.last;
    const s = await this.source.sample();
    this.keepCloses(s.closes);
    return (this.last = s);
  }

  private keepCloses(list: readonly CloseJson[]): readonly CloseJson[] {
    this.closesTotal += list.length;
    this.closes.push(...list.slice(-CLOSES_KEPT));
    if (this.closes.length > CLOSES_KEPT) this.closes.splice(0, this.closes.length - CLOSES_KEPT);
    return list.length > CLOSES_PER_EVENT ? list.slice(-CLOSES_PER_EVENT) : list;
  }

  private async tick(): Promise<void> {
    // A supervisor's sample waits on its workers; a tick never overlaps the previous one.
    if (this.busy) return;
    this.busy = true;
    try {
      const s = await this.source.sample();
      const t = Date.now();
      const sample = this.history.add(t, s.stats);
      const fresh = this.keepCloses(s.closes);
      this.last = s;
      if (this.clients.size === 0) return;
      const base = {
        t,
        workers: this.source.workers,
        totals: { accepted: s.stats.accepted, open: s.stats.open, bytes_in: s.stats.bytesIn, bytes_out: s.stats.bytesOut, closed: s.stats.closed },
        listeners: s.listeners,
        closes_total: this.closesTotal,
      };
      let tickText: string | null = null;
      let initText: string | null = null;
      for (const c of [...this.clients]) {
        let text: string;
        if (c.started) text = tickText ??= sseEvent({ event: "status", data: JSON.stringify({ ...base, init: false, history: sample ? [sample] : ([] as Sample[]), closes: fresh }) });
        else text = initText ??= sseEvent({ event: "status", data: JSON.stringify({ ...base, init: true, history: this.history.all(), closes: this.closes }) });
        c.started = true;
        // false: the peer is too slow (past maxUnsentBytes) and the stream is closed; onClose removes it.
        c.sink.write(text);
      }
    } catch {
      // A source that failed this second (a worker gone mid-question) is asked again next second.
    } finally {
      this.busy = false;
    }
  }
}
