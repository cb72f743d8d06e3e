import { adoptListenSocket, closeFd, getSockName, listenOnFd, openListenSocket, readListenQueue, type FdLimit, type KernelLimits, type SockAddress } from "../net/index.ts";
import type { Logger } from "../log/index.ts";
import type { Clock } from "../time/index.ts";
import { AcceptGuard } from "./accept-guard.ts";
import type { ListenerConfig } from "./config.ts";
import { EchoHandlers } from "./echo.ts";
import type { MemoryBudget } from "./memory.ts";
import { ServerStats } from "./stats.ts";
import { buildListenerReport, type ListenerReport } from "./startup-report.ts";
import { REFUSAL_LINES_PER_S } from "./echo.ts";
import { TlsHandshakes } from "./tls-handshakes.ts";
import { TlsCertificates, type TlsReport } from "./tls-store.ts";
import { errorText } from "../log/index.ts";

/** What every listener of a process shares. */
export interface ListenerContext {
  readonly log: Logger;
  readonly budget: MemoryBudget;
  readonly clock: Clock;
  readonly kernel: KernelLimits;
  readonly fdLimit: FdLimit;
  /** Descriptors the process has open, roughly (for the accept guard's estimate). */
  readonly fdsInUse: () => number;
  /** "#" or "w2#": starts connection tags. */
  readonly tagPrefix: string;
  /** Tags name the listener ("#12@admin") only when there is more than one. */
  readonly several: boolean;
}

/**
 * One listening socket and its connections: the socket (ours, or systemd's), the accept guard,
 * the echo handlers, its own counters and its start-up report.
 */
export class Listener {
  readonly stats = new ServerStats();
  readonly address: SockAddress;
  report: ListenerReport;
  readonly activated: boolean;
  private readonly echo: EchoHandlers;
  private readonly guard: AcceptGuard;
  private readonly fd: number;
  private readonly certificates: TlsCertificates | null;
  private readonly log: Logger;

  constructor(
    readonly config: ListenerConfig,
    ctx: ListenerContext,
  ) {
    this.activated = config.listenFd !== null;
    this.log = ctx.log;
    // Certificates first: a bad file must fail the start before a socket is bound.
    this.certificates = config.tls ? new TlsCertificates(config.tls) : null;
    const { fd, backlog } = listeningSocket(config, ctx.kernel.somaxconn);
    this.fd = fd;
    this.stats.budget = ctx.budget;
    const tls =
      this.certificates &&
      new TlsHandshakes({
        log: ctx.log,
        listener: config.name,
        stats: this.stats,
        clock: ctx.clock,
        certificates: this.certificates,
        timeout: config.timeout,
        linesPerSecond: REFUSAL_LINES_PER_S,
      });
    this.echo = new EchoHandlers({
      profile: config,
      listener: config.name,
      log: ctx.log,
      stats: this.stats,
      budget: ctx.budget,
      clock: ctx.clock,
      tag: { prefix: ctx.tagPrefix, suffix: ctx.several ? `@${config.name}` : "" },
      onAccept: () => this.guard?.accepted(),
      v6: config.host.includes(":") || (config.listenFd !== null && getSockName(fd).family === 6),
      tls,
    });
    try {
      const handlers = tls ? tls.wrap(this.echo.handlers()) : this.echo.handlers();
      this.guard = new AcceptGuard(fd, backlog, (copy) => listenOnFd(copy, handlers), ctx.fdLimit.soft, ctx.fdsInUse, ctx.log);
    } catch (e) {
      this.echo.close();
      closeFd(fd);
      throw e;
    }
    const guard = this.guard;
    this.stats.accept = () => guard.counts;
    this.address = getSockName(fd);
    this.report = { ...buildListenerReport(fd, config, this.address, backlog, ctx.kernel), tls: this.certificates?.report() ?? null };
  }

  /**
   * SIGHUP: a TLS listener re-reads its certificate files. The new set serves the next handshakes;
   * open connections keep theirs. A bad file is logged and the old set kept. Returns false on failure.
   */
  reload(): boolean {
    if (!this.certificates) return true;
    const name = this.config.name;
    let r: TlsReport;
    try {
      r = this.certificates.reload();
    } catch (e) {
      this.log.error("tls-reload", `listener ${JSON.stringify(name)}: certificates not reloaded, the old ones stay: ${errorText(e)}`, { listener: name, error: errorText(e) });
      return false;
    }
    this.report = { ...this.report, tls: r };
    for (const c of r.certificates)
      this.log.info(
        "tls-reload",
        `listener ${JSON.stringify(name)}: ${c.names.length ? `certificate for SNI ${c.names.join(", ")}` : "certificate"} reloaded: ${c.subject} SHA-256 ${c.fingerprint256}, valid to ${c.notAfter} (${c.source})`,
        { listener: name, names: c.names, subject: c.subject, sha256: c.fingerprint256, not_after: c.notAfter, source: c.source },
      );
    return true;
  }

  get open(): number {
    return this.echo.open;
  }

  /** Stops accepting: connections still in the kernel's accept queue are reset as our socket closes. */
  stopAccepting(): void {
    this.guard.stop();
    closeFd(this.fd);
  }

  /** Graceful stop of its connections; resolves when the last one has closed. */
  drain(): Promise<void> {
    return this.echo.shutdown();
  }

  terminateAll(): void {
    this.echo.terminateAll("shutdown");
  }

  close(): void {
    this.echo.close();
  }
}

/** The listening socket: ours (socket, options, bind, listen) or the one systemd passed. */
function listeningSocket(config: ListenerConfig, somaxconn: number | null): { fd: number; backlog: number } {
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
    ipv6Only: config.ipv6Only,
    backlog,
    reusePort: config.reusePort,
    recvBuf: config.recvBuf,
    sendBuf: config.sendBuf,
    keepalive: config.keepalive,
    nodelay: config.nodelay,
  });
  return { fd, backlog };
}
