import type { Toxic } from "../faults/index.ts";
import type { KeepaliveOptions } from "../net/index.ts";
import type { Logger } from "../log/logger.ts";
import type { Clock } from "../time/index.ts";
import type { StructCodec } from "../protocol/struct/index.ts";
import type { AccessConfig } from "./access.ts";
import type { ClientIpFrom, ProxyMode } from "./proxy-header.ts";
import type { TlsConfig } from "./tls-config.ts";

export const QUICKACK_MODES = ["auto", "always", "off"] as const;
export type QuickAckMode = (typeof QUICKACK_MODES)[number];

/** Why a connection ended; the `reason` field of the close log line. */
export const CLOSE_REASONS = ["peer-closed", "idle-timeout", "reset", "error", "shutdown", "limit", "denied", "proxy-error", "proxy-timeout", "tls-error", "tls-timeout", "toxic", "api"] as const;
export type CloseReason = (typeof CLOSE_REASONS)[number];

export const RECORD_MODES = ["interleaved", "stream"] as const;
export type RecordMode = (typeof RECORD_MODES)[number];

/** --record: fixed-size binary records described by a Python struct format. */
export interface RecordConfig {
  readonly codec: StructCodec;
  /** interleaved: a line (echoed), then one record (decoded, not echoed), and so on; stream: records only, all echoed. */
  readonly mode: RecordMode;
}

/**
 * One listening socket and the profile of the connections it accepts: everything that can differ
 * from one listener to the next.
 */
export interface ListenerConfig {
  /** Names the listener in logs (`#12@admin` when there are several) and metrics (`listener="admin"`). */
  readonly name: string;
  readonly host: string;
  readonly port: number;
  /** IPV6_V6ONLY on an IPv6 listener: false (the default) makes `::` dual-stack. */
  readonly ipv6Only: boolean;
  /** A listening socket inherited from systemd (sd_listen_fds(3)) to adopt instead of binding. */
  readonly listenFd: number | null;
  /** Idle timeout in seconds; 0 disables it. */
  readonly timeout: number;
  /** listen() backlog; null asks for somaxconn (the most the kernel will give). */
  readonly backlog: number | null;
  readonly recvBuf: number | null;
  readonly sendBuf: number | null;
  readonly quickack: QuickAckMode;
  readonly nodelay: boolean;
  readonly keepalive: KeepaliveOptions | null;
  readonly reusePort: boolean;
  /** Open connections allowed at once on this listener; 0 = unlimited. */
  readonly maxConnections: number;
  /** Echo bytes held for one connection before its reading pauses. */
  readonly maxBuffer: number;
  /** Decode binary records from the inbound stream; null = plain echo. */
  readonly record: RecordConfig | null;
  /** --allow / --deny / --max-per-ip; null = everyone, unlimited. */
  readonly access: AccessConfig | null;
  /** A PROXY protocol header each connection must begin with (HAProxy's proxy-protocol.txt), or off. */
  readonly proxyProtocol: ProxyMode;
  /** Seconds a connection has to complete its header. */
  readonly proxyTimeout: number;
  /** Which address --allow, --deny and --max-per-ip judge: the header's client, or the real peer. */
  readonly clientIpFrom: ClientIpFrom;
  /** TLS on this listener (after the PROXY header, if any); null: plain TCP. */
  readonly tls: TlsConfig | null;
  /** Toxics on its connections from the start (--toxic, [[listener.toxic]]); the API changes them at run time. */
  readonly toxics: readonly Toxic[];
  /** Listening from the start; false: the listener exists (the API can enable it) but refuses connections. */
  readonly enabled: boolean;
  /** What the API shows as the proxy's upstream: "echo", or what a --toxiproxy-config file said. */
  readonly upstream: string;
}

/** Everything startServer needs, already validated: the CLI and tests build it, the server trusts it. */
export interface ServerConfig {
  /** At least one. */
  readonly listeners: readonly ListenerConfig[];
  /** Echo bytes held by the whole process before connections that queue more pause; null: a
   * quarter of the cgroup's or the machine's memory (see memory.ts). */
  readonly maxMemory: number | null;
  /** Seconds a graceful stop waits for peers to close. */
  readonly shutdownTimeout: number;
  /** Set in a worker process of --workers: shown in connection tags ("w2#12"). */
  readonly workerId: number | null;
  readonly logger: Logger;
  /** Time for deadlines; the real clock unless a test passes a virtual one. */
  readonly clock?: Clock;
  /** Seeds the toxics' chance (toxicity, jitter, slicer cuts); null: a new seed each run. */
  readonly seed?: number | null;
  /**
   * Keep the last 500 closes for a status page (--api or --metrics); false saves two
   * getpeername(2) per connection. Default true.
   */
  readonly recentCloses?: boolean;
  /** The profile a listener opened at run time (POST /proxies) gets: the command line's. */
  readonly profile?: ListenerProfileBase;
}

/** A listener's settings apart from what names and places it. */
export type ListenerProfileBase = Omit<ListenerConfig, "name" | "host" | "port" | "listenFd" | "toxics" | "enabled" | "upstream">;

/** What a listener's connection logic needs. */
export type ListenerProfile = Pick<
  ListenerConfig,
  "timeout" | "quickack" | "nodelay" | "maxConnections" | "maxBuffer" | "record" | "access" | "proxyProtocol" | "proxyTimeout" | "clientIpFrom"
>;

/** The default listener: the Python recipe's 127.0.0.1:9999, 5.5 s idle timeout. */
export const DEFAULT_LISTENER = {
  name: "main",
  host: "127.0.0.1",
  port: 9999,
  ipv6Only: false,
  listenFd: null,
  timeout: 5.5,
  backlog: null,
  recvBuf: null,
  sendBuf: null,
  quickack: "auto",
  nodelay: true,
  keepalive: null,
  reusePort: true,
  maxConnections: 0,
  maxBuffer: 1024 * 1024,
  record: null,
  access: null,
  proxyProtocol: "off",
  proxyTimeout: 3,
  clientIpFrom: "proxy",
  tls: null,
  toxics: [] as readonly Toxic[],
  enabled: true,
  upstream: "echo",
} as const satisfies ListenerConfig;

export const DEFAULTS = {
  ...DEFAULT_LISTENER,
  maxMemory: null,
  shutdownTimeout: 5,
  workerId: null,
  seed: null,
} as const;
