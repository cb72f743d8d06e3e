import type { Subprocess } from "bun";
import { plural, type Logger, errorText } from "../log/index.ts";
import { closeFd, hostPort, reservePort } from "../net/index.ts";
import { ServerStats, sumSnapshots, type StatsSnapshot, logReport } from "../server/index.ts";
import { type WorkerCounts, type ProcessMetrics, logStats, startStatsReporter } from "../ops/index.ts";
import { startApiServer } from "../api/index.ts";
import pkg from "../../package.json" with { type: "json" };
import { toWire, type FromWorker, type ToWorker } from "./ipc.ts";
import { StatusHub } from "../status/index.ts";
import { supervisorSource, type AskWorkers } from "./status-merge.ts";
import type { Service, ServiceOptions } from "./types.ts";

/** A worker that ran at least this long before dying resets the crash back-off. */
const STABLE_MS = 10_000;
const BACKOFF_FIRST_MS = 250;
const BACKOFF_MAX_MS = 30_000;
/** How long a stats question waits for the workers' answers. */
const STATS_WAIT_MS = 1000;
/** A slot without a listening worker for longer than the longest back-off: /healthz says so. */
const DOWN_UNHEALTHY_MS = BACKOFF_MAX_MS + 5_000;
/** Every worker is asked this often whether it is alive (its answer carries its counters). */
const PING_MS = 1000;
/** A worker silent this long is hung (stopped, or its event loop stuck): it is killed and replaced. */
const HUNG_MS = 3000;

interface Slot {
  readonly id: number;
  proc: Subprocess | null;
  startedAt: number;
  /** Crashes in a row, each within STABLE_MS of its start. */
  failures: number;
  listening: boolean;
  /** When this slot last stopped having a listening worker (performance.now()); null while it has one. */
  downSince: number | null;
  /** When the worker last answered anything (performance.now()). */
  lastHeard: number;
  /** The freshest counters it reported: added to the retired totals when it goes. */
  last: StatsSnapshot | null;
  /** The CPU seconds it last reported (stats answers carry them): added to the retired CPU when it goes. */
  lastCpu: number;
  /** Silent for HUNG_MS: being killed. */
  hung: boolean;
  restart: ReturnType<typeof setTimeout> | null;
}

/** The command that starts this same program as a worker: the executable itself, or `bun <entry>`. */
export function workerCommand(): string[] {
  const self = Bun.main.startsWith("/$bunfs/") ? [process.execPath] : [process.execPath, Bun.main];
  return [...self, "__worker"];
}

/**
 * --workers N: N processes of this program, each with its own listener on the same address
 * (SO_REUSEPORT: the kernel spreads connections across them). The supervisor holds the port,
 * hands each worker its settings and identity over IPC, restarts workers that die or cannot be
 * spawned (with a back-off that stops a crash loop), forwards SIGTERM so every worker drains, and
 * answers metrics and stats for all of them together.
 *
 * Start-up is all or nothing: until every worker has listened once, a worker that fails (or a
 * spawn that fails) stops the others, and the supervisor exits with the worker's code (1 for a
 * spawn failure). After that, failures are restarts.
 */
export function runSupervisor(opts: ServiceOptions, log: Logger): Service {
  // Each listener's port stays ours while workers bind their own sockets to it (SO_REUSEPORT), so
  // port 0 gives every worker the same port. A socket systemd passed is handed on instead: worker
  // fds 3, 4, ... in the order of `inherited` (stdio entries beyond 2 become the child's fds).
  const reserved: number[] = [];
  const inherited: number[] = [];
  let listeners;
  try {
    listeners = opts.listeners.map((l) => {
      if (l.listenFd !== null) {
        inherited.push(l.listenFd);
        return { ...l, listenFd: 2 + inherited.length };
      }
      const r = reservePort(l.host, l.port, l.ipv6Only);
      reserved.push(r.fd);
      return { ...l, port: r.port };
    });
  } catch (e) {
    for (const fd of reserved) closeFd(fd);
    throw e;
  }
  const settings = toWire({ ...opts, listeners, workers: 1 });
  const command = workerCommand();
  const slots: Slot[] = Array.from({ length: opts.workers }, (_, i) => ({
    id: i + 1,
    proc: null,
    startedAt: 0,
    failures: 0,
    listening: false,
    downSince: performance.now(),
    lastHeard: 0,
    last: null,
    lastCpu: 0,
    hung: false,
    restart: null,
  }));
  /** Counters of workers that have exited: totals never go backwards when a worker is replaced. */
  const retired = new ServerStats();
  /** CPU seconds of workers that have exited: process_cpu_seconds_total is a counter too. */
  let retiredCpu = 0;
  const { promise: done, resolve: finish } = Promise.withResolvers<number>();
  let stopping: Promise<void> | null = null;
  /** Every worker has listened once: start-up is over. */
  let started = false;
  /** The exit code once stopped: 0, or why start-up failed. */
  let exitCode = 0;
  let nextQuestion = 0;
  const pending = new Map<number, { answers: Map<number, { stats: StatsSnapshot; process: ProcessMetrics }>; expect: number; resolve: () => void }>();
  /** The status page's questions (status, connections), answered by worker. */
  const asks = new Map<number, { answers: Map<number, FromWorker>; expect: number; resolve: () => void }>();

  /**
   * Bun's Subprocess.send() throws (ERR_IPC_CHANNEL_CLOSED) once a worker has exited, which can be
   * before its `exited` promise has told us (measured: in 3 of 5 SIGKILLs the first throw came
   * 0.16-0.26 ms before `exited` resolved), and a throw in the pinger's interval would end the
   * supervisor with exit code 1. false: the worker is gone, and onExit will handle it.
   */
  function tell(proc: Subprocess, m: ToWorker): boolean {
    try {
      proc.send(m);
      return true;
    } catch {
      return false;
    }
  }

  /** Asks every listening worker; waits at most STATS_WAIT_MS, then goes on with the answers it has. */
  const askWorkers: AskWorkers = async (make) => {
    const live = slots.filter((s) => s.proc && s.listening);
    const id = ++nextQuestion;
    const q = { answers: new Map<number, FromWorker>(), expect: live.length, resolve: () => {} };
    if (live.length === 0) return q.answers;
    const answered = new Promise<void>((r) => (q.resolve = r));
    asks.set(id, q);
    // Answers come in later turns of the loop: a worker that is already gone is not waited for.
    q.expect = live.filter((s) => tell(s.proc!, make(id))).length;
    if (q.expect > 0) await Promise.race([answered, Bun.sleep(STATS_WAIT_MS)]);
    asks.delete(id);
    return q.answers;
  };

  const where = listeners.map((l) => hostPort(l.host, l.port)).join(", ");
  log.info("supervisor", `supervisor ${process.pid}: ${plural(opts.workers, "worker")} on ${where} (SO_REUSEPORT)`, {
    workers: opts.workers,
    address: listeners[0]!.host,
    port: listeners[0]!.port,
    listeners: listeners.map((l) => ({ name: l.name, address: l.host, port: l.port })),
  });

  function onMessage(slot: Slot, m: FromWorker): void {
    slot.lastHeard = performance.now();
    if (m.type === "pong") slot.last = m.stats;
    else if (m.type === "listening") {
      slot.listening = true;
      slot.downSince = null;
      log.info("worker-ready", `worker ${slot.id} (pid ${slot.proc?.pid}) listening`, { worker: slot.id, pid: slot.proc?.pid ?? null });
      if (!started && slots.every((s) => s.listening)) {
        started = true;
        // One report for the whole service: every worker's listener has the same options.
        logReport(log, m.report, opts, "info");
      }
    } else if (m.type === "status" || m.type === "connections") {
      const q = asks.get(m.id);
      if (!q) return;
      q.answers.set(slot.id, m);
      if (q.answers.size >= q.expect) q.resolve();
    } else if (m.type === "stats") {
      slot.last = m.stats;
      slot.lastCpu = m.process.cpuSeconds;
      const q = pending.get(m.id);
      if (!q) return;
      q.answers.set(slot.id, { stats: m.stats, process: m.process });
      if (q.answers.size >= q.expect) q.resolve();
    }
  }

  function spawn(slot: Slot): void {
    slot.restart = null;
    slot.listening = false;
    slot.hung = false;
    slot.startedAt = slot.lastHeard = performance.now();
    let proc: Subprocess;
    try {
      proc = Bun.spawn(command, {
        // LISTEN_* are for the supervisor alone (sd_listen_fds(3)): workers get the inherited
        // sockets as fds 3, 4, ... and learn which is which from their settings.
        env: { ...process.env, LISTEN_PID: "", LISTEN_FDS: "", LISTEN_FDNAMES: "" },
        stdio: ["ignore", "inherit", "inherit", ...inherited],
        serialization: "json",
        ipc: (m) => onMessage(slot, m as FromWorker),
      });
    } catch (e) {
      // The executable was removed or replaced during an upgrade (ENOENT), or no descriptors are
      // left (EMFILE): a failed start like any other.
      onFailure(slot, null, `could not be spawned (${errorText(e)})`, 1);
      return;
    }
    slot.proc = proc;
    tell(proc, { type: "start", worker: slot.id, settings });
    log.info("worker-start", `worker ${slot.id} started (pid ${proc.pid})`, { worker: slot.id, pid: proc.pid });
    void proc.exited.then((code) => onExit(slot, proc, code));
  }

  function onExit(slot: Slot, proc: Subprocess, code: number): void {
    if (slot.proc !== proc) return;
    slot.proc = null;
    slot.listening = false;
    slot.downSince ??= performance.now();
    if (slot.last) retired.add(slot.last, false);
    slot.last = null;
    retiredCpu += slot.lastCpu;
    slot.lastCpu = 0;
    const how = proc.signalCode ? `signal ${proc.signalCode}` : `code ${code}`;
    if (stopping) {
      log.info("worker-exit", `worker ${slot.id} (pid ${proc.pid}) stopped (${how})`, { worker: slot.id, pid: proc.pid, code, signal: proc.signalCode ?? null });
      finishIfAllGone();
      return;
    }
    onFailure(slot, proc, `(pid ${proc.pid}) died (${how})`, proc.signalCode ? 1 : code || 1);
  }

  /** A worker that died or could not be spawned: fatal during start-up, restarted after. */
  function onFailure(slot: Slot, proc: Subprocess | null, what: string, code: number): void {
    const pid = proc?.pid ?? null;
    const signal = proc?.signalCode ?? null;
    if (!started) {
      log.error("worker-failed", `worker ${slot.id} ${what} during start-up; stopping the others`, { worker: slot.id, pid, code, signal });
      exitCode = code;
      void stop();
      return;
    }
    const lived = performance.now() - slot.startedAt;
    slot.failures = lived >= STABLE_MS ? 1 : slot.failures + 1;
    const delay = Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** (slot.failures - 1));
    log.warn("worker-exit", `worker ${slot.id} ${what} after ${(lived / 1000).toFixed(1)} s; restarting in ${delay} ms`, {
      worker: slot.id,
      pid,
      code,
      signal,
      restart_in_ms: delay,
    });
    slot.restart = setTimeout(() => spawn(slot), delay);
  }

  function finishIfAllGone(): void {
    if (!slots.every((s) => s.proc === null)) return;
    for (const fd of reserved) closeFd(fd);
    finish(exitCode);
  }

  /**
   * Asks every live worker for its counters (waits at most STATS_WAIT_MS) and adds the retired
   * totals; a worker that does not answer counts with the last figures it sent.
   */
  async function gather(): Promise<{ stats: StatsSnapshot; processes: ProcessMetrics[]; absentCpu: number }> {
    const live = slots.filter((s) => s.proc && s.listening);
    const id = ++nextQuestion;
    const q = { answers: new Map<number, { stats: StatsSnapshot; process: ProcessMetrics }>(), expect: live.length, resolve: () => {} };
    if (live.length > 0) {
      const answered = new Promise<void>((r) => (q.resolve = r));
      pending.set(id, q);
      q.expect = live.filter((s) => tell(s.proc!, { type: "stats", id })).length;
      if (q.expect > 0) await Promise.race([answered, Bun.sleep(STATS_WAIT_MS)]);
      pending.delete(id);
    }
    const snapshots = live.map((s) => q.answers.get(s.id)?.stats ?? s.last).filter((x): x is StatsSnapshot => x !== null);
    const silentCpu = live.filter((s) => !q.answers.has(s.id)).reduce((a, s) => a + s.lastCpu, 0);
    return { stats: sumSnapshots(snapshots, retired.snapshot()), processes: [...q.answers.values()].map((a) => a.process), absentCpu: retiredCpu + silentCpu };
  }

  /** Liveness: ping the workers; one silent for HUNG_MS is killed, and replaced by onExit. */
  const pinger = setInterval(() => {
    if (stopping) return;
    const now = performance.now();
    for (const s of slots) {
      if (!s.proc || !s.listening || s.hung) continue;
      if (now - s.lastHeard > HUNG_MS) {
        s.hung = true;
        log.error("worker-hung", `worker ${s.id} (pid ${s.proc.pid}) has not answered for ${((now - s.lastHeard) / 1000).toFixed(1)} s; killing it`, {
          worker: s.id,
          pid: s.proc.pid,
          silent_ms: Math.round(now - s.lastHeard),
        });
        s.proc.kill("SIGKILL");
      } else tell(s.proc, { type: "ping", id: ++nextQuestion });
    }
  }, PING_MS);

  function workerCounts(): WorkerCounts {
    const now = performance.now();
    return {
      desired: opts.workers,
      serving: slots.filter((s) => s.listening && !s.hung).length,
      hung: slots.filter((s) => s.hung || (s.proc !== null && s.listening && now - s.lastHeard > PING_MS * 2)).map((s) => s.id),
      down: slots.filter((s) => s.downSince !== null && now - s.downSince > DOWN_UNHEALTHY_MS).map((s) => s.id),
    };
  }

  const cleanups: (() => void)[] = [];

  function stop(): Promise<void> {
    stopping ??= (async () => {
      log.info("shutdown", `stopping: SIGTERM to ${plural(slots.filter((s) => s.proc).length, "worker")}; each drains its connections`, { workers: opts.workers });
      for (const s of slots) {
        if (s.restart) clearTimeout(s.restart);
        s.restart = null;
        s.proc?.kill("SIGTERM");
      }
      finishIfAllGone();
      // Workers stop within their own --shutdown-timeout; one that hangs past it is killed.
      const killer = setTimeout(() => {
        for (const s of slots) s.proc?.kill("SIGKILL");
      }, (opts.shutdownTimeout + 5) * 1000);
      await done;
      clearTimeout(killer);
      clearInterval(pinger);
      for (const c of cleanups) c();
    })();
    return stopping;
  }

  try {
    if (opts.metrics) {
      // The read-only status page of all the workers: their views merged over IPC.
      const status = new StatusHub(supervisorSource(opts.workers, askWorkers, async () => (await gather()).stats)).start();
      cleanups.push(() => status.stop());
      const m = startApiServer({
        status,
        host: opts.metrics.host,
        port: opts.metrics.port,
        logger: log,
        control: null,
        readOnly: true,
        token: null,
        version: pkg.version,
        metrics: {
        view: async () => {
          const { stats, processes, absentCpu } = await gather();
          return { stats, processes, workers: workerCounts(), absentCpuSeconds: absentCpu };
        },
        // A hung worker still holds its share of the port (SO_REUSEPORT), so some new connections
        // would hang: not ready until it has been replaced.
        accepting: () => !stopping && slots.some((s) => s.listening) && workerCounts().hung.length === 0,
        health: () => workerCounts().down,
        },
      });
      cleanups.push(m.stop);
    }
  } catch (e) {
    for (const c of cleanups) c();
    for (const fd of reserved) closeFd(fd);
    throw e;
  }
  if (opts.statsInterval > 0) cleanups.push(startStatsReporter(opts.statsInterval, async () => (await gather()).stats, log));

  for (const s of slots) if (!stopping) spawn(s);
  return {
    stop,
    done,
    reload: () => {
      const tls = opts.listeners.some((l) => l.tls !== null);
      log.info("reload", tls ? "SIGHUP: passed on to the workers; each re-reads its TLS certificate files" : "SIGHUP: nothing to reload (settings are fixed at start); passed on to the workers");
      for (const s of slots) s.proc?.kill("SIGHUP");
    },
    report: async () => logStats(log, (await gather()).stats, null, 0),
    abort: () => {
      for (const s of slots) s.proc?.kill("SIGKILL");
    },
  };
}
