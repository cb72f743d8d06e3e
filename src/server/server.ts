import { readdirSync } from "node:fs";
import { plural } from "../log/index.ts";
import { raiseFdLimit, readKernelLimits, type SockAddress } from "../net/index.ts";
import { realClock } from "../time/index.ts";
import { describeToxic, Random, randomSeed, realTimerClock, TimerHeap } from "../faults/index.ts";
import type { ListenerConfig, ServerConfig } from "./config.ts";
import { ServerControl } from "./control.ts";
import { Listener } from "./listener.ts";
import { defaultMemoryBudget, MemoryBudget } from "./memory.ts";
import { ServerStats, sumListeners, sumSnapshots, type StatsSnapshot } from "./stats.ts";
import { logReport, type StartupReport } from "./startup-report.ts";
import { RecentCloses } from "./recent-closes.ts";

/** One listener of a running server. */
export interface ListenerHandle {
  readonly name: string;
  /** The address it is bound to (getsockname: the real port when 0 was asked). */
  readonly address: SockAddress;
  /** Came from systemd socket activation rather than our own bind. */
  readonly activated: boolean;
}

export interface ServerHandle {
  /** The first listener's address (most servers have one). */
  readonly address: SockAddress;
  /** The listeners now (the API can open and close some at run time). */
  readonly listeners: readonly ListenerHandle[];
  /** Listeners as toxiproxy's proxies, their toxics, the open connections: what the API drives. */
  readonly control: ServerControl;
  /** The seed of the toxics' chance (--seed, or the one drawn at start). */
  readonly seed: number;
  /** Every option as asked and as the kernel applied it, per listener, plus the kernel's limits. */
  readonly report: StartupReport;
  /** The counters of all listeners together, and per listener (`byListener`). */
  stats(): StatsSnapshot;
  /** true until a stop begins (readiness: a load balancer should stop sending first). */
  accepting(): boolean;
  /** The first listener came from systemd socket activation rather than our own bind. */
  readonly activated: boolean;
  /**
   * Graceful stop: stop accepting, echo what each peer sent and half-close it, wait up to
   * --shutdown-timeout for peers to close, reset the rest. Safe to call more than once.
   */
  stop(): Promise<void>;
  /** Resolves when a stop has finished. */
  readonly stopped: Promise<void>;
  /** The last 500 closes with their reasons (the status page); none kept with `recentCloses: false`. */
  readonly closes: RecentCloses;
  /**
   * SIGHUP: TLS listeners re-read their certificate files (open connections keep theirs; a bad
   * file is logged and the old certificate kept). Returns false when a listener kept its old ones.
   */
  reload(): boolean;
  /** Whether any listener speaks TLS (there is something to reload). */
  readonly tls: boolean;
}

/**
 * Binds, listens and serves on every listener. Throws SyscallError when a socket cannot be set up
 * (address in use, permission denied), naming the listener when there are several; nothing is
 * left open then.
 */
export function startServer(config: ServerConfig): ServerHandle {
  const log = config.logger;
  const clock = config.clock ?? realClock;
  const kernel = readKernelLimits();
  // Every connection is a descriptor: the soft limit goes up to the hard one (setrlimit(2)). Bun
  // 1.4.5 already does so itself at start (measured); this makes sure and reports it.
  const fdLimit = raiseFdLimit();
  const memory = config.maxMemory === null ? defaultMemoryBudget() : { bytes: config.maxMemory, from: "--max-memory", of: null };
  const budget = new MemoryBudget(memory.bytes);
  // Descriptors in use besides connections (Bun's own, stdio, the listeners): counted once.
  const baseFds = readdirSync("/proc/self/fd").length + config.listeners.length;
  const listeners: Listener[] = [];
  /** Listeners closed at run time whose connections are still ending. */
  const closing = new Set<Listener>();
  /** The counters of listeners closed at run time. */
  const retired = new ServerStats();
  // Asked at every accept (the accept guard's estimate): summed in place, no array per call.
  const open = () => {
    let n = 0;
    for (let i = 0; i < listeners.length; i++) n += listeners[i]!.open;
    if (closing.size > 0) for (const l of closing) n += l.open;
    return n;
  };
  const seed = config.seed ?? randomSeed();
  const ctx = {
    log,
    budget,
    clock,
    kernel,
    fdLimit,
    fdsInUse: () => baseFds + open(),
    tagPrefix: config.workerId === null ? "#" : `w${config.workerId}#`,
    several: config.listeners.length > 1,
    // One timer structure for every toxic of every connection of the process.
    faults: { heap: new TimerHeap(realTimerClock()), random: new Random(seed) },
    closes: new RecentCloses(config.recentCloses === false ? 0 : 500),
  };
  try {
    for (const lc of config.listeners) {
      try {
        listeners.push(new Listener(lc, ctx));
      } catch (e) {
        if (ctx.several && e instanceof Error) e.message = `listener ${JSON.stringify(lc.name)}: ${e.message}`;
        throw e;
      }
    }
  } catch (e) {
    for (const l of listeners) {
      l.stopAccepting();
      l.close();
    }
    throw e;
  }
  const report: StartupReport = { listeners: listeners.map((l) => l.report), kernel, memory, fds: fdLimit };
  for (const l of listeners) {
    if (l.activated) log.info("activation", `socket activation: listener ${JSON.stringify(l.config.name)} serves the socket systemd passed as fd ${l.config.listenFd}`, { listener: l.config.name, fd: l.config.listenFd });
  }
  // A worker's report goes to debug: its supervisor prints the one report for all of them.
  logReport(log, report, config, config.workerId === null ? "info" : "debug");
  for (const l of listeners)
    for (const t of l.toxics.list())
      if (log.infoOn) log.info("toxic", `toxic on ${JSON.stringify(l.config.name)} from the start: ${describeToxic(t)}`, { op: "added", proxy: l.config.name, toxic: t.name, type: t.type, stream: t.stream, toxicity: t.toxicity, attributes: t.attributes, by: "config" });

  const { promise: stopped, resolve: markStopped } = Promise.withResolvers<void>();
  let stopping: Promise<void> | null = null;
  let accepting = true;

  function stats(): StatsSnapshot {
    const byListener: Record<string, StatsSnapshot> = {};
    // A listener closing at run time and a new one of the same name count under that name together.
    const add = (l: Listener) => {
      const s = l.stats.snapshot();
      const prev = byListener[l.config.name];
      byListener[l.config.name] = prev ? sumSnapshots([prev, s]) : s;
    };
    for (const l of closing) add(l);
    for (const l of listeners) add(l);
    return sumListeners(byListener, retired.snapshot());
  }

  const control = new ServerControl({
    listeners,
    log,
    profile: config.profile ?? listeners[0]?.config ?? config.listeners[0]!,
    graceMs: config.shutdownTimeout * 1000,
    accepting: () => accepting,
    open(lc: ListenerConfig) {
      const l = new Listener(lc, ctx, true);
      listeners.push(l);
      return l;
    },
    close(l: Listener) {
      listeners.splice(listeners.indexOf(l), 1);
      closing.add(l);
      l.stopAccepting();
      const ended = l.endConnections(config.shutdownTimeout * 1000).then(() => {
        closing.delete(l);
        l.close();
        retired.add(l.stats.snapshot(), false, l.config.name);
      });
      ending.push(ended);
    },
  });
  /** Listeners closing at run time: a stop waits for them too. */
  const ending: Promise<void>[] = [];

  async function drainAndStop(): Promise<void> {
    accepting = false;
    log.info("shutdown", `stopping: no new connections; ${open()} open, waiting up to ${config.shutdownTimeout} s for them to close`, {
      open: open(),
      shutdown_timeout: config.shutdownTimeout,
    });
    for (const l of listeners) l.stopAccepting();
    const drained = Promise.all([...listeners.map((l) => l.drain()), ...ending]);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), config.shutdownTimeout * 1000)));
    if (await Promise.race([drained.then(() => false), timedOut])) {
      log.warn("shutdown-timeout", `${plural(open(), "connection")} still open after ${config.shutdownTimeout} s; resetting them`, { open: open() });
      for (const l of listeners) l.terminateAll();
      await drained;
    }
    clearTimeout(timer);
    for (const l of listeners) l.close();
    const s = stats();
    log.info("stopped", `stopped: ${plural(s.accepted, "connection")} served, ${s.bytesIn} B in, ${s.bytesOut} B out`, {
      accepted: s.accepted,
      bytes_in: s.bytesIn,
      bytes_out: s.bytesOut,
    });
    markStopped();
  }

  return {
    address: listeners[0]!.address,
    get listeners() {
      return listeners.map((l) => ({ name: l.config.name, address: l.address, activated: l.activated }));
    },
    control,
    seed,
    report,
    stats,
    accepting: () => accepting,
    activated: listeners[0]!.activated,
    stop: () => (stopping ??= drainAndStop()),
    stopped,
    closes: ctx.closes,
    reload: () => listeners.map((l) => l.reload()).every(Boolean),
    tls: listeners.some((l) => l.config.tls !== null),
  };
}
