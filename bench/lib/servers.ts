// The servers under test and the tcp-echo option variants. Every server listens on 127.0.0.1 port 0;
// the harness finds the port in /proc (tcp-echo prints nothing at `warn`).
import type { Scenario } from "./scenarios.ts";

export interface Paths {
  readonly root: string;
  readonly bun: string;
  readonly echoC: string;
  readonly loadgen: string;
  /** The compiled tcp-echo executable actually used (bench/build/tcp-echo, or a fallback). */
  exe: string;
  /** The TLS group's CA, certificate and key (bench/build/tls), when that group runs. */
  tls?: { readonly ca: string; readonly cert: string; readonly key: string };
}

export interface ServerSpec {
  readonly id: string;
  readonly label: string;
  readonly tcpEcho: boolean;
  /** argv to start it; `options` are tcp-echo serve flags (ignored by the baselines). */
  argv(paths: Paths, sc: Scenario, options: Readonly<Record<string, string>>): string[];
}

/** The reference every ratio is taken against; always measured first within a round. */
export const C_BASELINE = "c";
export const BARE_BUN = "bun";
/** A variant group's run of bare Bun.listen: every option of tcp-echo is compared with it too. */
export const BARE_VARIANT = "bare-bun";

/** tcp-echo flags for a benchmark: quiet logs, and idle connections must outlive the hold. */
export function tcpEchoArgs(sc: Scenario, options: Readonly<Record<string, string>>): string[] {
  const merged: Record<string, string> = {
    host: "127.0.0.1",
    port: "0",
    "log-level": "warn",
    "log-format": "json",
    ...(sc.mode === "idle" ? { timeout: "60" } : {}),
    ...options,
  };
  return ["serve", ...Object.entries(merged).flatMap(([k, v]) => [`--${k}`, v])];
}

export const SERVERS: readonly ServerSpec[] = [
  {
    id: C_BASELINE,
    label: "C epoll (echo.c, cc -O2)",
    tcpEcho: false,
    argv: (p) => [p.echoC, "--host", "127.0.0.1", "--port", "0"],
  },
  {
    id: BARE_BUN,
    label: "bare Bun.listen (bun-echo.ts)",
    tcpEcho: false,
    argv: (p) => [p.bun, `${p.root}/bench/baseline/bun-echo.ts`, "--host", "127.0.0.1", "--port", "0"],
  },
  {
    id: "node",
    label: "Node net (node-echo.mjs)",
    tcpEcho: false,
    argv: (p) => ["node", `${p.root}/bench/baseline/node-echo.mjs`, "--host", "127.0.0.1", "--port", "0"],
  },
  {
    id: "tcp-echo",
    label: "tcp-echo (bun run src/index.ts)",
    tcpEcho: true,
    argv: (p, sc, o) => [p.bun, "run", `${p.root}/src/index.ts`, ...tcpEchoArgs(sc, o)],
  },
  {
    id: "tcp-echo-exe",
    label: "tcp-echo (compiled executable)",
    tcpEcho: true,
    argv: (p, sc, o) => [p.exe, ...tcpEchoArgs(sc, o)],
  },
];

export interface Variant {
  readonly id: string;
  readonly label: string;
  readonly options: Readonly<Record<string, string>>;
  readonly scenarios: readonly string[];
  /** Run with a short duration (the option writes a lot, e.g. a log line per read). */
  readonly short?: boolean;
  /** serve flags that must appear in `serve --help`, or the variant is skipped. */
  readonly needsFlags?: readonly string[];
}

export const VARIANTS: readonly Variant[] = [
  { id: "quickack-always", label: "--quickack always", options: { quickack: "always" }, scenarios: ["pp100"] },
  { id: "quickack-off", label: "--quickack off", options: { quickack: "off" }, scenarios: ["pp100"] },
  {
    id: "log-info-pretty",
    label: "--log-level info --log-format pretty",
    options: { "log-level": "info", "log-format": "pretty" },
    scenarios: ["pp100", "connect16", "idle"],
  },
  {
    id: "log-info-json",
    label: "--log-level info --log-format json",
    options: { "log-level": "info" },
    scenarios: ["pp100", "connect16", "idle"],
  },
  {
    id: "log-debug",
    label: "--log-level debug --log-format pretty",
    options: { "log-level": "debug", "log-format": "pretty" },
    scenarios: ["pp100"],
    short: true,
  },
  {
    id: "record",
    label: "--record '! I 2s Q 2h f' --record-mode stream",
    options: { record: "! I 2s Q 2h f", "record-mode": "stream" },
    scenarios: ["pp100", "connect16"],
    needsFlags: ["--record", "--record-mode"],
  },
];

/**
 * The workers group (`--scenarios workers`): tcp-echo with `--workers 1` (one process) and
 * `--workers 2` (a supervisor and two workers, each with its own SO_REUSEPORT listener), nothing
 * pinned, each pair back to back in a round; the C baseline (one process, unpinned) as a reference line.
 */
export interface WorkersRun {
  /** ServerSpec id. */
  readonly server: string;
  /** `--workers` value; null for the C baseline. */
  readonly workers: number | null;
  /** Scenario ids (workersScenarios()) it runs in. */
  readonly scenarios: readonly string[];
}

export const WORKERS_RUNS: readonly WorkersRun[] = [
  { server: C_BASELINE, workers: null, scenarios: ["pp100", "pp400"] },
  { server: "tcp-echo", workers: 1, scenarios: ["pp100", "pp400"] },
  { server: "tcp-echo", workers: 2, scenarios: ["pp100", "pp400"] },
  // The compiled executable runs the same code: one scenario is enough to see that it scales alike.
  { server: "tcp-echo-exe", workers: 1, scenarios: ["pp100"] },
  { server: "tcp-echo-exe", workers: 2, scenarios: ["pp100"] },
];

/** The record's `variant` in the workers group: "workers-N" (null for the C baseline). */
export const workersVariant = (n: number | null): string | null => (n === null ? null : `workers-${n}`);
