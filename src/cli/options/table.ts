// Every option of every command, once. A command's table is the list of entries it takes; each
// entry carries its parser (values.ts), default, help text and scope (option.ts).
import { availableParallelism } from "node:os";
// options.ts, not the bench barrel: `serve` would load the load generator (hdr-histogram-js, pako, WASM).
import { BENCH_MODES } from "../../bench/options.ts";
import { LOG_FORMATS, LOG_LEVELS } from "../../log/index.ts";
import { MAX_SYN_RETRIES } from "../../net/index.ts";
import {
  CLIENT_IP_FROM,
  DEFAULTS,
  PROXY_MODES,
  QUICKACK_MODES,
  RECORD_MODES,
  TLS_CLIENT_AUTH,
  TLS_MIN_VERSIONS,
  type ClientIpFrom,
  type ProxyMode,
  type TlsClientAuth,
  type TlsMinVersion,
} from "../../server/index.ts";
import { PROXY_SEND_MODES, type ProxySendMode } from "../../proxy/index.ts";
import type { Option } from "./option.ts";
import { remoteHost, remotePort } from "./target.ts";
import { addressPort, alpnList, boolean, choice, cidrList, duration, endpoint, host, integer, listenList, MAX_TIMER_S, port, positive, secret, size, text, toxicList, type AddressPort, type ListenSpec, type ValueKind } from "./values.ts";
import type { Toxic } from "../../faults/index.ts";

function option<T, D = T>(o: Option<T, D>): Option<T, D> {
  return o;
}

// Linux limits for the keep-alive options (include/net/tcp.h: MAX_TCP_KEEPIDLE/KEEPINTVL/KEEPCNT).
const KEEP_MAX_S = 32767;
const KEEPCNT_MAX = 127;
const INT_MAX = 2 ** 31 - 1;

/** N worker processes, or `auto`: one per CPU this process may run on. */
const workersKind: ValueKind<number> = {
  hint: "N|auto",
  parse(t, from) {
    return t.trim().toLowerCase() === "auto" ? availableParallelism() : integer(1, 1024, "a number of processes or auto").parse(t, from);
  },
  fromFile(v, from) {
    return this.parse(typeof v === "number" ? String(v) : typeof v === "string" ? v : JSON.stringify(v), from);
  },
  show: String,
};

// --- shared by several commands ---

export const CONFIG = option({ name: "config", kind: text("FILE"), default: null as string | null, unset: "none", help: "read options from a TOML or JSON file (keys are the option names)", scope: "process" });
export const PRINT_CONFIG = option({ name: "print-config", kind: boolean, default: false, help: "print every setting with where it came from (flag, env, file, default) and exit", scope: "process", switch: true });
const LOG_LEVEL = option({ name: "log-level", kind: choice(LOG_LEVELS, "LEVEL"), default: "info" as (typeof LOG_LEVELS)[number], help: LOG_LEVELS.join(", "), scope: "process" });
const LOG_FORMAT = option({ name: "log-format", kind: choice(LOG_FORMATS, "FORMAT"), default: "pretty" as (typeof LOG_FORMATS)[number], help: "pretty, or json (one object per line)", scope: "process" });

// --- tcp-echo serve ---

export const SERVE_OPTIONS = {
  listen: option({ name: "listen", kind: listenList, default: null as readonly ListenSpec[] | null, unset: "--host:--port", help: "a listener; repeat for several ([::]:9999 is dual-stack; :9999 = [::]:9999)", scope: "process", many: true }),
  host: option({ name: "host", kind: host, default: DEFAULTS.host, help: "the address of the default listener when no --listen is given (:: = every address)", scope: "process" }),
  port: option({ name: "port", kind: port, default: DEFAULTS.port, help: "its TCP port; 0 picks a free one", scope: "process" }),
  ipv6Only: option({ name: "ipv6-only", kind: boolean, default: false, help: "IPV6_V6ONLY on IPv6 listeners: no IPv4 peers on ::", scope: "listener", switch: true }),
  timeout: option({ name: "timeout", kind: duration(0, MAX_TIMER_S, { zero: "off" }), default: DEFAULTS.timeout, help: "idle timeout; 0 disables it", scope: "listener" }),
  backlog: option({ name: "backlog", kind: integer(1, INT_MAX), default: null as number | null, unset: "somaxconn", help: "accept queue size for listen()", scope: "listener" }),
  recvBuf: option({ name: "recv-buf", kind: size(), default: null as number | null, unset: "kernel default", help: "SO_RCVBUF (64k, 1m, ...), inherited by accepted sockets", scope: "listener" }),
  sendBuf: option({ name: "send-buf", kind: size(), default: null as number | null, unset: "kernel default", help: "SO_SNDBUF, inherited by accepted sockets", scope: "listener" }),
  quickack: option({ name: "quickack", kind: choice(QUICKACK_MODES), default: DEFAULTS.quickack as (typeof QUICKACK_MODES)[number], help: "TCP_QUICKACK: auto, always or off", scope: "listener" }),
  nodelay: option({ name: "nodelay", kind: boolean, default: DEFAULTS.nodelay as boolean, help: "TCP_NODELAY on accepted sockets (--no-nodelay: leave Nagle on)", scope: "listener", switch: true }),
  keepalive: option({ name: "keepalive", kind: duration(1, KEEP_MAX_S, { whole: true }), default: null as number | null, unset: "off", help: "SO_KEEPALIVE with this TCP_KEEPIDLE", scope: "listener" }),
  keepaliveInterval: option({ name: "keepalive-interval", kind: duration(1, KEEP_MAX_S, { whole: true }), default: null as number | null, unset: "kernel default", help: "TCP_KEEPINTVL", scope: "listener", needs: "keepalive" }),
  keepaliveCount: option({ name: "keepalive-count", kind: integer(1, KEEPCNT_MAX), default: null as number | null, unset: "kernel default", help: "TCP_KEEPCNT", scope: "listener", needs: "keepalive" }),
  reusePort: option({ name: "reuse-port", kind: boolean, default: DEFAULTS.reusePort as boolean, help: "SO_REUSEPORT (SO_REUSEADDR is always on)", scope: "listener", switch: true }),
  maxConnections: option({ name: "max-connections", kind: integer(0, INT_MAX), default: DEFAULTS.maxConnections as number, help: "open connections at once; 0 = unlimited", scope: "listener" }),
  maxBuffer: option({ name: "max-buffer", kind: size(), default: DEFAULTS.maxBuffer as number, help: "echo bytes held per connection before its reading pauses", scope: "listener" }),
  maxMemory: option({ name: "max-memory", kind: size(1024 * 1024, 2 ** 50), default: null as number | null, unset: "a quarter of the memory limit", help: "echo bytes held by the whole process before connections that queue more pause", scope: "process" }),
  shutdownTimeout: option({ name: "shutdown-timeout", kind: duration(0, MAX_TIMER_S), default: DEFAULTS.shutdownTimeout as number, help: "how long a graceful stop waits for peers to close", scope: "process" }),
  record: option({ name: "record", kind: text("FORMAT"), default: null as string | null, unset: "off", help: "decode binary records in a Python struct format, like '! I 2s Q 2h f'", scope: "listener" }),
  recordMode: option({ name: "record-mode", kind: choice(RECORD_MODES), default: "interleaved" as (typeof RECORD_MODES)[number], help: "interleaved (a line, echoed, then a record, not echoed) or stream (records only, echoed)", scope: "listener", needs: "record" }),
  workers: option({ name: "workers", kind: workersKind, default: 1, help: "worker processes sharing the port through SO_REUSEPORT; auto = one per CPU", scope: "process" }),
  gcBallast: option({ name: "gc-ballast", kind: size(0, 1024 ** 3), default: 8 * 1024 * 1024, help: "a buffer each serving process holds and never touches, so the runtime collects garbage less often while data flows (no RSS of its own; up to about this much more RSS under streaming load); 0 = none", scope: "process" }),
  statsInterval: option({ name: "stats-interval", kind: duration(0, MAX_TIMER_S, { zero: "off" }), default: 0, help: "log a line of counters and rates this often; 0 = off", scope: "process" }),
  metrics: option({ name: "metrics", kind: endpoint, default: null as { readonly host: string; readonly port: number } | null, unset: "off", help: "serve /metrics (Prometheus), /healthz, /readyz over HTTP", scope: "process" }),
  allow: option({ name: "allow", kind: cidrList, default: null as readonly import("../../server/index.ts").Cidr[] | null, unset: "all", help: "accept only these networks", scope: "listener" }),
  deny: option({ name: "deny", kind: cidrList, default: null as readonly import("../../server/index.ts").Cidr[] | null, unset: "none", help: "refuse these networks (deny wins over allow)", scope: "listener" }),
  maxPerIp: option({ name: "max-per-ip", kind: integer(0, INT_MAX), default: 0, help: "open connections from one address (IPv6: one prefix); 0 = unlimited", scope: "listener" }),
  proxyProtocol: option({ name: "proxy-protocol", kind: choice(PROXY_MODES), default: "off" as ProxyMode, help: "each connection begins with a PROXY protocol header of this version (off, v1, v2, any); it is read, reported and never echoed", scope: "listener" }),
  proxyTimeout: option({ name: "proxy-protocol-timeout", kind: duration(0.001, MAX_TIMER_S), default: 3, help: "how long a connection has to complete its PROXY header", scope: "listener" }),
  clientIpFrom: option({ name: "client-ip-from", kind: choice(CLIENT_IP_FROM, "FROM"), default: "proxy" as ClientIpFrom, help: "the address --allow, --deny and --max-per-ip judge with --proxy-protocol: the header's client (proxy) or the load balancer (peer)", scope: "listener" }),
  perIpPrefix6: option({ name: "per-ip-prefix6", kind: integer(1, 128, "a prefix length"), default: 64, help: "--max-per-ip counts IPv6 peers by this prefix (one /64 is one site)", scope: "listener" }),
  tlsCert: option({ name: "tls-cert", kind: text("FILE"), default: null as string | null, unset: "none (plain TCP)", help: "serve TLS with this PEM certificate (its chain may follow it in the file); with --tls-key. Certificates for other SNI names: [[listener.tls-sni]] in a config file", scope: "listener" }),
  tlsKey: option({ name: "tls-key", kind: text("FILE"), default: null as string | null, unset: "none", help: "the certificate's private key (PEM, unencrypted)", scope: "listener" }),
  tlsSelfSigned: option({ name: "tls-self-signed", kind: boolean, default: false, help: "serve TLS with a certificate made at start for the listener's address, this host's name, localhost, 127.0.0.1 and ::1 (its SHA-256 fingerprint is in the start-up report)", scope: "listener", switch: true }),
  tlsClientCa: option({ name: "tls-client-ca", kind: text("FILE"), default: null as string | null, unset: "none", help: "PEM CA certificates that client certificates must chain to (with --tls-client-auth)", scope: "listener" }),
  tlsClientAuth: option({ name: "tls-client-auth", kind: choice(TLS_CLIENT_AUTH), default: "off" as TlsClientAuth, help: "ask clients for a certificate: off, request (reported, not required) or require (one that verifies against --tls-client-ca)", scope: "listener" }),
  tlsAlpn: option({ name: "tls-alpn", kind: alpnList, default: null as readonly string[] | null, unset: "off", help: "ALPN protocols in order of preference (h2,http/1.1); a client offering none of them fails its handshake (alert 120)", scope: "listener" }),
  tlsMinVersion: option({ name: "tls-min-version", kind: choice(TLS_MIN_VERSIONS, "VERSION"), default: "1.2" as TlsMinVersion, help: "the lowest TLS version accepted: 1.2 or 1.3", scope: "listener" }),
  toxic: option({ name: "toxic", kind: toxicList, default: null as readonly Toxic[] | null, unset: "none", help: "a toxiproxy toxic on every connection, like latency:latency=100,jitter=10 or timeout@upstream:timeout=0; repeat for several", scope: "listener", many: true }),
  api: option({ name: "api", kind: endpoint, default: null as { readonly host: string; readonly port: number } | null, unset: "off", help: "toxiproxy-compatible HTTP API (toxics, listeners, /connections) plus /metrics, /healthz, /readyz; loopback unless --api-token is set", scope: "process" }),
  apiToken: option({ name: "api-token", kind: secret, default: null as string | null, unset: "none", help: "API requests need Authorization: Bearer TOKEN (required for a non-loopback --api)", scope: "process" }),
  toxiproxyConfig: option({ name: "toxiproxy-config", kind: text("FILE"), default: null as string | null, unset: "none", help: "toxiproxy's -config JSON (a list of proxies {name, listen, upstream, enabled}): each becomes a listener", scope: "process" }),
  seed: option({ name: "seed", kind: integer(0, 2 ** 32 - 1, "a seed"), default: null as number | null, unset: "random", help: "seeds the toxics' chance (toxicity, jitter, slicer) so runs repeat", scope: "process" }),
  logLevel: LOG_LEVEL,
  logFormat: LOG_FORMAT,
  config: CONFIG,
  printConfig: PRINT_CONFIG,
};

// --- TLS for client and bench (the client side; serve's --tls-cert is its own certificate) ---

const CLIENT_TLS = {
  tls: option({ name: "tls", kind: boolean, default: false, help: "speak TLS: verify the server's certificate (against --tls-ca, else the bundled root CAs) and its name, then echo over TLS", scope: "process", switch: true }),
  tlsCa: option({ name: "tls-ca", kind: text("FILE"), default: null as string | null, unset: "the bundled root CAs", help: "PEM CA certificates the server's certificate must chain to", scope: "process", needs: "tls" }),
  tlsInsecure: option({ name: "tls-insecure", kind: boolean, default: false, help: "do not verify the server's certificate (it is still shown)", scope: "process", switch: true, needs: "tls" }),
  sni: option({ name: "sni", kind: text("NAME"), default: null as string | null, unset: "the host, when it is a name", help: "the server name to send (SNI) and to verify the certificate for", scope: "process", needs: "tls" }),
  alpn: option({ name: "alpn", kind: alpnList, default: null as readonly string[] | null, unset: "none", help: "ALPN protocols to offer, in order of preference (h2,http/1.1)", scope: "process", needs: "tls" }),
  tlsCert: option({ name: "tls-cert", kind: text("FILE"), default: null as string | null, unset: "none", help: "a client certificate (PEM) for servers that ask for one; with --tls-key", scope: "process", needs: "tls" }),
  tlsKey: option({ name: "tls-key", kind: text("FILE"), default: null as string | null, unset: "none", help: "the client certificate's private key (PEM, unencrypted)", scope: "process", needs: "tlsCert" }),
};

// --- tcp-echo client ---

export const CLIENT_OPTIONS = {
  host: option({ name: "host", kind: remoteHost, default: "127.0.0.1", help: "the server: IPv4, IPv6 or a name (each address it resolves to is tried in turn)", scope: "process" }),
  port: option({ name: "port", kind: remotePort, default: 9999, help: "the server's TCP port", scope: "process" }),
  file: option({ name: "file", kind: text("PATH|-"), default: null as string | null, unset: "none", help: "send this file's bytes (- = standard input, to EOF) once, half-close, and check that exactly they come back before the server's FIN", scope: "process" }),
  message: option({ name: "message", kind: text("TEXT"), default: "hello", help: "sent each time; a newline is added unless it ends in one", scope: "process" }),
  record: option({ name: "record", kind: text("FORMAT"), default: null as string | null, unset: "none", help: "Python struct format of a binary record sent after each echo (needs --values)", scope: "process" }),
  values: option({ name: "values", kind: text("V,V,..."), default: null as string | null, unset: "none", help: "the record's values, comma-separated (bytes as text or hex:6162)", scope: "process", needs: "record" }),
  connectTimeout: option({ name: "connect-timeout", kind: duration(0.001, MAX_TIMER_S), default: 10, help: "bound on the name lookup, and on each address's connect, SYN retries included", scope: "process" }),
  synRetries: option({ name: "syn-retries", kind: integer(1, MAX_SYN_RETRIES), default: null as number | null, unset: "kernel default", help: `TCP_SYNCNT, 1..${MAX_SYN_RETRIES}`, scope: "process" }),
  timeout: option({ name: "timeout", kind: duration(0.001, MAX_TIMER_S), default: 5, help: "wait for each echo (--file: for the echo to progress) and for the server's FIN", scope: "process" }),
  nodelay: option({ name: "nodelay", kind: boolean, default: false, help: "TCP_NODELAY (off: Nagle's algorithm on, as many clients)", scope: "process", switch: true }),
  recvBuf: option({ name: "recv-buf", kind: size(), default: null as number | null, unset: "kernel default", help: "SO_RCVBUF (64k, 1m, ...)", scope: "process" }),
  sendBuf: option({ name: "send-buf", kind: size(), default: null as number | null, unset: "kernel default", help: "SO_SNDBUF", scope: "process" }),
  count: option({ name: "count", kind: integer(1, INT_MAX), default: 1, help: "messages to send, one round trip each", scope: "process" }),
  interval: option({ name: "interval", kind: duration(0, MAX_TIMER_S), default: 1, help: "pause between round trips; 0 for none", scope: "process" }),
  proxyProtocol: option({ name: "proxy-protocol", kind: choice(PROXY_SEND_MODES), default: "off" as ProxySendMode, help: "send a PROXY protocol header of this version (off, v1, v2) before anything else; it is not part of the echo", scope: "process" }),
  proxySource: option({ name: "proxy-source", kind: addressPort, default: null as AddressPort | null, unset: "the connection's local address", help: "the client the PROXY header names (with --proxy-protocol)", scope: "process" }),
  proxyDest: option({ name: "proxy-dest", kind: addressPort, default: null as AddressPort | null, unset: "the server's address", help: "the destination the PROXY header names, the same family as the source (with --proxy-protocol)", scope: "process" }),
  ...CLIENT_TLS,
  config: CONFIG,
  printConfig: PRINT_CONFIG,
};

// --- tcp-echo bench (defaults, ranges and conflicts are bench/loadgen/loadgen.c's) ---

const MAX_BENCH_S = 1e6;

export const BENCH_OPTIONS = {
  host: option({ name: "host", kind: remoteHost, default: "127.0.0.1", help: "the echo server: IPv4, IPv6 or a name (the first of its addresses that accepts a connection is used)", scope: "process" }),
  port: option({ name: "port", kind: remotePort, default: 9999, help: "the echo server's TCP port", scope: "process" }),
  mode: option({ name: "mode", kind: choice(BENCH_MODES), default: null as (typeof BENCH_MODES)[number] | null, unset: "required", help: "pingpong, stream, connect or idle", scope: "process" }),
  connections: option({ name: "connections", kind: integer(1, 1_000_000), default: 10, help: "connections at once (connect: concurrent loops)", scope: "process" }),
  size: option({ name: "size", kind: size(0, 2 ** 30), default: null as number | null, unset: "64; stream 16k", help: "bytes per message; stream: per write; idle: 0 = no exchange", scope: "process" }),
  duration: option({ name: "duration", kind: duration(0.001, MAX_BENCH_S), default: null as number | null, unset: "5", help: "measured time; idle: how long connections are held", scope: "process" }),
  count: option({ name: "count", kind: integer(1, 2 ** 50), default: null as number | null, unset: "none", help: "stop after N measured messages (stream: N x --size bytes); --duration then only caps the time", scope: "process" }),
  rate: option({ name: "rate", kind: positive("a rate in messages per second > 0", "MSGS_PER_S"), default: null as number | null, unset: "closed loop", help: "pingpong, connect: open-loop pacing over all connections; latency from the intended send time", scope: "process" }),
  warmup: option({ name: "warmup", kind: duration(0, MAX_BENCH_S), default: 1, help: "run before measuring; not used in idle mode", scope: "process" }),
  json: option({ name: "json", kind: boolean, default: false, help: "print one JSON object (bench/loadgen's schema) and nothing else on stdout", scope: "process", switch: true }),
  proxyProtocol: option({ name: "proxy-protocol", kind: choice(PROXY_SEND_MODES), default: "off" as ProxySendMode, help: "every connection sends a PROXY protocol header of this version (off, v1, v2) with its own addresses first; not part of the echo check", scope: "process" }),
  ...CLIENT_TLS,
  html: option({ name: "html", kind: text("FILE"), default: null as string | null, unset: "none", help: "also write a self-contained HTML report (settings, figures, latency chart) to FILE; its directory must exist", scope: "process" }),
  config: CONFIG,
  printConfig: PRINT_CONFIG,
};
