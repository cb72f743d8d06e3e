import type { ArgsDef } from "citty";
import { DEFAULTS, QUICKACK_MODES, RECORD_MODES, type RecordConfig } from "../server/index.ts";
import { compileStruct, StructFormatError } from "../protocol/struct/index.ts";
import { parseCidr, type AccessConfig, type Cidr } from "../server/access.ts";
import { availableParallelism } from "node:os";
import { LOG_FORMATS, LOG_LEVELS, type LogSettings } from "../log/logger.ts";
import type { ServiceOptions } from "../cluster/index.ts";
import type { KeepaliveOptions } from "../net/index.ts";
import { UsageError } from "./errors.ts";
import { givenBoolean, givenString, type CliArgs, type Given } from "./flags.ts";
import { parseBoolean, parseChoice, parseHost, parseInteger, parsePort, parseSeconds, parseSize } from "./values.ts";

/** --host/--port, shared by serve, client and bench. */
export const addressArgs = {
  host: { type: "string", valueHint: "ADDR", description: "IPv4 address (localhost = 127.0.0.1; 0.0.0.0 = all) [127.0.0.1]" },
  port: { type: "string", valueHint: "PORT", description: "TCP port; 0 picks a free one [9999]" },
} as const satisfies ArgsDef;

export const logArgs = {
  "log-level": { type: "string", valueHint: "LEVEL", description: `${LOG_LEVELS.join(", ")} [info]` },
  "log-format": { type: "string", valueHint: "FORMAT", description: "pretty, or json (one object per line) [pretty]" },
} as const satisfies ArgsDef;

// No citty `default`s: an absent flag must fall through to TCP_ECHO_<OPTION>, then to DEFAULTS.
export const serveArgs = {
  ...addressArgs,
  timeout: { type: "string", valueHint: "SECONDS", description: "idle timeout; 0 disables [5.5]" },
  backlog: { type: "string", valueHint: "N", description: "accept queue size for listen() [somaxconn]" },
  "recv-buf": { type: "string", valueHint: "BYTES", description: "SO_RCVBUF (64k, 1m, ...) [kernel default]" },
  "send-buf": { type: "string", valueHint: "BYTES", description: "SO_SNDBUF [kernel default]" },
  quickack: { type: "string", valueHint: "MODE", description: "TCP_QUICKACK: auto, always or off [auto]" },
  nodelay: { type: "boolean", description: "TCP_NODELAY (--no-nodelay: leave Nagle on) [on]" },
  keepalive: { type: "string", valueHint: "SECONDS", description: "SO_KEEPALIVE with this TCP_KEEPIDLE [off]" },
  "keepalive-interval": { type: "string", valueHint: "SECONDS", description: "TCP_KEEPINTVL [kernel default]" },
  "keepalive-count": { type: "string", valueHint: "N", description: "TCP_KEEPCNT [kernel default]" },
  "reuse-port": { type: "boolean", description: "SO_REUSEPORT (SO_REUSEADDR is always on) [on]" },
  "max-connections": { type: "string", valueHint: "N", description: "open connections at once; 0 = unlimited [0]" },
  "max-buffer": { type: "string", valueHint: "BYTES", description: "echo bytes held per connection before reading pauses [1m]" },
  "max-memory": { type: "string", valueHint: "BYTES", description: "echo bytes held by the whole process before more reading pauses [1/4 of the memory limit]" },
  "shutdown-timeout": { type: "string", valueHint: "SECONDS", description: "how long a graceful stop waits for peers [5]" },
  record: { type: "string", valueHint: "FORMAT", description: "decode binary records in a Python struct format, like '! I 2s Q 2h f' [off]" },
  workers: { type: "string", valueHint: "N|auto", description: "worker processes sharing the port through SO_REUSEPORT; auto = one per CPU [1]" },
  "stats-interval": { type: "string", valueHint: "SECONDS", description: "log a line of counters and rates this often; 0 = off [0]" },
  metrics: { type: "string", valueHint: "HOST:PORT", description: "serve /metrics (Prometheus), /healthz, /readyz over HTTP [off]" },
  allow: { type: "string", valueHint: "CIDR,...", description: "accept only these networks [all]" },
  deny: { type: "string", valueHint: "CIDR,...", description: "refuse these networks (deny wins over allow) [none]" },
  "max-per-ip": { type: "string", valueHint: "N", description: "open connections from one address; 0 = unlimited [0]" },
  "record-mode": { type: "string", valueHint: "MODE", description: "interleaved (a line, echoed, then a record, not echoed) or stream (records only, echoed) [interleaved]" },
  ...logArgs,
} as const satisfies ArgsDef;

export type ServeSettings = ServiceOptions;

type Env = Record<string, string | undefined>;

function map<T>(g: Given<string> | undefined, parse: (from: string, text: string) => T, fallback: T): T {
  return g === undefined ? fallback : parse(g.from, g.value);
}

function flag(args: CliArgs, env: Env, option: string, fallback: boolean): boolean {
  const g = givenBoolean(args, env, option);
  if (g === undefined) return fallback;
  return typeof g.value === "boolean" ? g.value : parseBoolean(g.from, g.value);
}

export function resolveLog(args: CliArgs, env: Env): LogSettings {
  return {
    level: map(givenString(args, env, "log-level"), (f, t) => parseChoice(f, t, LOG_LEVELS), "info"),
    format: map(givenString(args, env, "log-format"), (f, t) => parseChoice(f, t, LOG_FORMATS), "pretty"),
  };
}

export function resolveAddress(args: CliArgs, env: Env, defaults: { host: string; port: number }) {
  return {
    host: map(givenString(args, env, "host"), parseHost, defaults.host),
    port: map(givenString(args, env, "port"), portOrServiceLink, defaults.port),
  };
}

/**
 * Kubernetes injects `<SERVICE>_PORT=tcp://10.0.0.1:9999` into every pod of a namespace that has
 * a Service of that name, so a Service called tcp-echo sets TCP_ECHO_PORT for us. Say so, rather
 * than only that it is not a port.
 */
function portOrServiceLink(from: string, text: string): number {
  if (from.startsWith("TCP_ECHO_") && /^tcp:\/\//.test(text.trim()))
    throw new UsageError(
      `${from}: ${JSON.stringify(text)} is a Kubernetes service link (a Service named tcp-echo), not a port: set enableServiceLinks: false in the pod, or pass --port`,
    );
  return parsePort(from, text);
}

// Linux limits for the keep-alive options (include/net/tcp.h: MAX_TCP_KEEPIDLE/KEEPINTVL/KEEPCNT).
const KEEP_MAX = 32767;
const KEEPCNT_MAX = 127;

function resolveKeepalive(args: CliArgs, env: Env): KeepaliveOptions | null {
  const idle = givenString(args, env, "keepalive");
  const interval = givenString(args, env, "keepalive-interval");
  const count = givenString(args, env, "keepalive-count");
  if (!idle) {
    const orphan = interval ?? count;
    if (orphan) throw new UsageError(`${orphan.from} needs --keepalive SECONDS as well`);
    return null;
  }
  return {
    idle: parseInteger(idle.from, idle.value, 1, KEEP_MAX, "a whole number of seconds"),
    interval: map(interval, (f, t) => parseInteger(f, t, 1, KEEP_MAX, "a whole number of seconds"), null),
    count: map(count, (f, t) => parseInteger(f, t, 1, KEEPCNT_MAX), null),
  };
}

function resolveRecord(args: CliArgs, env: Env): RecordConfig | null {
  const format = givenString(args, env, "record");
  const mode = givenString(args, env, "record-mode");
  if (!format) {
    if (mode) throw new UsageError(`${mode.from} needs --record FORMAT as well`);
    return null;
  }
  let codec;
  try {
    codec = compileStruct(format.value);
  } catch (e) {
    if (e instanceof StructFormatError) throw new UsageError(`${format.from}: ${e.message}`);
    throw e;
  }
  if (codec.size === 0) throw new UsageError(`${format.from}: ${JSON.stringify(format.value)} describes a record of 0 bytes`);
  return { codec, mode: map(mode, (f, t) => parseChoice(f, t, RECORD_MODES), "interleaved") };
}

function cidrList(from: string, text: string): Cidr[] {
  const parts = text.split(",").map((p) => p.trim()).filter((p) => p !== "");
  if (parts.length === 0) throw new UsageError(`${from}: ${JSON.stringify(text)} is not a list of IPv4 networks (like 10.0.0.0/8,127.0.0.1)`);
  return parts.map((p) => {
    const c = parseCidr(p);
    if (!c) throw new UsageError(`${from}: ${JSON.stringify(p)} is not an IPv4 network (like 10.0.0.0/8 or 127.0.0.1; host bits must be zero)`);
    return c;
  });
}

function resolveAccess(args: CliArgs, env: Env): AccessConfig | null {
  const allow = map(givenString(args, env, "allow"), cidrList, null);
  const deny = map(givenString(args, env, "deny"), cidrList, []);
  const maxPerIp = map(givenString(args, env, "max-per-ip"), (f, t) => parseInteger(f, t, 0, 2 ** 31 - 1), 0);
  return allow === null && deny.length === 0 && maxPerIp === 0 ? null : { allow, deny, maxPerIp };
}

function resolveWorkers(args: CliArgs, env: Env): number {
  return map(givenString(args, env, "workers"), (f, t) => (t.trim().toLowerCase() === "auto" ? availableParallelism() : parseInteger(f, t, 1, 1024, "a number of processes or auto")), 1);
}

function resolveMetrics(args: CliArgs, env: Env): { host: string; port: number } | null {
  const g = givenString(args, env, "metrics");
  if (!g) return null;
  const i = g.value.lastIndexOf(":");
  if (i < 0) throw new UsageError(`${g.from}: ${JSON.stringify(g.value)} is not HOST:PORT (like 127.0.0.1:9464)`);
  return { host: parseHost(g.from, g.value.slice(0, i)), port: parsePort(g.from, g.value.slice(i + 1)) };
}

/**
 * sd_listen_fds(3): systemd passes listening sockets from fd 3 on, with LISTEN_PID naming the
 * process they are meant for (so a child that inherits the variables does not take them).
 */
function resolveListenFd(env: Env): number | null {
  if (env.LISTEN_PID !== String(process.pid) || !env.LISTEN_FDS) return null;
  const n = Number(env.LISTEN_FDS);
  if (!Number.isInteger(n) || n < 1) return null;
  if (n > 1) throw new UsageError(`LISTEN_FDS=${n}: tcp-echo serves one listening socket; give the .socket unit a single ListenStream=`);
  return 3;
}

/** Flags, then TCP_ECHO_* variables, then defaults; every value validated. Throws UsageError. */
export function resolveServeSettings(args: CliArgs, env: Env): ServeSettings {
  const int = (min: number, max: number) => (f: string, t: string) => parseInteger(f, t, min, max);
  const settings: ServeSettings = {
    ...resolveAddress(args, env, DEFAULTS),
    timeout: map(givenString(args, env, "timeout"), (f, t) => parseSeconds(f, t), DEFAULTS.timeout),
    backlog: map(givenString(args, env, "backlog"), int(1, 2 ** 31 - 1), DEFAULTS.backlog),
    recvBuf: map(givenString(args, env, "recv-buf"), (f, t) => parseSize(f, t), DEFAULTS.recvBuf),
    sendBuf: map(givenString(args, env, "send-buf"), (f, t) => parseSize(f, t), DEFAULTS.sendBuf),
    quickack: map(givenString(args, env, "quickack"), (f, t) => parseChoice(f, t, QUICKACK_MODES), DEFAULTS.quickack),
    nodelay: flag(args, env, "nodelay", DEFAULTS.nodelay),
    keepalive: resolveKeepalive(args, env),
    reusePort: flag(args, env, "reuse-port", DEFAULTS.reusePort),
    maxConnections: map(givenString(args, env, "max-connections"), int(0, 2 ** 31 - 1), DEFAULTS.maxConnections),
    maxBuffer: map(givenString(args, env, "max-buffer"), (f, t) => parseSize(f, t), DEFAULTS.maxBuffer),
    maxMemory: map(givenString(args, env, "max-memory"), (f, t) => parseSize(f, t, 1024 * 1024, 2 ** 50), DEFAULTS.maxMemory),
    shutdownTimeout: map(givenString(args, env, "shutdown-timeout"), (f, t) => parseSeconds(f, t), DEFAULTS.shutdownTimeout),
    record: resolveRecord(args, env),
    access: resolveAccess(args, env),
    listenFd: resolveListenFd(env),
    workers: resolveWorkers(args, env),
    metrics: resolveMetrics(args, env),
    statsInterval: map(givenString(args, env, "stats-interval"), (f, t) => parseSeconds(f, t), 0),
    workerId: null,
    log: resolveLog(args, env),
  };
  if (settings.workers > 1 && !settings.reusePort) throw new UsageError(`--workers ${settings.workers} needs SO_REUSEPORT: drop --no-reuse-port`);
  if (settings.workers > 1 && settings.listenFd !== null)
    throw new UsageError(`--workers ${settings.workers} with socket activation: systemd passes one socket; run one instance per core (a template unit) instead`);
  return settings;
}
