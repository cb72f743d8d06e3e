// What a benchmark run is asked to do, and what it reports. The defaults and the meaning of every
// field follow bench/loadgen/loadgen.c, so the two load generators can be compared side by side.
import { hostPort, parseIp } from "../net/index.ts";
import { PROXY_SEND_MODES, type ProxySendMode } from "../proxy/index.ts";
import type { ClientTlsPlan, ServerSession } from "../tls/index.ts";

export const BENCH_MODES = ["pingpong", "stream", "connect", "idle"] as const;
export type BenchMode = (typeof BENCH_MODES)[number];

export interface BenchOptions {
  /** An IPv4 or IPv6 address (a name is resolved before the run: chooseBenchTarget in target.ts). */
  readonly host: string;
  readonly port: number;
  /** The target as reports show it ("localhost:9999 ([::1]:9999)"); absent: host:port. */
  readonly label?: string;
  readonly mode: BenchMode;
  /** Connections at once (connect mode: concurrent connect/exchange/close loops). */
  readonly connections: number;
  /** Bytes per message; in stream mode, bytes per write. 0 only in idle mode (connect, no exchange). */
  readonly size: number;
  /** Measured seconds (idle: how long the connections are held); null = until `count` is reached. */
  readonly duration: number | null;
  /** Seconds run before measuring starts (not used in idle mode). */
  readonly warmup: number;
  /** Messages per second over all connections, open loop (pingpong and connect only); null = closed loop. */
  readonly rate: number | null;
  /** Stop after this many measured messages (stream: `count` × `size` bytes); null = by duration. */
  readonly count: number | null;
  /**
   * v1 or v2: every connection (every new socket) sends a PROXY protocol header with its own local
   * and remote addresses before its first byte of payload; the header is not part of the echo
   * check. Absent or "off": none.
   */
  readonly proxyProtocol?: ProxySendMode;
  /** TLS on every connection (built for the name the user gave, not the address); absent or null: plain TCP. */
  readonly tls?: ClientTlsPlan | null;
  /** Where the CA came from, for the report ("ca.pem"); null: the bundled roots. */
  readonly tlsCaFile?: string | null;
}

export const BENCH_DEFAULTS = {
  host: "127.0.0.1",
  connections: 10,
  duration: 5,
  warmup: 1,
} as const;

/** loadgen's default message size: 64 B, or 16 KiB writes in stream mode. */
export function defaultSize(mode: BenchMode): number {
  return mode === "stream" ? 16384 : 64;
}

export interface LatencySummary {
  /** Microseconds. Percentiles are the highest value of their histogram bucket, capped at `max`. */
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly p999: number;
  /** Exact. */
  readonly max: number;
  /** Exact. */
  readonly mean: number;
}

/** [percentile (0..100), microseconds]: one point of a latency percentile curve. */
export type PercentilePoint = readonly [percentile: number, us: number];

export interface BenchResult {
  readonly mode: BenchMode;
  readonly connections: number;
  readonly size: number;
  /** Seconds measured (idle: held); 0 when the run stopped before measuring began. */
  readonly durationS: number;
  /** Measured messages (stream: verified bytes / size; idle: completed exchanges). */
  readonly messages: number;
  readonly msgsPerS: number | null;
  /** 1e6 bytes of payload echoed back (and verified) per second. */
  readonly mbPerS: number | null;
  /** Connect mode only. */
  readonly connsPerS: number | null;
  /** Pingpong and connect only, null without samples. */
  readonly latencyUs: LatencySummary | null;
  /**
   * The percentile curve (same rules as `latencyUs`; p0 is the exact min), ascending, at the
   * percentiles of `DENSE_PERCENTILES`; the JSON report keeps those of `CURVE_PERCENTILES`.
   */
  readonly latencyCurveUs: readonly PercentilePoint[] | null;
  /** Connect failures, resets, unexpected EOFs, timeouts: over the whole run, warmup included. */
  readonly errors: number;
  /** Echoed bytes that differ from what was sent, or more bytes than were sent. */
  readonly mismatches: number;
  /** Idle mode only: connections still open when the hold ended. */
  readonly openAtEnd: number | null;
  /** Stopped by the caller's AbortSignal before the duration or count was reached. */
  readonly stoppedEarly: boolean;
  /** The first connection error's message, for the human report (not in the JSON). */
  readonly firstError: string | null;
  /** What is known about the mismatches (the server echoed the PROXY header), or null. */
  readonly mismatchNote: string | null;
  /** --proxy-protocol: sockets whose header went out whole, over the whole run (warmup included). */
  readonly proxyHeaders: number;
  /** With TLS: the first handshake's session and the handshakes over the whole run (not in the JSON). */
  readonly tls?: { readonly session: ServerSession | null; readonly ok: number; readonly failed: number } | null;
}

/** A snapshot about once a second, for a live display. Rates are over the last interval. */
export interface BenchProgress {
  readonly elapsedS: number;
  readonly phase: "warmup" | "measuring" | "opening" | "holding";
  readonly msgsPerS: number;
  readonly mbPerS: number;
  readonly errors: number;
  readonly mismatches: number;
  /** Connections open right now. */
  readonly open: number;
}

/** "localhost:9999 ([::1]:9999)", or the address itself: "127.0.0.1:9999", "[::1]:9999". */
export function targetText(o: BenchOptions): string {
  return o.label ?? hostPort(o.host, o.port);
}

/** Throws RangeError on options the CLI would have refused: the library does not guess. */
export function checkOptions(o: BenchOptions): void {
  const fail = (what: string) => {
    throw new RangeError(`bench: ${what}`);
  };
  if (!(BENCH_MODES as readonly string[]).includes(o.mode)) fail(`unknown mode ${JSON.stringify(o.mode)}`);
  if (!parseIp(o.host)) fail(`host ${JSON.stringify(o.host)} is not an IP address (resolve a name first: chooseBenchTarget)`);
  if (!Number.isInteger(o.port) || o.port < 1 || o.port > 65535) fail(`port ${o.port} out of 1..65535`);
  if (!Number.isInteger(o.connections) || o.connections < 1) fail("connections must be >= 1");
  if (!Number.isInteger(o.size) || o.size < 0 || (o.size === 0 && o.mode !== "idle")) fail("size must be >= 1 (0 only in idle mode)");
  if (o.duration === null ? o.count === null : !(o.duration > 0)) fail("duration must be > 0 (null only with a count)");
  if (!(o.warmup >= 0)) fail("warmup must be >= 0");
  if (o.rate !== null && (!(o.rate > 0) || (o.mode !== "pingpong" && o.mode !== "connect"))) fail("rate must be > 0, in pingpong or connect mode");
  if (o.count !== null && (!Number.isInteger(o.count) || o.count < 1 || o.mode === "idle")) fail("count must be >= 1, not in idle mode");
  if (o.proxyProtocol !== undefined && !(PROXY_SEND_MODES as readonly string[]).includes(o.proxyProtocol)) fail(`proxyProtocol ${JSON.stringify(o.proxyProtocol)} is not off, v1 or v2`);
}
