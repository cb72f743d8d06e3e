import { readdirSync } from "node:fs";
import { plural } from "../log/plural.ts";
import { adoptListenSocket, closeFd, getSockName, listenOnFd, openListenSocket, raiseFdLimit, readKernelLimits, readListenQueue, type Ipv4Address } from "../net/index.ts";
import { realClock } from "../time/index.ts";
import { AcceptGuard } from "./accept-guard.ts";
import type { ServerConfig } from "./config.ts";
import { EchoHandlers } from "./echo.ts";
import { defaultMemoryBudget, MemoryBudget } from "./memory.ts";
import { ServerStats, type StatsSnapshot } from "./stats.ts";
import { buildReport, logReport, type StartupReport } from "./startup-report.ts";

export interface ServerHandle {
  /** The address the listener is bound to (getsockname: the real port when 0 was asked). */
  readonly address: Ipv4Address;
  /** Every option as asked and as the kernel applied it, plus the kernel's limits. */
  readonly report: StartupReport;
  stats(): StatsSnapshot;
  /** true until a stop begins (readiness: a load balancer should stop sending first). */
  accepting(): boolean;
  /** The listener came from systemd socket activation rather than our own bind. */
  readonly activated: boolean;
  /**
   * Graceful stop: stop accepting, echo what each peer sent and half-close it, wait up to
   * --shutdown-timeout for peers to close, reset the rest. Safe to call more than once.
   */
  stop(): Promise<void>;
  /** Resolves when a stop has finished. */
  readonly stopped: Promise<void>;
}

/** The listening socket: ours (socket, options, bind, listen) or the one systemd passed. */
function listeningSocket(config: ServerConfig, somaxconn: number | null): { fd: number; backlog: number } {
  if (config.listenFd !== null) {
    const fd = config.listenFd;
    adoptListenSocket(fd, config);
    // systemd's Backlog= stands unless --backlog overrides it; Bun's re-listen would lose it.
    return { fd, backlog: config.backlog ?? readListenQueue(fd)?.max ?? somaxconn ?? 4096 };
  }
  // Asking for somaxconn gets the largest queue the kernel allows (listen(2) caps at it anyway).
  const backlog = config.backlog ?? somaxconn ?? 4096;
  const fd = openListenSocket({
    host: config.host,
    port: config.port,
    backlog,
    reusePort: config.reusePort,
    recvBuf: config.recvBuf,
    sendBuf: config.sendBuf,
    keepalive: config.keepalive,
    nodelay: config.nodelay,
  });
  return { fd, backlog };
}

/**
 * Binds, listens and serves. Throws SyscallError when the socket cannot be set up (address in
 * use, permission denied); nothing is left open then.
 */
export function startServer(config: ServerConfig): ServerHandle {
  const log = config.logger;
  const clock = config.clock ?? realClock;
  const kernel = readKernelLimits();
  // Every connection is a descriptor: the soft limit goes up to the hard one (setrlimit(2)). Bun
  // 1.4.5 already does so itself at start (measured); this makes sure and reports it.
  const fdLimit = raiseFdLimit();
  const activated = config.listenFd !== null;
  const { fd, backlog } = listeningSocket(config, kernel.somaxconn);

  const stats = new ServerStats();
  const memory = config.maxMemory === null ? defaultMemoryBudget() : { bytes: config.maxMemory, from: "--max-memory", of: null };
  const budget = new MemoryBudget(memory.bytes);
  stats.budget = budget;
  let guard: AcceptGuard | null = null;
  const echo = new EchoHandlers({
    profile: config,
    log,
    stats,
    budget,
    clock,
    tagPrefix: config.workerId === null ? "#" : `w${config.workerId}#`,
    onAccept: () => guard?.accepted(),
  });
  // Descriptors in use besides connections (Bun's own, stdio, the listener): counted once.
  const baseFds = readdirSync("/proc/self/fd").length;
  try {
    const handlers = echo.handlers();
    guard = new AcceptGuard(fd, backlog, (copy) => listenOnFd(copy, handlers), fdLimit.soft, () => baseFds + stats.open, log);
  } catch (e) {
    echo.close();
    closeFd(fd);
    throw e;
  }
  const acceptGuard = guard;
  stats.accept = () => acceptGuard.counts;
  const address = getSockName(fd);
  const report = buildReport(fd, address, config, backlog, kernel, memory, fdLimit);
  if (activated) log.info("activation", `socket activation: serving the listening socket systemd passed as fd ${fd}`, { fd });
  // A worker's report goes to debug: its supervisor prints the one report for all of them.
  logReport(log, report, config, config.workerId === null ? "info" : "debug");

  const { promise: stopped, resolve: markStopped } = Promise.withResolvers<void>();
  let stopping: Promise<void> | null = null;
  let accepting = true;

  async function drainAndStop(): Promise<void> {
    accepting = false;
    log.info("shutdown", `stopping: no new connections; ${echo.open} open, waiting up to ${config.shutdownTimeout} s for them to close`, {
      open: echo.open,
      shutdown_timeout: config.shutdownTimeout,
    });
    // Stop accepting; connections still in the kernel's accept queue are reset as our socket closes.
    acceptGuard.stop();
    closeFd(fd);
    const drained = echo.shutdown();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), config.shutdownTimeout * 1000)));
    if (await Promise.race([drained.then(() => false), timedOut])) {
      log.warn("shutdown-timeout", `${plural(echo.open, "connection")} still open after ${config.shutdownTimeout} s; resetting them`, { open: echo.open });
      echo.terminateAll("shutdown");
      await drained;
    }
    clearTimeout(timer);
    echo.close();
    const s = stats.snapshot();
    log.info("stopped", `stopped: ${plural(s.accepted, "connection")} served, ${s.bytesIn} B in, ${s.bytesOut} B out`, {
      accepted: s.accepted,
      bytes_in: s.bytesIn,
      bytes_out: s.bytesOut,
    });
    markStopped();
  }

  return {
    address,
    report,
    stats: () => stats.snapshot(),
    accepting: () => accepting,
    activated,
    stop: () => (stopping ??= drainAndStop()),
    stopped,
  };
}
