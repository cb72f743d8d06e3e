import type { ServiceOptions } from "../cluster/index.ts";
import { hostPort, isLoopback } from "../net/index.ts";
import { compileStruct, StructFormatError } from "../protocol/struct/index.ts";
import { selfSignedNames, type ListenerConfig, type ListenerProfileBase, type RecordConfig } from "../server/index.ts";
import { UsageError } from "./errors.ts";
import { loadToxiproxyConfig } from "./toxiproxy-config.ts";
import { configPath, loadConfigFile } from "./options/file.ts";
import { resolve, type CliArgs, type Env, type FileValues, type Given, type Resolved, type Values } from "./options/option.ts";
import { printConfig } from "./options/print.ts";
import { SERVE_OPTIONS } from "./options/table.ts";
import type { ListenSpec } from "./options/values.ts";
import { listenerTls, NO_SNI, parseSniTables, type SniTables } from "./tls-settings.ts";

export type ServeSettings = ServiceOptions;

/** What `serve` runs with, or the --print-config text when that was asked for. */
export type ServeResolution = { readonly settings: ServeSettings; readonly print: string | null };

type Serve = typeof SERVE_OPTIONS;

/** The options a [[listener]] table may set: those of listener scope. */
const LISTENER_KEYS = Object.entries(SERVE_OPTIONS).filter(([, o]) => o.scope === "listener");
const NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,31}$/;

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

function record(format: string | null, mode: RecordConfig["mode"], from: string): RecordConfig | null {
  if (format === null) return null;
  let codec;
  try {
    codec = compileStruct(format);
  } catch (e) {
    if (e instanceof StructFormatError) throw new UsageError(`${from}: ${e.message}`);
    throw e;
  }
  if (codec.size === 0) throw new UsageError(`${from}: ${JSON.stringify(format)} describes a record of 0 bytes`);
  return { codec, mode };
}

/** The listener-scope values as a listener's profile (everything but its name and address). */
function profile(v: Values<Serve>, g: Resolved<Serve>["given"], recordFrom: string, sni: SniTables, withTls = true): Omit<ListenerConfig, "name" | "host" | "port" | "listenFd"> {
  return {
    ipv6Only: v.ipv6Only,
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
    record: record(v.record, v.recordMode, g.record.source === "default" ? recordFrom : g.record.from),
    access: v.allow === null && v.deny === null && v.maxPerIp === 0 ? null : { allow: v.allow, deny: v.deny ?? [], maxPerIp: v.maxPerIp, perIpPrefix6: v.perIpPrefix6 },
    proxyProtocol: v.proxyProtocol,
    proxyTimeout: v.proxyTimeout,
    clientIpFrom: v.clientIpFrom,
    tls: withTls ? listenerTls(v, g, sni) : null,
    toxics: v.toxic ?? [],
    enabled: true,
    upstream: "echo",
  };
}

/** The command line's profile without what belongs to one listener: what POST /proxies listeners get. */
function profileBase(p: ReturnType<typeof profile>): ListenerProfileBase {
  const { toxics: _t, enabled: _e, upstream: _u, ...rest } = p;
  return rest;
}

/**
 * A [[listener]] table: `name` and `listen`, and any listener-scope option, which wins over the
 * command line's value for that listener alone (the specific over the general).
 */
function tableListener(table: unknown, index: number, base: Resolved<Serve>, file: FileValues, sni: SniTables): { spec: ListenSpec; cfg: ReturnType<typeof profile> } {
  const where = `${file.path}: listener[${index + 1}]`;
  if (table === null || typeof table !== "object" || Array.isArray(table)) throw new UsageError(`${where}: must be a table (name, listen, options)`);
  const t = table as Record<string, unknown>;
  const allowed = new Set(["name", "listen", "tls-sni", ...LISTENER_KEYS.map(([, o]) => o.name)]);
  for (const k of Object.keys(t))
    if (!allowed.has(k)) throw new UsageError(`${where}: unknown key ${JSON.stringify(k)} (a listener takes name, listen and ${LISTENER_KEYS.map(([, o]) => o.name).join(", ")}, tls-sni)`);
  if (typeof t.listen !== "string") throw new UsageError(`${where}: needs listen = "ADDR:PORT"`);
  const name = t.name === undefined ? null : t.name;
  if (name !== null && (typeof name !== "string" || !NAME.test(name))) throw new UsageError(`${where}: name ${JSON.stringify(name)} is not a name (letters, digits, _ . -)`);
  const specs = SERVE_OPTIONS.listen.kind.parse(t.listen, `${where}: listen`);
  if (specs.length !== 1) throw new UsageError(`${where}: listen takes one ADDR:PORT`);
  // The table's own values over the shared ones: resolved as a file of its own, below nothing.
  const own = resolve(Object.fromEntries(LISTENER_KEYS) as Serve, {}, {}, { path: where, values: t });
  const values = { ...base.values } as Record<string, unknown>;
  const given = { ...base.given } as Record<string, Given>;
  for (const [key] of LISTENER_KEYS) {
    if ((own.given as Record<string, Given>)[key]!.source === "file") {
      values[key] = (own.values as Record<string, unknown>)[key];
      given[key] = (own.given as Record<string, Given>)[key]!;
    }
  }
  // Its own SNI certificates replace the file's shared ones.
  const ownSni = t["tls-sni"] === undefined ? sni : parseSniTables(t["tls-sni"], `${where}: tls-sni`);
  return { spec: { ...specs[0]!, name: (name as string | null) ?? specs[0]!.name }, cfg: profile(values as Values<Serve>, given as Resolved<Serve>["given"], `${where}: record`, ownSni) };
}

/**
 * sd_listen_fds(3): systemd passes listening sockets from fd 3 on, LISTEN_PID naming the process
 * they are meant for (so a child that inherits the variables does not take them), and
 * LISTEN_FDNAMES their FileDescriptorName= (colon-separated). Returns fd by name, or null.
 */
function activationFds(env: Env): { fd: number; name: string | null }[] | null {
  if (env.LISTEN_PID !== String(process.pid) || !env.LISTEN_FDS) return null;
  const n = Number(env.LISTEN_FDS);
  if (!Number.isInteger(n) || n < 1) return null;
  const names = env.LISTEN_FDNAMES ? env.LISTEN_FDNAMES.split(":") : [];
  return Array.from({ length: n }, (_, i) => ({ fd: 3 + i, name: names[i] ?? null }));
}

/** Gives each listener its inherited socket: by name, or the one socket to the one listener. */
function adopt(listeners: ListenerConfig[], fds: { fd: number; name: string | null }[], defaultOnly: boolean): ListenerConfig[] {
  const byName = new Map(listeners.map((l) => [l.name, l]));
  const taken = new Map<string, number>();
  const unmatched: { fd: number; name: string | null }[] = [];
  for (const f of fds) {
    if (f.name !== null && byName.has(f.name) && !taken.has(f.name)) taken.set(f.name, f.fd);
    else unmatched.push(f);
  }
  // One socket and one listener (systemd names a socket after its unit unless told otherwise).
  if (unmatched.length === 1 && taken.size === 0 && listeners.length === 1) taken.set(listeners[0]!.name, unmatched[0]!.fd);
  else if (unmatched.length > 0) {
    const what = unmatched.map((f) => (f.name === null ? `fd ${f.fd}` : `${JSON.stringify(f.name)} (fd ${f.fd})`)).join(", ");
    throw new UsageError(
      `LISTEN_FDNAMES: systemd passed ${what}, which no listener is named for (listeners: ${listeners.map((l) => l.name).join(", ")}); set FileDescriptorName= in the .socket unit${defaultOnly ? " or define the listeners with --listen NAME=ADDR:PORT" : ""}`,
    );
  }
  return listeners.map((l) => (taken.has(l.name) ? { ...l, listenFd: taken.get(l.name)! } : l));
}

/** Flags, then TCP_ECHO_* variables, then --config, then defaults; every value validated. */
export function resolveServe(args: CliArgs, env: Env): ServeResolution {
  if (args.port === undefined) checkServiceLink(env);
  const where = configPath(args, env);
  const file = where ? loadConfigFile(where, SERVE_OPTIONS, ["listener", "tls-sni"]) : null;
  const r = resolve(SERVE_OPTIONS, args, env, file);
  const v = r.values;
  const sni = file?.values["tls-sni"] === undefined ? NO_SNI : parseSniTables(file.values["tls-sni"], `${file.path}: tls-sni`);
  // Built when a listener uses the shared values: [[listener]] tables may complete them (a shared
  // --tls-client-ca with each table's own tls-cert is not a mistake until a listener lacks one).
  let shared: ReturnType<typeof profile> | null = null;
  const base = () => (shared ??= profile(v, r.given, "--record", sni));

  const specs: { spec: ListenSpec; cfg: ReturnType<typeof profile> }[] = [];
  const tables = file?.values.listener;
  if (tables !== undefined) {
    if (!Array.isArray(tables)) throw new UsageError(`${file!.path}: listener must be a list of tables ([[listener]])`);
    tables.forEach((t, i) => specs.push(tableListener(t, i, r, file!, sni)));
  }
  for (const spec of v.listen ?? []) specs.push({ spec, cfg: base() });
  if (v.toxiproxyConfig !== null)
    for (const p of loadToxiproxyConfig(v.toxiproxyConfig, r.given.toxiproxyConfig.from)) specs.push({ spec: p.spec, cfg: { ...base(), enabled: p.enabled, upstream: p.upstream || "echo" } });
  const defaultOnly = specs.length === 0;
  if (!defaultOnly && (r.given.host.source !== "default" || r.given.port.source !== "default")) {
    const g = r.given.host.source !== "default" ? r.given.host : r.given.port;
    throw new UsageError(`${g.from} describes the default listener; with --listen or [[listener]] give every address there`);
  }
  if (defaultOnly) specs.push({ spec: { name: "main", host: v.host, port: v.port }, cfg: base() });

  // Names: given, else "main" for the first and "listenN" for the N-th.
  let listeners: ListenerConfig[] = specs.map(({ spec, cfg }, i) => ({
    ...cfg,
    name: spec.name ?? (i === 0 ? "main" : `listen${i + 1}`),
    host: spec.host,
    port: spec.port,
    listenFd: null,
    // A self-signed certificate is for the address the listener is on (made later: prepareTls).
    tls: cfg.tls?.cert.kind === "self-signed" ? { ...cfg.tls, cert: { ...cfg.tls.cert, names: selfSignedNames(spec.host) } } : cfg.tls,
  }));
  const seenName = new Map<string, ListenerConfig>();
  const seenAddr = new Map<string, ListenerConfig>();
  for (const l of listeners) {
    if (seenName.has(l.name)) throw new UsageError(`--listen: two listeners are named ${JSON.stringify(l.name)}`);
    seenName.set(l.name, l);
    const at = hostPort(l.host, l.port);
    const other = seenAddr.get(at);
    if (other && l.port !== 0) throw new UsageError(`--listen: ${at} is given twice (listeners ${JSON.stringify(other.name)} and ${JSON.stringify(l.name)})`);
    seenAddr.set(at, l);
    if (l.ipv6Only && !l.host.includes(":")) throw new UsageError(`--ipv6-only: listener ${JSON.stringify(l.name)} is IPv4 (${at}); IPV6_V6ONLY applies to IPv6 listeners`);
    const names = new Set<string>();
    for (const t of l.toxics) {
      if (names.has(t.name)) throw new UsageError(`--toxic: listener ${JSON.stringify(l.name)} has two toxics named ${JSON.stringify(t.name)} (give one a name=...)`);
      names.add(t.name);
    }
  }
  const fds = activationFds(env);
  if (fds) listeners = adopt(listeners, fds, defaultOnly);

  const settings: ServeSettings = {
    listeners,
    maxMemory: v.maxMemory,
    shutdownTimeout: v.shutdownTimeout,
    workerId: null,
    workers: v.workers,
    metrics: v.metrics,
    api: v.api,
    apiToken: v.apiToken,
    seed: v.seed,
    // Listeners the API opens at run time are plain TCP, as toxiproxy's proxies are: a certificate
    // made or checked at start belongs to the listeners it was made for.
    profile: profileBase(profile(v, r.given, "--record", sni, false)),
    statsInterval: v.statsInterval,
    gcBallast: v.gcBallast,
    log: { level: v.logLevel, format: v.logFormat },
  };
  if (v.api && !isLoopback(v.api.host) && v.apiToken === null)
    throw new UsageError(`${r.given.api.from} ${v.api.host}: not a loopback address, and the API changes how the server behaves: set --api-token TOKEN (or TCP_ECHO_API_TOKEN) so requests must carry it, or bind the API to 127.0.0.1`);
  if (v.api && settings.workers > 1)
    throw new UsageError(`${r.given.api.from} needs a single process: toxics and listener states are per process, and --workers ${settings.workers} runs several (use --workers 1 with --api)`);
  if (v.api && v.metrics && v.api.host === v.metrics.host && v.api.port === v.metrics.port && v.api.port !== 0)
    throw new UsageError(`--api and --metrics are both ${v.api.host}:${v.api.port}: the API serves /metrics too; drop --metrics`);
  if (settings.workers > 1 && listeners.some((l) => !l.reusePort && l.listenFd === null))
    throw new UsageError(`--workers ${settings.workers} needs SO_REUSEPORT: drop --no-reuse-port`);
  return { settings, print: v.printConfig ? printConfig("serve", SERVE_OPTIONS, r) + listenersText(listeners) : null };
}

/** --print-config's listener lines: the listeners as they will be opened. */
function listenersText(listeners: readonly ListenerConfig[]): string {
  return listeners
    .map(
      (l) =>
        `listener ${l.name}: ${hostPort(l.host, l.port)}${l.listenFd === null ? "" : ` (socket activation fd ${l.listenFd})`}${l.enabled ? "" : " (disabled)"}, timeout ${l.timeout}, max-buffer ${l.maxBuffer}${l.record ? `, record ${JSON.stringify(l.record.codec.format)} ${l.record.mode}` : ""}${l.toxics.length ? `, toxics ${l.toxics.map((t) => t.name).join(" ")}` : ""}${tlsText(l)}\n`,
    )
    .join("");
}

function tlsText(l: ListenerConfig): string {
  const t = l.tls;
  if (!t) return "";
  const cert = t.cert.kind === "files" ? `cert ${t.cert.cert}` : `self-signed for ${t.cert.names.join(",")}`;
  const sni = t.sni.map((e) => `; SNI ${e.names.join(",")}: ${e.cert}`).join("");
  return `, tls ${cert}${sni}, min ${t.minVersion}, client auth ${t.clientAuth}${t.alpn ? `, alpn ${t.alpn.join(",")}` : ""}`;
}
