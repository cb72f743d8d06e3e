import { CURVE_PERCENTILES } from "./latency.ts";
import { sessionLine } from "../tls/index.ts";
import { targetText, type BenchMode, type BenchOptions, type BenchProgress, type BenchResult, type LatencySummary } from "./options.ts";

/**
 * bench/loadgen's JSON report: the same keys in the same order, so the two compare side by side.
 * Keys are only ever added at the end, so that readers of the older report keep working.
 */
export interface LoadgenJson {
  mode: BenchMode;
  connections: number;
  size: number;
  duration_s: number;
  messages: number;
  msgs_per_s: number | null;
  mb_per_s: number | null;
  conns_per_s: number | null;
  latency_us: { p50: number; p90: number; p99: number; p999: number; max: number; mean: number } | null;
  errors: number;
  mismatches: number;
  open_at_end: number | null;
  /** [percentile, µs] at CURVE_PERCENTILES (p0 = exact min); null when latency_us is. */
  latency_curve_us: [number, number][] | null;
}

const IN_JSON = new Set(CURVE_PERCENTILES);

/** loadgen prints every fraction with %.3f. */
const r3 = (x: number) => Math.round(x * 1000) / 1000;
const r3n = (x: number | null) => (x === null ? null : r3(x));

export function toLoadgenJson(r: BenchResult): LoadgenJson {
  const l = r.latencyUs;
  return {
    mode: r.mode,
    connections: r.connections,
    size: r.size,
    duration_s: r3(r.durationS),
    messages: r.messages,
    msgs_per_s: r3n(r.msgsPerS),
    mb_per_s: r3n(r.mbPerS),
    conns_per_s: r3n(r.connsPerS),
    latency_us: l && { p50: r3(l.p50), p90: r3(l.p90), p99: r3(l.p99), p999: r3(l.p999), max: r3(l.max), mean: r3(l.mean) },
    errors: r.errors,
    mismatches: r.mismatches,
    open_at_end: r.openAtEnd,
    latency_curve_us: l && r.latencyCurveUs ? r.latencyCurveUs.filter(([p]) => IN_JSON.has(p)).map(([p, us]) => [p, r3(us)]) : null,
  };
}

const int = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });
const one = new Intl.NumberFormat("en-US", { minimumFractionDigits: 1, maximumFractionDigits: 1 });
const three = new Intl.NumberFormat("en-US", { minimumFractionDigits: 3, maximumFractionDigits: 3 });
const fmt = (f: Intl.NumberFormat, x: number | null) => (x === null ? "-" : f.format(x));

function latencyLine(l: LatencySummary | null, what: string): string {
  if (!l) return `  ${what.padEnd(13)}no samples`;
  const us = (x: number) => one.format(x);
  return `  ${what.padEnd(13)}p50 ${us(l.p50)}  p90 ${us(l.p90)}  p99 ${us(l.p99)}  p99.9 ${us(l.p999)}  max ${us(l.max)}  mean ${us(l.mean)} (us)`;
}

/** The human report: a header line, then one line per figure. */
export function formatReport(r: BenchResult, o: BenchOptions): string {
  const head =
    `${r.mode} ${targetText(o)}: ${r.connections} connection${r.connections === 1 ? "" : "s"}, ` +
    (r.mode === "stream" ? `${r.size} B writes` : `${r.size} B messages`) +
    (o.rate !== null ? `, paced at ${int.format(o.rate)} msgs/s (latency from the intended send time)` : "") +
    (o.proxyProtocol === "v1" || o.proxyProtocol === "v2" ? `, a PROXY ${o.proxyProtocol} header first on each connection` : "");
  const when =
    r.mode === "idle"
      ? `held ${three.format(r.durationS)} s`
      : `${three.format(r.durationS)} s measured after ${o.warmup} s warmup` + (o.count !== null ? `, --count ${o.count}` : "");
  const lines = [head, `  ${"time".padEnd(13)}${when}${r.stoppedEarly ? " (stopped early)" : ""}`];
  const rate = `${fmt(one, r.msgsPerS)} msgs/s, ${fmt(three, r.mbPerS)} MB/s echoed`;
  switch (r.mode) {
    case "pingpong":
      lines.push(`  ${"messages".padEnd(13)}${int.format(r.messages)} (${rate})`, latencyLine(r.latencyUs, "round trip"));
      break;
    case "stream":
      lines.push(`  ${"echoed".padEnd(13)}${fmt(three, r.mbPerS)} MB/s (${int.format(r.messages)} x ${r.size} B verified)`);
      break;
    case "connect":
      lines.push(`  ${"connections".padEnd(13)}${int.format(r.messages)} (${fmt(one, r.connsPerS)} conns/s)`, latencyLine(r.latencyUs, "cycle"));
      break;
    case "idle":
      lines.push(`  ${"exchanges".padEnd(13)}${int.format(r.messages)}`, `  ${"open at end".padEnd(13)}${r.openAtEnd} of ${r.connections}`);
      break;
  }
  if (o.proxyProtocol === "v1" || o.proxyProtocol === "v2") lines.push(`  ${"PROXY".padEnd(13)}${int.format(r.proxyHeaders)} ${o.proxyProtocol} headers sent (warmup included)`);
  if (r.tls && o.tls) {
    const first = r.tls.session ? sessionLine(r.tls.session, o.tls, o.tlsCaFile ?? null).replace(/^tls: /, "") : "no handshake completed";
    lines.push(`  ${"tls".padEnd(13)}${int.format(r.tls.ok)} handshakes${r.tls.failed ? `, ${int.format(r.tls.failed)} failed` : ""}; first: ${first}`);
  }
  lines.push(`  ${"errors".padEnd(13)}${r.errors}${r.firstError ? ` (first: ${r.firstError})` : ""}`);
  lines.push(`  ${"mismatches".padEnd(13)}${r.mismatches}${r.mismatches ? ` (${r.mismatchNote ?? "echoed bytes differ from what was sent"})` : ""}`);
  return lines.join("\n") + "\n";
}

/** One line for the live display (no newline). */
export function formatProgress(p: BenchProgress, mode: BenchMode): string {
  const rate =
    mode === "stream"
      ? `${three.format(p.mbPerS)} MB/s`
      : mode === "idle"
        ? ""
        : `${int.format(p.msgsPerS)} ${mode === "connect" ? "conns" : "msgs"}/s  ${three.format(p.mbPerS)} MB/s`;
  return `${one.format(p.elapsedS)} s  ${p.phase}  ${rate}${rate ? "  " : ""}open ${p.open}  errors ${p.errors}  mismatches ${p.mismatches}`;
}
