import type { Socket, TCPSocketListener } from "bun";
import type { Logger } from "../log/logger.ts";
import { errorText } from "../log/error-text.ts";
import { plural } from "../log/plural.ts";
import { HttpConn } from "./conn.ts";
import { Exchange } from "./exchange.ts";
import { DEFAULT_HTTP_LIMITS, type HttpCounters, type HttpLimits, type HttpServer, type HttpServerOptions } from "./types.ts";

type Sock = Socket<HttpConn | undefined>;

/**
 * Listens on host:port with Bun.listen and serves HTTP/1.1 to `handler`. Throws when the address
 * cannot be bound (Bun's error: EADDRINUSE, EACCES...) and RangeError for a limit that is not a
 * positive integer.
 */
export function startHttpServer(options: HttpServerOptions): HttpServer {
  const limits: HttpLimits = { ...DEFAULT_HTTP_LIMITS, ...options.limits };
  for (const [key, value] of Object.entries(limits)) {
    if (!Number.isSafeInteger(value) || value <= 0) throw new RangeError(`HTTP limit ${key} must be a positive integer, not ${String(value)}`);
  }
  const { logger: log, name } = options;
  const counters: HttpCounters = {
    connectionsAccepted: 0,
    connectionsRefused: 0,
    connectionsOpen: 0,
    responses: { "2xx": 0, "3xx": 0, "4xx": 0, "5xx": 0 },
    badRequests: 0,
    handlerErrors: 0,
    timeouts: { header: 0, body: 0, idle: 0, send: 0 },
    streamsOverflowed: 0,
    bytesIn: 0,
    bytesOut: 0,
  };
  const conns = new Set<HttpConn>();
  let stopping = false;
  let stopped: Promise<void> | null = null;
  let allClosed: (() => void) | null = null;
  const exchange = new Exchange({
    name,
    log,
    limits,
    handler: options.handler,
    counters,
    stopping: () => stopping,
    onClosed(c) {
      conns.delete(c);
      if (allClosed && conns.size === 0) allClosed();
    },
  });
  const refusals = new RefusalLog(log, name, limits.maxConnections);
  /** A bug of ours in one connection is logged and costs only that connection, never the server. */
  const bug = (c: HttpConn, e: unknown) => {
    log.error("http-bug", `${c.tag} bug: ${errorText(e)}; resetting the connection`, { server: name, conn: c.id, peer: c.peer, error: errorText(e) });
    if (!c.closed) c.socket.terminate();
    else if (conns.delete(c) && allClosed && conns.size === 0) allClosed();
  };

  let nextId = 0;

  const listener: TCPSocketListener<HttpConn | undefined> = Bun.listen<HttpConn | undefined>({
    // Bun takes IPv6 literals bare; "[::1]" is how people write them next to a port.
    hostname: options.host.replace(/^\[(.*)\]$/, "$1"),
    port: options.port,
    // The peer's FIN must not close the socket: a request sent before it still gets its reply.
    allowHalfOpen: true,
    socket: {
      binaryType: "uint8array",
      open(s: Sock) {
        // The kernel completed the handshake already; the cheapest refusal is a reset before
        // any read, so a flood costs one descriptor per connection for an instant.
        if (stopping || conns.size >= limits.maxConnections) {
          counters.connectionsRefused++;
          refusals.note(conns.size);
          s.terminate();
          return;
        }
        const c = new HttpConn(++nextId, s, s.remoteAddress, s.remotePort, name, limits, performance.now());
        s.data = c;
        conns.add(c);
        exchange.open(c);
      },
      // No closure per event: each handler has its own try, free in JSC until something throws.
      data(s: Sock, chunk: Uint8Array) {
        const c = s.data;
        if (c)
          try {
            exchange.data(c, chunk);
          } catch (e) {
            bug(c, e);
          }
      },
      drain(s: Sock) {
        const c = s.data;
        if (c)
          try {
            exchange.drain(c);
          } catch (e) {
            bug(c, e);
          }
      },
      end(s: Sock) {
        const c = s.data;
        if (c)
          try {
            exchange.end(c);
          } catch (e) {
            bug(c, e);
          }
      },
      close(s: Sock, error?: Error) {
        const c = s.data;
        if (c)
          try {
            exchange.close(c, error);
          } catch (e) {
            bug(c, e);
          }
      },
      error(s: Sock, error: Error) {
        const c = s.data;
        if (c && log.debugOn) log.debug("http-socket-error", `${c.tag} ${errorText(error)}`, { server: name, conn: c.id, peer: c.peer, error: errorText(error) });
      },
    },
  });

  return {
    port: listener.port,
    counters,
    connections: () => conns.size,
    stop() {
      if (stopped) return stopped;
      stopping = true;
      listener.stop(false);
      stopped = new Promise<void>((resolve) => {
        let grace: ReturnType<typeof setTimeout> | null = null;
        allClosed = () => {
          allClosed = null;
          if (grace) clearTimeout(grace);
          exchange.timeouts.close();
          refusals.close();
          resolve();
        };
        if (conns.size === 0) return allClosed();
        grace = setTimeout(() => {
          for (const c of [...conns]) c.socket.terminate();
        }, limits.stopGraceMs);
        for (const c of [...conns]) exchange.stopConn(c);
      });
      return stopped;
    },
  };
}

/**
 * Refusals at the connection cap come in floods: the first is logged at once, the rest as one
 * line with their count per second while they last. Nothing is formatted with warn off.
 */
class RefusalLog {
  private pending = 0;
  private timer: ReturnType<typeof setInterval> | null = null;

  constructor(
    private readonly log: Logger,
    private readonly name: string,
    private readonly max: number,
  ) {}

  note(open: number): void {
    if (!this.log.warnOn) return;
    if (this.timer) {
      this.pending++;
      return;
    }
    this.log.warn("http-refused", `${this.name}: refused a connection: ${plural(open, "connection")} open, the limit is ${this.max}`, {
      server: this.name,
      refused: 1,
      max_connections: this.max,
    });
    this.timer = setInterval(() => this.flush(), 1000);
    this.timer.unref?.();
  }

  private flush(): void {
    if (this.pending === 0) return this.close();
    this.log.warn("http-refused", `${this.name}: refused ${plural(this.pending, "more connection")} in the last second at the limit of ${this.max}`, {
      server: this.name,
      refused: this.pending,
      max_connections: this.max,
    });
    this.pending = 0;
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    // A stop inside a burst still reports its count.
    if (this.pending > 0) this.flush();
  }
}
