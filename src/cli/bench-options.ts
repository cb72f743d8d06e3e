import type { ArgsDef } from "citty";
import { BENCH_DEFAULTS, BENCH_MODES, defaultSize, type BenchOptions } from "../bench/index.ts";
import { DEFAULTS } from "../server/index.ts";
import { UsageError } from "./errors.ts";
import { givenBoolean, givenString, type CliArgs, type Given } from "./flags.ts";
import { addressArgs, resolveAddress } from "./serve-options.ts";
import { parseBoolean, parseChoice, parseInteger, parseOutputFile, parseSeconds, parseSize } from "./values.ts";

// No citty `default`s, as for serve: an absent flag falls through to TCP_ECHO_<OPTION>, then to
// the default. Defaults, ranges and option conflicts are bench/loadgen/loadgen.c's.
export const benchArgs = {
  host: { ...addressArgs.host, description: "the echo server's IPv4 address (localhost = 127.0.0.1) [127.0.0.1]" },
  port: { ...addressArgs.port, description: "the echo server's TCP port [9999]" },
  mode: { type: "string", valueHint: "MODE", description: "pingpong, stream, connect or idle (required)" },
  connections: { type: "string", valueHint: "N", description: "connections at once (connect: concurrent loops) [10]" },
  size: { type: "string", valueHint: "BYTES", description: "bytes per message; stream: per write; idle: 0 = no exchange [64; stream 16k]" },
  duration: { type: "string", valueHint: "SECONDS", description: "measured time; idle: how long connections are held [5]" },
  count: { type: "string", valueHint: "N", description: "stop after N measured messages (stream: N x --size bytes); --duration then only caps the time" },
  rate: { type: "string", valueHint: "MSGS_PER_S", description: "pingpong, connect: open-loop pacing over all connections; latency from the intended send time [closed loop]" },
  warmup: { type: "string", valueHint: "SECONDS", description: "run before measuring; not used in idle mode [1]" },
  json: { type: "boolean", description: "print one JSON object (bench/loadgen's schema) and nothing else on stdout" },
  html: { type: "string", valueHint: "FILE", description: "also write a self-contained HTML report (settings, figures, latency percentile chart) to FILE; its directory must exist" },
} as const satisfies ArgsDef;

export type BenchSettings = BenchOptions & {
  readonly json: boolean;
  /** Absolute path of the HTML report to write after the run; null: none. */
  readonly html: string | null;
};

type Env = Record<string, string | undefined>;

const MAX_CONNECTIONS = 1_000_000;
const MAX_SIZE = 2 ** 30;
const MAX_SECONDS = 1e6;
const MAX_COUNT = 2 ** 50;

/** A decimal number > 0 (for --rate): "5000", "2.5", "1e4". */
function parsePositive(name: string, text: string, what: string): number {
  const t = text.trim();
  const n = /^[+]?(\d+(\.\d*)?|\.\d+)(e[+-]?\d+)?$/i.test(t) ? Number(t) : NaN;
  if (!(n > 0) || !Number.isFinite(n)) throw new UsageError(`${name}: ${JSON.stringify(text)} is not ${what}`);
  return n;
}

function seconds(g: Given<string>, min: number, positive: boolean): number {
  const n = parseSeconds(g.from, g.value, min);
  if ((positive && n <= 0) || n > MAX_SECONDS) {
    throw new UsageError(`${g.from}: ${JSON.stringify(g.value)} is not a number of seconds in ${positive ? "(0" : `[${min}`}..${MAX_SECONDS}]`);
  }
  return n;
}

/** Flags, then TCP_ECHO_* variables, then loadgen's defaults; every value and combination validated. */
export function resolveBenchSettings(args: CliArgs, env: Env): BenchSettings {
  const { host, port } = resolveAddress(args, env, { host: BENCH_DEFAULTS.host, port: DEFAULTS.port });
  if (port === 0) {
    const g = givenString(args, env, "port")!;
    throw new UsageError(`${g.from}: "0" is not a port to connect to (1..65535)`);
  }
  const modeGiven = givenString(args, env, "mode");
  if (!modeGiven) throw new UsageError(`--mode is required (${BENCH_MODES.join(", ")})`);
  const mode = parseChoice(modeGiven.from, modeGiven.value, BENCH_MODES);

  const g = (option: string) => givenString(args, env, option);
  const connectionsG = g("connections");
  const sizeG = g("size");
  const durationG = g("duration");
  const countG = g("count");
  const rateG = g("rate");
  const warmupG = g("warmup");

  const size = sizeG ? parseSize(sizeG.from, sizeG.value, 0, MAX_SIZE) : defaultSize(mode);
  if (size === 0 && mode !== "idle") throw new UsageError(`${sizeG!.from}: 0 bytes is only for idle mode (connect, no exchange)`);
  if (rateG && mode !== "pingpong" && mode !== "connect") throw new UsageError(`${rateG.from} is only for pingpong and connect modes, not ${mode}`);
  if (countG && mode === "idle") throw new UsageError(`${countG.from} is not for idle mode (it holds connections for --duration)`);
  const count = countG ? parseInteger(countG.from, countG.value, 1, MAX_COUNT) : null;

  const jsonG = givenBoolean(args, env, "json");
  const htmlG = g("html");
  return {
    host,
    port,
    mode,
    connections: connectionsG ? parseInteger(connectionsG.from, connectionsG.value, 1, MAX_CONNECTIONS) : BENCH_DEFAULTS.connections,
    size,
    // With --count alone, the count ends the run; an explicit --duration then caps it.
    duration: durationG ? seconds(durationG, 0, true) : count !== null ? null : BENCH_DEFAULTS.duration,
    warmup: warmupG ? seconds(warmupG, 0, false) : BENCH_DEFAULTS.warmup,
    rate: rateG ? parsePositive(rateG.from, rateG.value, "a rate in messages per second > 0") : null,
    count,
    json: jsonG === undefined ? false : typeof jsonG.value === "boolean" ? jsonG.value : parseBoolean(jsonG.from, jsonG.value),
    html: htmlG ? parseOutputFile(htmlG.from, htmlG.value) : null,
  };
}
