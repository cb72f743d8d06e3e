import { adoptListenSocket, closeFd, getSockName, listenOnFd, openListenSocket, readListenQueue, type FdLimit, type KernelLimits, type SockAddress } from "../net/index.ts";
import type { Logger } from "../log/index.ts";
import type { Clock } from "../time/index.ts";
import { ToxicSet, type FaultContext } from "../faults/index.ts";
import { AcceptGuard } from "./accept-guard.ts";
import type { ListenerConfig } from "./config.ts";
import { EchoHandlers, type ConnectionInfo } from "./echo.ts";
import type { MemoryBudget } from "./memory.ts";
import { ServerStats } from "./stats.ts";
import type { RecentCloses } from "./recent-closes.ts";
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
  readonly faults: FaultContext;
  readonly closes: RecentCloses;
}

/**
 * One listening socket and its connections: the socket (ours, or systemd's), the accept guard,
 * the echo handlers, its toxics, its own counters and its start-up report.
 *
 * Two states only an endpoint can give a client (toxiproxy, a proxy, cannot):
 * - disabled: our listening socket is closed, so a SYN to the port finds no listener and the
 *   kernel answers RST (tcp(7)): the client's connect() fails with ECONNREFUSED at once. Enabling
 *   binds and listens on the same address and port again (SO_REUSEADDR lets it past TIME_WAIT).
 * - accept paused: the socket stays listening but nobody calls accept(). The kernel completes
 *   handshakes into the accept queue until it holds backlog + 1 connections; past that it drops
 *   new SYNs (listen(2): "the request may be ignored so that a later reattempt succeeds"; with
 *   tcp_abort_on_overflow off, the default, tcp(7)), so the client's connect() waits through its
 *   SYN retransmissions (1 s, then doubling). Resuming accepts what queued.
 */
export class Listener {
  readonly stats = new ServerStats();
  address: SockAddress;
  report: ListenerReport;
  readonly activated: boolean;
  readonly toxics: ToxicSet;
  private readonly echo: EchoHandlers;
  private guard: AcceptGuard | null = null;
  private fd = -1;
  private backlog = 0;
  private acceptHeld = false;
  /** A socket has been opened once (systemd's is adopted only the first time). */
  private opened = false;
  private readonly certificates: TlsCertificates | null;
  /** A TLS listener's handshakes (null on plain TCP): they wrap the echo handlers of every socket it listens on. */
  private readonly tls: TlsHandshakes | null;
  private readonly log: Logger;

  constructor(
    readonly config: ListenerConfig,
    private readonly ctx: ListenerContext,
    /** Names the listener in connection tags even when it was the only one at start (opened at run time). */
    suffix = ctx.several,
  ) {
    this.activated = config.listenFd !== null;
    this.log = ctx.log;
    // Certificates first: a bad file must fail the start before a socket is bound.
    this.certificates = config.tls ? new TlsCertificates(config.tls) : null;
    this.tls =
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
    // An IPv6 listener: its dual-stack peers arrive IPv4-mapped.
    const v6 = config.host.includes(":") || (config.listenFd !== null && getSockName(config.listenFd).family === 6);
    this.toxics = new ToxicSet(config.toxics);
    this.echo = new EchoHandlers({
      profile: config,
      listener: config.name,
      log: ctx.log,
      stats: this.stats,
      budget: ctx.budget,
      clock: ctx.clock,
      tag: { prefix: ctx.tagPrefix, suffix: suffix ? `@${config.name}` : "", v6 },
      onAccept: () => this.guard?.accepted(),
      toxics: this.toxics,
      faults: ctx.faults,
      closes: ctx.closes,
      tls: this.tls,
    });
    this.stats.budget = ctx.budget;
    this.address = { family: config.host.includes(":") ? 6 : 4, host: config.host, port: config.port };
    if (!config.enabled && config.listenFd === null) {
      this.report = { name: config.name, address: this.address, options: [], tls: this.certificates?.report() ?? null };
      return;
    }
    try {
      this.listen();
    } catch (e) {
      this.echo.close();
      throw e;
    }
    this.report = { ...buildListenerReport(this.fd, config, this.address, this.backlog, ctx.kernel), tls: this.certificates?.report() ?? null };
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

  /** Listening now (not disabled). */
  get enabled(): boolean {
    return this.fd >= 0;
  }

  /** Accepting is held (the API's accept pause). */
  get acceptPaused(): boolean {
    return this.acceptHeld;
  }

  /** Binds and listens again on the same address and port (the bound one when 0 was asked). */
  enable(): void {
    if (this.fd >= 0) return;
    this.listen();
  }

  /** Stops listening (connections are refused) and ends the open ones as a graceful stop would. */
  disable(graceMs: number): Promise<void> {
    this.stopAccepting();
    return this.echo.endConnections(graceMs);
  }

  /** Listens on another address (a proxy's new listen): the open connections end as in a graceful stop. */
  moveTo(host: string, port: number, graceMs: number): Promise<void> {
    const listening = this.enabled;
    this.stopAccepting();
    const ended = this.echo.endConnections(graceMs);
    this.address = { family: host.includes(":") ? 6 : 4, host, port };
    if (listening) this.listen();
    return ended;
  }

  /** Keeps listening without accepting: the kernel's accept queue fills, then SYNs are dropped. */
  holdAccept(on: boolean): void {
    this.acceptHeld = on;
    this.guard?.hold(on);
  }

  /** Stops accepting: connections still in the kernel's accept queue are reset as our socket closes. */
  stopAccepting(): void {
    this.guard?.stop();
    this.guard = null;
    if (this.fd >= 0) closeFd(this.fd);
    this.fd = -1;
  }

  /** Graceful stop of its connections; resolves when the last one has closed. */
  drain(): Promise<void> {
    return this.echo.shutdown();
  }

  /** Ends its connections as a graceful stop, resetting those still open after `ms` (DELETE /proxies). */
  endConnections(ms: number): Promise<void> {
    return this.echo.endConnections(ms);
  }

  terminateAll(): void {
    this.echo.terminateAll("shutdown");
  }

  close(): void {
    this.echo.close();
  }

  connections(withTcp = true): ConnectionInfo[] {
    return this.echo.connections(withTcp);
  }

  closeConnection(id: number, how: "fin" | "rst"): boolean {
    return this.echo.closeConnection(id, how);
  }

  private listen(): void {
    const { fd, backlog } = listeningSocket(this.config, this.address, this.ctx.kernel.somaxconn, !this.opened);
    this.opened = true;
    try {
      const handlers = this.tls ? this.tls.wrap(this.echo.handlers()) : this.echo.handlers();
      this.guard = new AcceptGuard(fd, backlog, (copy) => listenOnFd(copy, handlers), this.ctx.fdLimit.soft, this.ctx.fdsInUse, this.ctx.log, this.acceptHeld);
    } catch (e) {
      closeFd(fd);
      throw e;
    }
    this.fd = fd;
    this.backlog = backlog;
    const guard = this.guard;
    this.stats.accept = () => guard.counts;
    this.address = getSockName(fd);
  }
}

/** The listening socket: ours (socket, options, bind, listen) or the one systemd passed (at start only). */
function listeningSocket(config: ListenerConfig, at: SockAddress, somaxconn: number | null, first: boolean): { fd: number; backlog: number } {
  if (config.listenFd !== null && first) {
    const fd = config.listenFd;
    adoptListenSocket(fd, config);
    // systemd's Backlog= stands unless --backlog overrides it; Bun's re-listen would lose it.
    return { fd, backlog: config.backlog ?? readListenQueue(fd)?.max ?? somaxconn ?? 4096 };
  }
  // Asking for somaxconn gets the largest queue the kernel allows (listen(2) caps at it anyway).
  const backlog = config.backlog ?? somaxconn ?? 4096;
  const fd = openListenSocket({
    host: at.host,
    port: at.port,
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
