// The TLS group (`--scenarios tls`): pp100 and connect16 over TLS, tcp-echo against Node's `tls`
// echo server (baseline/node-tls-echo.mjs), with plain tcp-echo in the same round. The C load
// generator speaks no TLS, so the client of this group is `tcp-echo bench` (--tls, verifying the
// server's certificate against the benchmark's own CA) for every server, plain tcp-echo included:
// the same client throughout, pinned to its CPU as in the main group.
import { mkdirSync } from "node:fs";
import { METRICS, scenarios as allScenarios, type Scenario } from "./scenarios.ts";
import type { ServerSpec } from "./servers.ts";
import { medianOf, pairedRatio } from "./stats.ts";
import type { RunRecord } from "./types.ts";

export const TLS_GROUP = "tls";

/** Files of the benchmark's PKI (made by the openssl CLI in bench/build/tls). */
export interface TlsFiles {
  readonly ca: string;
  readonly cert: string;
  readonly key: string;
}

/** A CA and a server certificate for 127.0.0.1 and localhost (ECDSA P-256, as a modern server would use). */
export function makeTlsFiles(buildDir: string): TlsFiles {
  const dir = `${buildDir}/tls`;
  mkdirSync(dir, { recursive: true });
  const sh = (args: string[]) => {
    const r = Bun.spawnSync(["openssl", ...args], { cwd: dir, stdout: "pipe", stderr: "pipe" });
    if (r.exitCode !== 0) throw new Error(`openssl ${args.join(" ")}: ${r.stderr.toString().trim()}`);
  };
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
  sh(["req", "-x509", ...ec, "-days", "2", "-subj", "/CN=tcp-echo bench CA", "-keyout", "ca.key", "-out", "ca.pem"]);
  sh(["req", ...ec, "-subj", "/CN=localhost", "-keyout", "server.key", "-out", "server.csr"]);
  Bun.write(`${dir}/server.ext`, "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n");
  sh(["x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-days", "2", "-extfile", "server.ext", "-out", "server.pem"]);
  return { ca: `${dir}/ca.pem`, cert: `${dir}/server.pem`, key: `${dir}/server.key` };
}

export function tlsScenarios(): Scenario[] {
  return allScenarios(0).filter((s) => s.id === "pp100" || s.id === "connect16");
}

/** One line of the group: a server, over TLS or not. */
export interface TlsRun {
  /** ServerSpec id. */
  readonly server: string;
  readonly tls: boolean;
  /** The record's `variant`: "tls" or "plain". */
  readonly variant: "tls" | "plain";
}

export const NODE_TLS = "node-tls";

/** Node's tls echo server; not one of the main group's servers. */
export const NODE_TLS_SERVER: ServerSpec = {
  id: NODE_TLS,
  label: "Node tls (node-tls-echo.mjs)",
  tcpEcho: false,
  argv: (p) => ["node", `${p.root}/bench/baseline/node-tls-echo.mjs`, "--cert", p.tls!.cert, "--key", p.tls!.key, "--host", "127.0.0.1", "--port", "0"],
};

export const TLS_RUNS: readonly TlsRun[] = [
  { server: NODE_TLS, tls: true, variant: "tls" },
  { server: "tcp-echo", tls: true, variant: "tls" },
  { server: "tcp-echo", tls: false, variant: "plain" },
];

/** tcp-echo serve flags for a TLS run. */
export function tlsServeOptions(files: TlsFiles): Record<string, string> {
  return { "tls-cert": files.cert, "tls-key": files.key };
}

export interface TlsSummary {
  readonly scenario: string;
  readonly server: string;
  readonly label: string;
  readonly tls: boolean;
  readonly figure: number | null;
  readonly p50: number | null;
  readonly p99: number | null;
  readonly server_cpu_pct: number | null;
  /** Server CPU per message or connection (µs): what compares servers when the client is the limit. */
  readonly server_cpu_us: number | null;
  readonly client_cpu_pct: number | null;
  /** Per round, this ÷ Node's tls server; median. */
  readonly ratio_to_node_tls: number | null;
  /** Per round, this ÷ plain tcp-echo; median. */
  readonly ratio_to_plain: number | null;
  readonly ratio_rounds_node: number[];
  readonly ok_runs: number;
  readonly runs: number;
}

export function summarizeTls(runs: readonly RunRecord[], scenarios: readonly Scenario[], servers: readonly ServerSpec[]): TlsSummary[] {
  const tr = runs.filter((r) => r.group === "tls");
  const out: TlsSummary[] = [];
  for (const sc of scenarios) {
    const here = tr.filter((r) => r.scenario === sc.id);
    const node = here.filter((r) => r.server === NODE_TLS);
    const plain = here.filter((r) => r.server === "tcp-echo" && r.variant === "plain");
    for (const run of TLS_RUNS) {
      const mine = here.filter((r) => r.server === run.server && r.variant === run.variant);
      if (mine.length === 0) continue;
      const ok = mine.filter((r) => r.ok);
      const toNode = pairedRatio(mine, node, sc.primary);
      const spec = servers.find((s) => s.id === run.server);
      out.push({
        scenario: sc.id,
        server: run.server,
        label: `${spec?.label ?? run.server}${run.server === NODE_TLS ? "" : run.tls ? ", TLS" : ", plain TCP"}`,
        tls: run.tls,
        figure: medianOf(ok, METRICS[sc.primary].get),
        p50: medianOf(ok, METRICS.p50.get),
        p99: medianOf(ok, METRICS.p99.get),
        server_cpu_pct: medianOf(ok, (r) => r.cpu?.server_pct),
        server_cpu_us: medianOf(ok, METRICS.server_cpu_us.get),
        client_cpu_pct: medianOf(ok, (r) => r.cpu?.client_pct),
        ratio_to_node_tls: toNode.median,
        ratio_to_plain: pairedRatio(mine, plain, sc.primary).median,
        ratio_rounds_node: toNode.rounds,
        ok_runs: ok.length,
        runs: mine.length,
      });
    }
  }
  return out;
}

const num = (x: number | null, d: number) => (x === null ? "-" : x.toLocaleString("en-US", { minimumFractionDigits: d, maximumFractionDigits: d }));
const ratio = (x: number | null) => (x === null ? "-" : `${x.toFixed(2)}×`);
const pct = (x: number | null) => (x === null ? "-" : `${x.toFixed(0)}%`);

export function renderTls(summary: readonly TlsSummary[], scenarios: readonly Scenario[], clientCpu: number): string[] {
  const out: string[] = ["## TLS: tcp-echo against Node's tls server, and against itself over plain TCP", ""];
  out.push(
    "The client is `tcp-echo bench` for every server (the C load generator has no TLS), with `--tls --tls-ca` the " +
      "benchmark's CA: every handshake verifies the server's certificate (ECDSA P-256, TLS 1.3) and every byte is " +
      `checked. Client pinned to CPU ${clientCpu}, server to the other, as in the main group. Ratios are per round, ` +
      "median over the rounds. In connect16 every cycle is a full handshake (no session resumption). Where the client's " +
      "core is saturated the throughput ratios say only \"at least as fast as the client drives\": server CPU per unit " +
      "then compares the servers.",
  );
  out.push("");
  const head = ["scenario", "server", "figure", "p50 µs", "p99 µs", "server CPU", "server CPU µs/unit", "client CPU", "÷ Node tls", "÷ plain tcp-echo", "ok runs"];
  const rows = summary.map((t) => {
    const sc = scenarios.find((s) => s.id === t.scenario)!;
    const m = METRICS[sc.primary];
    return [
      t.scenario,
      t.label,
      `${num(t.figure, m.digits)} ${m.label}`,
      num(t.p50, 1),
      num(t.p99, 1),
      pct(t.server_cpu_pct),
      num(t.server_cpu_us, 1),
      pct(t.client_cpu_pct),
      t.server === NODE_TLS ? "1.00×" : ratio(t.ratio_to_node_tls),
      t.server === "tcp-echo" && !t.tls ? "1.00×" : ratio(t.ratio_to_plain),
      `${t.ok_runs}/${t.runs}`,
    ];
  });
  out.push(`| ${head.join(" | ")} |`, `| ${head.map((_, i) => (i < 2 ? "---" : "---:")).join(" | ")} |`, ...rows.map((r) => `| ${r.join(" | ")} |`));
  out.push("");
  return out;
}
