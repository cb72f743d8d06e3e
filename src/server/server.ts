import type { TCPSocketListener } from "bun";
import { plural } from "../log/plural.ts";
import {
  adoptListenSocket,
  closeFd,
  getSockName,
  openListenSocket,
  raiseFdLimit,
  readKernelLimits,
  readListenQueue,
  type Ipv4Address,
} from "../net/index.ts";
import type { ServerConfig } from "./config.ts";
import type { Connection } from "./connection.ts";
import { EchoHandlers, type EchoContext } from "./echo.ts";
import { buildReport, logReport, type StartupReport } from "./report.ts";
import { ServerStats, type StatsSnapshot } from "./stats.ts";
import { AcceptGuard } from "./accept-guard.ts";
import { readdirSync } from "node:fs";
import { defaultMemoryBudget, MemoryBudget } from "./memory.ts";

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

/**
 * Binds, listens and serves. Throws SyscallError when the socket cannot be set up (address in
 * use, permission denied); nothing is left open then.
 */
export function startServer(config: ServerConfig): ServerHandle {
  const log = config.logger;
  const kernel = readKernelLimits();
  // Every connection is a descriptor: the soft limit goes up to the hard one (setrlimit(2)). Bun
  // 1.4.5 already does so itself at start (measured); this makes sure and reports it.
  const fdLimit = raiseFdLimit();
  const activated = config.listenFd !== null;
  let fd: number;
  let backlog: number;
  if (config.listenFd !== null) {
    fd = config.listenFd;
    adoptListenSocket(fd, config);
    // systemd's Backlog= stands unless --backlog overrides it; Bun's re-listen would lose it.
    backlog = config.backlog ?? readListenQueue(fd)?.max ?? kernel.somaxconn ?? 4096;
  } else {
    // Asking for somaxconn gets the largest queue the kernel allows (listen(2) caps at it anyway).
    backlog = config.backlog ?? kernel.somaxconn ?? 4096;
    fd = openListenSocket({
      host: config.host,
      port: config.port,
      backlog,
      reusePort: config.reusePort,
      recvBuf: config.recvBuf,
      sendBuf: config.sendBuf,
      keepalive: config.keepalive,
      nodelay: config.nodelay,
    });
  }

  const stats = new ServerStats();
  const conns = new Set<Connection>();
  const memory = config.maxMemory === null ? defaultMemoryBudget() : { bytes: config.maxMemory, from: "--max-memory", of: null };
  const budget = new MemoryBudget(memory.bytes);
  stats.budget = budget;
  const ctx: EchoContext = { config, log, stats, budget, conns, onClosed: () => {} };
  const echo = new EchoHandlers(ctx);
  const handlers = echo.handlers();
  // Descriptors in use besides connections (Bun's own, stdio, the listener): counted once.
  const baseFds = readdirSync("/proc/self/fd").length;
  let guard: AcceptGuard;
  try {
    guard = new AcceptGuard(
      fd,
      backlog,
      // Bun.listen adopts a listening fd ({ fd }, absent from its types) and keeps our options.
      (copy) => (Bun.listen as unknown as (o: object) => TCPSocketListener<unknown>)({ fd: copy, allowHalfOpen: true, socket: handlers }),
      fdLimit.soft,
      () => baseFds + stats.open,
      log,
    );
  } catch (e) {
    closeFd(fd);
    throw e;
  }
  echo.onAccept = () => guard.accepted();
  stats.accept = () => guard.counts;
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
    log.info("shutdown", `stopping: no new connections; ${conns.size} open, waiting up to ${config.shutdownTimeout} s for them to close`, {
      open: conns.size,
      shutdown_timeout: config.shutdownTimeout,
    });
    // Stop accepting; connections still in the kernel's accept queue are reset as our socket closes.
    guard.stop();
    closeFd(fd);
    for (const c of [...conns]) echo.beginShutdown(c);
    if (conns.size > 0) {
      const { promise: allClosed, resolve } = Promise.withResolvers<void>();
      ctx.onClosed = () => {
        if (conns.size === 0) resolve();
      };
      const timer = setTimeout(resolve, config.shutdownTimeout * 1000);
      await allClosed;
      clearTimeout(timer);
      if (conns.size > 0) {
        log.warn("shutdown-timeout", `${plural(conns.size, "connection")} still open after ${config.shutdownTimeout} s; resetting them`, { open: conns.size });
        for (const c of [...conns]) echo.terminate(c, "shutdown");
      }
    }
    echo.wheel.close();
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
