import type { TCPSocketListener } from "bun";
import { closeFd, dupFd, freeFds, readListenQueue, relisten } from "../net/index.ts";
import type { Logger } from "../log/logger.ts";

/** How often descriptors are counted while accepting (the accept loop cannot tell us). */
const WATCH_MS = 100;
/** How often, while paused, we look for free descriptors again. */
const RETRY_MS = 50;
/** Free descriptors needed before accepting again. */
const RESUME_AT = 16;
/** Below this many estimated free descriptors, every accept counts them exactly. */
const CLOSE_TO_LIMIT = 64;

export interface AcceptCounts {
  /** Accepting is paused now (out of descriptors). */
  readonly paused: boolean;
  /** Times accepting was paused, and seconds spent paused in all. */
  readonly pauses: number;
  readonly pausedSeconds: number;
}

/**
 * Keeps the accept loop from spinning when the process is out of file descriptors. Bun's accept
 * path ignores EMFILE: the listening socket stays readable and the loop runs at 100% CPU, logging
 * nothing, until a descriptor is freed (measured: 95-100% CPU, no callback). JS cannot see the
 * failure, so descriptors are counted (fcntl(F_DUPFD) copies, see freeFds) every 100 ms and at
 * every accept once we are near the soft limit. Out of them, the Bun listener is stopped:
 * Bun holds a dup() of our listening socket, so stop() closes only that copy while ours stays
 * listening and the kernel keeps queueing connections (up to the backlog; they are served, not
 * refused, when descriptors come back). With RESUME_AT free, a new Bun listener takes a new dup.
 */
export class AcceptGuard {
  private listener: TCPSocketListener<any> | null = null;
  private watch: ReturnType<typeof setInterval> | null = null;
  private retry: ReturnType<typeof setInterval> | null = null;
  private pausedAt = 0;
  private pausedMs = 0;
  private pauses = 0;
  private lastWarn = 0;
  private stopped = false;

  constructor(
    private readonly fd: number,
    private readonly backlog: number,
    private readonly start: (fd: number) => TCPSocketListener<any>,
    /** Descriptors the process may open (the soft RLIMIT_NOFILE) and how many it has open now, roughly. */
    private readonly softLimit: number,
    private readonly inUse: () => number,
    private readonly log: Logger,
    /** Accepting held by the API (accept pause): the socket listens, nobody accepts. */
    private held = false,
  ) {
    if (!held) this.listen();
    this.watch = setInterval(() => this.check(), WATCH_MS);
    this.watch.unref?.();
  }

  get counts(): AcceptCounts {
    const now = this.retry ? performance.now() - this.pausedAt : 0;
    return { paused: this.retry !== null, pauses: this.pauses, pausedSeconds: (this.pausedMs + now) / 1000 };
  }

  /** Called at every accept: cheap unless the estimate says we are near the limit. */
  accepted(): void {
    if (this.softLimit - this.inUse() < CLOSE_TO_LIMIT) this.check();
  }

  /**
   * The API's accept pause: the Bun listener (on its dup) stops while our fd keeps listening, the
   * same way as when descriptors run out, so the kernel keeps completing handshakes into the
   * accept queue until it is full. Resuming starts a listener on a new dup.
   */
  hold(on: boolean): void {
    if (this.stopped || on === this.held) return;
    this.held = on;
    if (on) {
      this.listener?.stop(false);
      this.listener = null;
    } else if (!this.retry) this.listen();
  }

  /** Stops accepting for good (graceful stop). Our listening fd is the caller's to close. */
  stop(): void {
    this.stopped = true;
    if (this.watch) clearInterval(this.watch);
    if (this.retry) clearInterval(this.retry);
    this.watch = this.retry = null;
    this.listener?.stop(false);
    this.listener = null;
  }

  private listen(): void {
    const copy = dupFd(this.fd);
    try {
      this.listener = this.start(copy);
    } catch (e) {
      closeFd(copy);
      throw e;
    }
    // Bun.listen({ fd }) calls listen() again with its own backlog (511): ours goes back.
    relisten(this.fd, this.backlog);
  }

  private check(): void {
    if (this.stopped || this.held || this.retry || freeFds(this.fd, 1) > 0) return;
    this.listener?.stop(false);
    this.listener = null;
    this.pauses++;
    this.pausedAt = performance.now();
    this.warn("paused");
    this.retry = setInterval(() => this.tryResume(), RETRY_MS);
  }

  private tryResume(): void {
    if (this.stopped) return;
    if (freeFds(this.fd, RESUME_AT) < RESUME_AT) {
      this.warn("still paused");
      return;
    }
    clearInterval(this.retry!);
    this.retry = null;
    this.pausedMs += performance.now() - this.pausedAt;
    if (!this.held) this.listen();
    if (this.log.infoOn) this.log.info("accept-resumed", `accepting again: descriptors are free (paused ${((performance.now() - this.pausedAt) / 1000).toFixed(2)} s)`, { paused_ms: Math.round(performance.now() - this.pausedAt) });
  }

  /** At most one line a second, with counts. */
  private warn(state: string): void {
    const now = performance.now();
    if (!this.log.warnOn || now - this.lastWarn < 1000) return;
    this.lastWarn = now;
    const queued = readListenQueue(this.fd)?.queued ?? null;
    this.log.warn(
      "accept-paused",
      `accepting ${state}: out of file descriptors (about ${this.inUse()} open, soft limit ${this.softLimit}); ${queued ?? "unknown"} connections wait in the accept queue`,
      { in_use: this.inUse(), soft_limit: this.softLimit, queued, pauses: this.pauses },
    );
  }
}
