import { formatAddress, readListenQueue, readSocketOptions, type FdLimit, type KernelLimits, type SockAddress } from "../net/index.ts";
import type { MemoryBudgetSource } from "./memory.ts";
import { plural, type Logger } from "../log/index.ts";
import type { ListenerConfig } from "./config.ts";
import { logTlsReport } from "./tls-log.ts";
import type { TlsReport } from "./tls-store.ts";

type Value = string | number | boolean | null;

/** One socket option as asked for and as the kernel holds it afterwards. */
export interface OptionReport {
  readonly option: string;
  readonly asked: Value;
  /** Read back from the kernel; null when it could not be (then `unreadable` says why). */
  readonly effective: Value;
  /** Why no value can be read back: shown instead of a value, never one filled from the config. */
  readonly unreadable: string | null;
  readonly note: string | null;
}

/** One listener: its address and every option as asked and as read back. */
export interface ListenerReport {
  readonly name: string;
  readonly address: SockAddress;
  readonly options: readonly OptionReport[];
  /** A TLS listener's certificates (subject, fingerprint, validity) and settings; null for plain TCP. */
  readonly tls: TlsReport | null;
}

export interface StartupReport {
  readonly listeners: readonly ListenerReport[];
  readonly kernel: KernelLimits;
  /** The --max-memory budget for echo data, and where its value came from. */
  readonly memory: MemoryBudgetSource;
  /** RLIMIT_NOFILE: the soft limit as found and as raised, and the hard one. */
  readonly fds: FdLimit;
}

const show = (v: Value) => (v === null ? "unknown" : typeof v === "boolean" ? (v ? "on" : "off") : String(v));

/**
 * Reads every option back from the listening socket (getsockopt, sock_diag) and sets it next to
 * what was asked. What the kernel changed is explained in the note: it doubles SO_RCVBUF/SO_SNDBUF
 * for bookkeeping overhead and caps the asked value at rmem_max/wmem_max first (socket(7)), and
 * caps the backlog at somaxconn (listen(2)).
 */
export function buildListenerReport(fd: number, cfg: ListenerConfig, address: SockAddress, backlog: number, kernel: KernelLimits): ListenerReport {
  const o = readSocketOptions(fd);
  const queue = readListenQueue(fd);
  const bufNote = (asked: number | null, max: number | null, maxName: string) => {
    if (asked === null) return "kernel default";
    const capped = max !== null && asked > max;
    return `kernel doubles the asked size${capped ? ` after capping it at ${maxName} ${max}` : ""}`;
  };
  const read = (option: string, asked: Value, effective: Value, note: string | null): OptionReport => ({ option, asked, effective, unreadable: null, note });
  const options: OptionReport[] = [
    queue
      ? read("backlog", backlog, queue.max, cfg.backlog === null ? "somaxconn" : kernel.somaxconn !== null && backlog > kernel.somaxconn ? `capped at somaxconn ${kernel.somaxconn}` : null)
      : { option: "backlog", asked: backlog, effective: null, unreadable: "sock_diag did not answer", note: null },
    read("SO_REUSEADDR", true, o.reuseAddr, null),
    read("SO_REUSEPORT", cfg.reusePort, o.reusePort, null),
    read("SO_RCVBUF", cfg.recvBuf, o.recvBuf, bufNote(cfg.recvBuf, kernel.rmemMax, "rmem_max")),
    read("SO_SNDBUF", cfg.sendBuf, o.sendBuf, bufNote(cfg.sendBuf, kernel.wmemMax, "wmem_max")),
    // What the listener holds. Bun sets TCP_NODELAY on every socket it accepts, and with
    // --no-nodelay we clear it on each one: each connection's own value is read at debug.
    read("TCP_NODELAY", cfg.nodelay, o.nodelay, cfg.nodelay ? "on the listener; Bun also sets it on every accepted socket" : "on the listener; cleared on every accepted socket"),
    {
      option: "TCP_QUICKACK",
      asked: cfg.quickack,
      effective: null,
      // tcp(7): getsockopt(TCP_QUICKACK) returns whether the socket is in quick-ack mode right now,
      // which a fresh socket is whatever was asked; it is a state, not a setting to read back.
      unreadable: "getsockopt reports the current ack mode, not a setting",
      note: quickNote(cfg),
    },
    read("SO_KEEPALIVE", cfg.keepalive !== null, o.keepalive, null),
  ];
  if (cfg.keepalive) {
    options.push(
      read("TCP_KEEPIDLE", cfg.keepalive.idle, o.keepIdle, "seconds"),
      read("TCP_KEEPINTVL", cfg.keepalive.interval, o.keepInterval, cfg.keepalive.interval === null ? "kernel default" : "seconds"),
      read("TCP_KEEPCNT", cfg.keepalive.count, o.keepCount, cfg.keepalive.count === null ? "kernel default" : null),
    );
  }
  if (o.ipv6Only !== null) {
    // An IPv6 listener: dual-stack unless IPV6_V6ONLY (ipv6(7)); only the wildcard takes IPv4 peers.
    // Linux sets it itself when the socket is bound to a specific IPv6 address (inet6_bind): no
    // IPv4 peer could reach one anyway, so the read-back says on whatever was asked.
    const note = !o.ipv6Only ? "dual-stack: IPv4 peers arrive as ::ffff:a.b.c.d" : cfg.ipv6Only ? "IPv6 peers only" : "set by the kernel: a specific IPv6 address takes no IPv4 peers";
    options.push(read("IPV6_V6ONLY", cfg.ipv6Only, o.ipv6Only, note));
  }
  return { name: cfg.name, address, options, tls: null };
}

function quickNote(cfg: ListenerConfig): string {
  switch (cfg.quickack) {
    case "auto":
      return "re-armed after reads not answered at once (a new connection starts in quick-ack mode)";
    case "always":
      return "re-armed after every read";
    case "off":
      return "never set";
  }
}

/** The process's report: the listeners, the kernel's limits, memory and descriptors. */
export function logReport(
  log: Logger,
  r: StartupReport,
  cfg: { readonly listeners: readonly ListenerConfig[]; readonly shutdownTimeout: number },
  level: "info" | "debug",
): void {
  if (!(level === "info" ? log.infoOn : log.debugOn)) return;
  const several = r.listeners.length > 1;
  r.listeners.forEach((l, i) => {
    const lc = cfg.listeners[i]!;
    const { host, port } = l.address;
    log.log(
      level,
      "listening",
      `listening on ${formatAddress(l.address)}${several ? ` as ${JSON.stringify(l.name)}` : ""} (idle timeout ${lc.timeout > 0 ? `${lc.timeout} s` : "off"}, max connections ${lc.maxConnections || "unlimited"}, max buffer ${lc.maxBuffer} B, shutdown timeout ${cfg.shutdownTimeout} s)`,
      { listener: l.name, address: host, port, timeout: lc.timeout, max_connections: lc.maxConnections, max_buffer: lc.maxBuffer, shutdown_timeout: cfg.shutdownTimeout },
    );
    if (lc.record) {
      const { codec, mode } = lc.record;
      log.log(level, "record-format", `  records: ${JSON.stringify(codec.format)}, ${codec.size} B each, ${plural(codec.fieldCount, "field")}, ${mode} framing`, {
        listener: l.name,
        format: codec.format,
        size: codec.size,
        fields: codec.fieldCount,
        mode,
      });
    }
    // Said up front: a listener that waits for a header looks, to a client without one, like a
    // server that echoes nothing and then resets.
    if (lc.proxyProtocol !== "off") {
      const which = lc.proxyProtocol === "any" ? "v1 or v2" : lc.proxyProtocol;
      const judged = lc.clientIpFrom === "proxy" ? "the client the header names" : "the load balancer (the TCP peer)";
      log.log(level, "proxy-protocol", `  PROXY protocol: each connection must begin with a ${which} header, complete within ${lc.proxyTimeout} s; --allow, --deny and --max-per-ip judge ${judged}`, {
        listener: l.name,
        mode: lc.proxyProtocol,
        timeout: lc.proxyTimeout,
        client_ip_from: lc.clientIpFrom,
      });
    }
    for (const o of l.options) {
      log.log(
        level,
        "option",
        `  ${o.option.padEnd(13)} asked ${o.asked === null ? "default" : show(o.asked)}, kernel ${o.unreadable ? `not readable: ${o.unreadable}` : show(o.effective)}${o.note ? ` (${o.note})` : ""}`,
        { listener: l.name, option: o.option, asked: o.asked, effective: o.effective, unreadable: o.unreadable, note: o.note },
      );
    }
    if (l.tls) logTlsReport(log, level, l.name, l.tls);
  });
  const k = r.kernel;
  log.log(
    level,
    "kernel",
    `  kernel limits: accept queue max (somaxconn) ${show(k.somaxconn)}, SYN queue max (tcp_max_syn_backlog) ${show(k.synBacklog)}, ` +
      `rmem_max ${show(k.rmemMax)}, wmem_max ${show(k.wmemMax)}, tcp_synack_retries ${show(k.synackRetries)} ` +
      `-> max connect timeout ${k.maxConnectTimeout === null ? "unknown" : `${k.maxConnectTimeout} s`}`,
    {
      somaxconn: k.somaxconn,
      syn_backlog: k.synBacklog,
      rmem_max: k.rmemMax,
      wmem_max: k.wmemMax,
      synack_retries: k.synackRetries,
      max_connect_timeout: k.maxConnectTimeout,
    },
  );
  const m = r.memory;
  log.log(level, "memory", `  memory for echo data: ${mib(m.bytes)}${m.of === null ? ` (${m.from})` : ` (a quarter of ${m.from} ${mib(m.of)})`}`, {
    max_memory: m.bytes,
    from: m.from,
    of: m.of,
  });
  const f = r.fds;
  log.log(level, "fds", `  file descriptors: soft limit ${f.soft}${f.before !== f.soft ? ` (raised from ${f.before})` : ""}, hard limit ${f.hard}`, {
    soft: f.soft,
    before: f.before,
    hard: f.hard,
  });
}

const mib = (n: number) => (n >= 1 << 30 ? `${(n / 2 ** 30).toFixed(1)} GiB` : `${(n / 2 ** 20).toFixed(1)} MiB`);
