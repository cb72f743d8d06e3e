import type { KeepaliveOptions } from "../net/index.ts";
import type { Logger } from "../log/logger.ts";
import type { Clock } from "../time/index.ts";
import type { StructCodec } from "../protocol/struct/index.ts";
import type { AccessConfig } from "./access.ts";

export const QUICKACK_MODES = ["auto", "always", "off"] as const;
export type QuickAckMode = (typeof QUICKACK_MODES)[number];

/** Why a connection ended; the `reason` field of the close log line. */
export const CLOSE_REASONS = ["peer-closed", "idle-timeout", "reset", "error", "shutdown", "limit", "denied"] as const;
export type CloseReason = (typeof CLOSE_REASONS)[number];

export const RECORD_MODES = ["interleaved", "stream"] as const;
export type RecordMode = (typeof RECORD_MODES)[number];

/** --record: fixed-size binary records described by a Python struct format. */
export interface RecordConfig {
  readonly codec: StructCodec;
  /** interleaved: a line (echoed), then one record (decoded, not echoed), and so on; stream: records only, all echoed. */
  readonly mode: RecordMode;
}

/** Everything startServer needs, already validated: the CLI and tests build it, the server trusts it. */
export interface ServerConfig {
  readonly host: string;
  readonly port: number;
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
  /** Open connections allowed at once; 0 = unlimited. */
  readonly maxConnections: number;
  /** Echo bytes held for one connection before its reading pauses. */
  readonly maxBuffer: number;
  /** Echo bytes held by the whole process before connections that queue more pause; null: a
   * quarter of the cgroup's or the machine's memory (see memory.ts). */
  readonly maxMemory: number | null;
  /** Seconds a graceful stop waits for peers to close. */
  readonly shutdownTimeout: number;
  /** Decode binary records from the inbound stream; null = plain echo. */
  readonly record: RecordConfig | null;
  /** --allow / --deny / --max-per-ip; null = everyone, unlimited. */
  readonly access: AccessConfig | null;
  /** A listening socket inherited from systemd (sd_listen_fds(3)) to adopt instead of binding. */
  readonly listenFd: number | null;
  /** Set in a worker process of --workers: shown in connection tags ("w2#12"). */
  readonly workerId: number | null;
  readonly logger: Logger;
  /** Time for deadlines; the real clock unless a test passes a virtual one. */
  readonly clock?: Clock;
}

/** What a listener's connection logic needs: the per-listener options. */
export type ListenerProfile = Pick<ServerConfig, "timeout" | "quickack" | "nodelay" | "maxConnections" | "maxBuffer" | "record" | "access">;

export const DEFAULTS = {
  host: "127.0.0.1",
  port: 9999,
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
  maxMemory: null,
  shutdownTimeout: 5,
  record: null,
  access: null,
  listenFd: null,
  workerId: null,
} as const satisfies Omit<ServerConfig, "logger">;
