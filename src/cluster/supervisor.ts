import type { Subprocess } from "bun";
import { closeFd, reservePort } from "../net/index.ts";
import { createLogger, type Logger } from "../log/logger.ts";
import { mergeSnapshots, type StatsSnapshot } from "../server/stats.ts";
import { startMetricsServer } from "../server/metrics.ts";
import type { ProcessMetrics } from "../server/process-metrics.ts";
import { startStatsReporter } from "../server/stats-reporter.ts";
import type { FromWorker, Service, ServiceOptions } from "./types.ts";

/** A worker that ran at least this long before dying resets the crash back-off. */
const STABLE_MS = 10_000;
const BACKOFF_FIRST_MS = 250;
const BACKOFF_MAX_MS = 30_000;
/** How long a stats question waits for the workers' answers. */
const STATS_WAIT_MS = 1000;

interface Slot {
  readonly id: number;
  proc: Subprocess | null;
  startedAt: number;
  /** Crashes in a row, each within STABLE_MS of its start. */
  failures: number;
  listening: boolean;
  restart: ReturnType<typeof setTimeout> | null;
}

/** The command that starts this same program: the executable itself, or `bun <entry script>`. */
export function selfCommand(): string[] {
  return Bun.main.startsWith("/$bunfs/") ? [process.execPath] : [process.execPath, Bun.main];
}

/**
 * --workers N: N processes of this program, each with its own listener on the same address
 * (SO_REUSEPORT: the kernel spreads connections across them). The supervisor holds the port,
 * restarts workers that die (with a back-off that stops a crash loop), forwards SIGTERM so every
 * worker drains, and answers metrics and stats for all of them together.
 *
 * `args` are the serve arguments as the user gave them; the worker gets them plus the resolved
 * port and `--workers 1`, with TCP_ECHO_WORKER_ID telling it which worker it is.
 */
export function runSupervisor(opts: ServiceOptions, args: readonly string[]): Service {
  const log: Logger = createLogger(opts.log);
  const reserved = reservePort(opts.host, opts.port);
  const port = reserved.port;
  const command = [...selfCommand(), "serve", ...args, "--port", String(port), "--workers", "1"];
  const slots: Slot[] = Array.from({ length: opts.workers }, (_, i) => ({ id: i + 1, proc: null, startedAt: 0, failures: 0, listening: false, restart: null }));
  const { promise: done, resolve: finish } = Promise.withResolvers<number>();
  let stopping: Promise<void> | null = null;
  let everListened = false;
  let nextQuestion = 0;
  const pending = new Map<number, { answers: { stats: StatsSnapshot; process: ProcessMetrics }[]; expect: number; resolve: () => void }>();

  log.info("supervisor", `supervisor ${process.pid}: ${opts.workers} workers on ${opts.host}:${port} (SO_REUSEPORT)`, { workers: opts.workers, address: opts.host, port });

  function onMessage(slot: Slot, m: FromWorker): void {
    if (m.type === "listening") {
      slot.listening = true;
      everListened = true;
    } else if (m.type === "stats") {
      const q = pending.get(m.id);
      if (!q) return;
      q.answers.push({ stats: m.stats, process: m.process });
      if (q.answers.length >= q.expect) q.resolve();
    }
  }

  function spawn(slot: Slot): void {
    slot.restart = null;
    slot.listening = false;
    slot.startedAt = performance.now();
    const proc = Bun.spawn(command, {
      // LISTEN_* are for the supervisor alone (sd_listen_fds(3)); workers bind their own sockets.
      env: { ...process.env, TCP_ECHO_WORKER_ID: String(slot.id), LISTEN_PID: "", LISTEN_FDS: "" },
      stdio: ["ignore", "inherit", "inherit"],
      serialization: "json",
      ipc: (m) => onMessage(slot, m as FromWorker),
    });
    slot.proc = proc;
    log.info("worker-start", `worker ${slot.id} started (pid ${proc.pid})`, { worker: slot.id, pid: proc.pid });
    void proc.exited.then((code) => onExit(slot, proc, code));
  }

  function onExit(slot: Slot, proc: Subprocess, code: number): void {
    if (slot.proc !== proc) return;
    slot.proc = null;
    const how = proc.signalCode ? `signal ${proc.signalCode}` : `code ${code}`;
    if (stopping) {
      log.info("worker-exit", `worker ${slot.id} (pid ${proc.pid}) stopped (${how})`, { worker: slot.id, pid: proc.pid, code, signal: proc.signalCode ?? null });
      if (slots.every((s) => s.proc === null)) {
        closeFd(reserved.fd);
        finish(0);
      }
      return;
    }
    // A worker that never listened and exited on its own with 1 or 2 hit a configuration problem
    // (address in use, bad option): restarting cannot help, so the supervisor gives up.
    if (!everListened && !slot.listening && !proc.signalCode && (code === 1 || code === 2)) {
      log.error("worker-failed", `worker ${slot.id} failed to start (${how}); stopping`, { worker: slot.id, code });
      void stop().then(() => finish(code));
      return;
    }
    const lived = performance.now() - slot.startedAt;
    slot.failures = lived >= STABLE_MS ? 1 : slot.failures + 1;
    const delay = Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** (slot.failures - 1));
    log.warn("worker-exit", `worker ${slot.id} (pid ${proc.pid}) died (${how}) after ${(lived / 1000).toFixed(1)} s; restarting in ${delay} ms`, {
      worker: slot.id,
      pid: proc.pid,
      code,
      signal: proc.signalCode ?? null,
      restart_in_ms: delay,
    });
    slot.restart = setTimeout(() => spawn(slot), delay);
  }

  /** Asks every live worker for its counters; waits at most STATS_WAIT_MS. */
  async function gather(): Promise<{ stats: StatsSnapshot; process: ProcessMetrics }[]> {
    const live = slots.filter((s) => s.proc && s.listening);
    if (live.length === 0) return [];
    const id = ++nextQuestion;
    const q = { answers: [] as { stats: StatsSnapshot; process: ProcessMetrics }[], expect: live.length, resolve: () => {} };
    const answered = new Promise<void>((r) => (q.resolve = r));
    pending.set(id, q);
    for (const s of live) s.proc!.send({ type: "stats", id });
    await Promise.race([answered, Bun.sleep(STATS_WAIT_MS)]);
    pending.delete(id);
    return q.answers;
  }

  const cleanups: (() => void)[] = [];
  if (opts.metrics) {
    const m = startMetricsServer(opts.metrics.host, opts.metrics.port, {
      view: async () => {
        const answers = await gather();
        return { stats: mergeSnapshots(answers.map((a) => a.stats)), processes: answers.map((a) => a.process) };
      },
      accepting: () => !stopping,
    }, log);
    cleanups.push(m.stop);
  }
  if (opts.statsInterval > 0) cleanups.push(startStatsReporter(opts.statsInterval, async () => mergeSnapshots((await gather()).map((a) => a.stats)), log));

  function stop(): Promise<void> {
    stopping ??= (async () => {
      log.info("shutdown", `stopping: SIGTERM to ${slots.filter((s) => s.proc).length} workers; each drains its connections`, { workers: opts.workers });
      for (const s of slots) {
        if (s.restart) clearTimeout(s.restart);
        s.restart = null;
        s.proc?.kill("SIGTERM");
      }
      if (slots.every((s) => s.proc === null)) {
        closeFd(reserved.fd);
        finish(0);
      }
      // Workers stop within their own --shutdown-timeout; one that hangs past it is killed.
      const killer = setTimeout(() => {
        for (const s of slots) s.proc?.kill("SIGKILL");
      }, (opts.shutdownTimeout + 5) * 1000);
      await done;
      clearTimeout(killer);
      for (const c of cleanups) c();
    })();
    return stopping;
  }

  for (const s of slots) spawn(s);
  return {
    stop,
    done,
    abort: () => {
      for (const s of slots) s.proc?.kill("SIGKILL");
    },
  };
}
