import type { ServiceOptions } from "../cluster/index.ts";
import { compileStruct, StructFormatError } from "../protocol/struct/index.ts";
import { UsageError } from "./errors.ts";
import { configPath, loadConfigFile } from "./options/file.ts";
import { resolve, type CliArgs, type Env, type Resolved } from "./options/option.ts";
import { printConfig } from "./options/print.ts";
import { SERVE_OPTIONS } from "./options/table.ts";

export type ServeSettings = ServiceOptions;

/** What `serve` runs with, or the --print-config text when that was asked for. */
export type ServeResolution = { readonly settings: ServeSettings; readonly print: string | null };

/**
 * sd_listen_fds(3): systemd passes listening sockets from fd 3 on, with LISTEN_PID naming the
 * process they are meant for (so a child that inherits the variables does not take them).
 */
function listenFd(env: Env): number | null {
  if (env.LISTEN_PID !== String(process.pid) || !env.LISTEN_FDS) return null;
  const n = Number(env.LISTEN_FDS);
  if (!Number.isInteger(n) || n < 1) return null;
  if (n > 1) throw new UsageError(`LISTEN_FDS=${n}: tcp-echo serves one listening socket; give the .socket unit a single ListenStream=`);
  return 3;
}

/**
 * Kubernetes injects `<SERVICE>_PORT=tcp://10.0.0.1:9999` into every pod of a namespace that has
 * a Service of that name, so a Service called tcp-echo sets TCP_ECHO_PORT for us. Say so, rather
 * than only that it is not a port.
 */
export function checkServiceLink(env: Env): void {
  const v = env.TCP_ECHO_PORT;
  if (v && /^\s*tcp:\/\//.test(v))
    throw new UsageError(`TCP_ECHO_PORT: ${JSON.stringify(v)} is a Kubernetes service link (a Service named tcp-echo), not a port: set enableServiceLinks: false in the pod, or pass --port`);
}

function record(r: Resolved<typeof SERVE_OPTIONS>) {
  const format = r.values.record;
  if (format === null) return null;
  let codec;
  try {
    codec = compileStruct(format);
  } catch (e) {
    if (e instanceof StructFormatError) throw new UsageError(`${r.given.record.from}: ${e.message}`);
    throw e;
  }
  if (codec.size === 0) throw new UsageError(`${r.given.record.from}: ${JSON.stringify(format)} describes a record of 0 bytes`);
  return { codec, mode: r.values.recordMode };
}

/** Flags, then TCP_ECHO_* variables, then --config, then defaults; every value validated. */
export function resolveServe(args: CliArgs, env: Env): ServeResolution {
  if (args.port === undefined) checkServiceLink(env);
  const where = configPath(args, env);
  const file = where ? loadConfigFile(where, SERVE_OPTIONS) : null;
  const r = resolve(SERVE_OPTIONS, args, env, file);
  const v = r.values;
  const settings: ServeSettings = {
    host: v.host,
    port: v.port,
    timeout: v.timeout,
    backlog: v.backlog,
    recvBuf: v.recvBuf,
    sendBuf: v.sendBuf,
    quickack: v.quickack,
    nodelay: v.nodelay,
    keepalive: v.keepalive === null ? null : { idle: v.keepalive, interval: v.keepaliveInterval, count: v.keepaliveCount },
    reusePort: v.reusePort,
    maxConnections: v.maxConnections,
    maxBuffer: v.maxBuffer,
    maxMemory: v.maxMemory,
    shutdownTimeout: v.shutdownTimeout,
    record: record(r),
    access: v.allow === null && v.deny === null && v.maxPerIp === 0 ? null : { allow: v.allow, deny: v.deny ?? [], maxPerIp: v.maxPerIp },
    listenFd: listenFd(env),
    workerId: null,
    workers: v.workers,
    metrics: v.metrics,
    statsInterval: v.statsInterval,
    log: { level: v.logLevel, format: v.logFormat },
  };
  if (settings.workers > 1 && !settings.reusePort) throw new UsageError(`--workers ${settings.workers} needs SO_REUSEPORT: drop --no-reuse-port`);
  if (settings.workers > 1 && settings.listenFd !== null)
    throw new UsageError(`--workers ${settings.workers} with socket activation: systemd passes one socket; run one instance per core (a template unit) instead`);
  return { settings, print: v.printConfig ? printConfig("serve", SERVE_OPTIONS, r) : null };
}
