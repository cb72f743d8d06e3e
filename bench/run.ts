// `bun run bench`: tcp-echo against a C epoll baseline, bare Bun.listen and Node, side by side, with
// the server pinned to CPU 0 and the C load generator to CPU 1; and tcp-echo `--workers 2` against
// `--workers 1` with nothing pinned (the workers group). See bench/lib/ for the parts:
//   tools.ts     cc -O2 builds and the tcp-echo executable in bench/build/, feature probes
//   servers.ts   servers under test, tcp-echo option variants
//   scenarios.ts scenarios, figures, the load generator's JSON report
//   plan.ts      the order of the runs (rounds, pairs), executing one step
//   measure.ts   one run: start, pin, sample /proc, stop;  proc.ts  processes and /proc
//   stats.ts     medians and per-round ratios;  report.ts  markdown and JSON
//   charts.ts    SVG charts from the results;  chart-files.ts  writes them next to the markdown
//   tls-group.ts the TLS group: pp100 and connect16 over TLS against Node's tls server
//   side-by-side.ts  tcp-echo and bare Bun on one core at the same time (the targets' ratios)
import { cpus, loadavg, release } from "node:os";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { CLIENT_CPU, SERVER_CPU, type Context } from "./lib/measure.ts";
import { writeCharts } from "./lib/chart-files.ts";
import { renderCharts } from "./lib/charts.ts";
import { execute, plan, progressLine } from "./lib/plan.ts";
import { allowedCpus, busyPct, HAVE, Processes, sleep } from "./lib/proc.ts";
import { renderMarkdown, summarizeAll, type Machine, type Results, type Settings } from "./lib/report.ts";
import { renderSummary } from "./lib/summary.ts";
import { scenarios as allScenarios, timeoutScenario, TIMEOUT_S, TIMEOUTS_GROUP, WORKERS_GROUP, workersScenarios, type Scenario } from "./lib/scenarios.ts";
import { C_BASELINE, SERVERS, VARIANTS, type ServerSpec } from "./lib/servers.ts";
import { prepare, probeFeatures } from "./lib/tools.ts";
import { makeTlsFiles, NODE_TLS_SERVER, TLS_GROUP, tlsScenarios, type TlsFiles } from "./lib/tls-group.ts";
import { executePair, INFO_LOGS, sideLine, sidePairs, SIDE_GROUP, SIDE_SCENARIOS, summarizeSide } from "./lib/side-by-side.ts";
import { disturbance, DISTURBED_PCT, type RunRecord } from "./lib/types.ts";

const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
/** --wait-quiet: the machine counts as quiet after this long under DISTURBED_PCT, sampled this many times. */
const QUIET_WINDOW_MS = 2000;
const QUIET_SAMPLES = 4;
const BUILD = `${ROOT}/bench/build`;

const USAGE = `usage: bun run bench [options]
  --quick               1 round, 1 s runs + 0.3 s warm-up, idle with 1,000 connections, no variants,
                        no workers group (under a minute; for CI); results in bench/build/quick.{md,json}
  --rounds N            rounds (default 5; quick 1)
  --duration S          measured seconds per run (default 3; quick 1)
  --warmup S            warm-up seconds per run (default 1; quick 0.3)
  --servers a,b         servers besides the C baseline, which always runs
                        (${SERVERS.filter((s) => s.id !== C_BASELINE).map((s) => s.id).join(", ")})
  --scenarios x,y       ${allScenarios(0).map((s) => s.id).join(", ")}, ${TIMEOUTS_GROUP}, ${WORKERS_GROUP}, ${TLS_GROUP}, ${SIDE_GROUP}
                        (default: all; --quick: all but ${WORKERS_GROUP}). ${WORKERS_GROUP}: tcp-echo --workers 2 vs 1,
                        nothing pinned, ${workersScenarios().map((s) => s.id).join(" and ")}, with the C baseline as a reference
                        line. ${TIMEOUTS_GROUP}: tcp-echo with --timeout ${TIMEOUT_S} times out --idle-connections at once;
                        how late it acted, from its /metrics histogram. ${TLS_GROUP}: ${tlsScenarios().map((s) => s.id).join(" and ")} over TLS,
                        tcp-echo against Node's tls server and plain tcp-echo, client \`tcp-echo bench --tls\` (it needs
                        openssl and node). ${SIDE_GROUP}: ${SIDE_SCENARIOS.join(", ")} with tcp-echo (and bare Bun, the
                        control, bare Bun with tcp-echo's serve modules loaded and unused, tcp-echo --gc-ballast 0, and
                        in connect16 tcp-echo with info logs) and a bare Bun.listen
                        on the same core at the same time, each with its own load generator: drift between runs
                        cancels out (needs bun among --servers). Variants and the client
                        comparison run only on selected scenarios (pp100, connect16, idle).
  --idle-connections N  connections of the idle scenario (default 10000; quick 1000)
  --variants / --no-variants   measure tcp-echo's options (default: on, off with --quick)
  --no-compare          skip \`tcp-echo bench\` against the C load generator
  --retries N           repeat a run disturbed by other work on a pinned core up to N times,
                        keeping the least disturbed attempt (default 2; quick 0)
  --wait-quiet S        before each run wait up to S seconds until other work on the machine (nothing of
                        the benchmark runs then) has stayed under ${DISTURBED_PCT} % of a core for ${QUIET_WINDOW_MS / 1000} s; for a
                        shared machine (default 0: off)
  --nice N              run servers and load generator at this nice level (root for N < 0)
  --out PREFIX          write PREFIX.md, PREFIX.json and the charts PREFIX-ratio-<scenario>.svg and
                        PREFIX-latency-<scenario>.svg (default bench/results/latest)
  --summary             print only tcp-echo's ratio to the C baseline and to bare Bun per scenario, and
                        the failures, instead of the whole report (still written to PREFIX.md), and
                        no progress line for a run that succeeded; for CI
Exit status: 0 when every run produced a valid report with no errors and no mismatches.`;

class UsageError extends Error {}

interface Cli extends Settings {
  readonly servers: ServerSpec[];
  readonly scenarios: Scenario[];
  /** --scenarios names a main scenario (so the variants and the comparison only run on those named). */
  readonly scenariosGiven: boolean;
  readonly workers: Scenario[];
  readonly tls: Scenario[];
  readonly timeouts: Scenario[];
  /** The side-by-side group's scenarios (empty: not run). */
  readonly side: Scenario[];
  readonly variants: boolean;
  readonly compare: boolean;
  readonly retries: number;
  readonly waitQuiet: number;
  readonly out: string;
  readonly summary: boolean;
}

function parseCli(argv: string[]): Cli {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowNegative: true,
    options: {
      quick: { type: "boolean", default: false },
      rounds: { type: "string" },
      duration: { type: "string" },
      warmup: { type: "string" },
      servers: { type: "string" },
      scenarios: { type: "string" },
      "idle-connections": { type: "string" },
      variants: { type: "boolean" },
      compare: { type: "boolean", default: true },
      nice: { type: "string" },
      retries: { type: "string" },
      "wait-quiet": { type: "string" },
      out: { type: "string" },
      summary: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const quick = values.quick;
  const number = (name: string, v: string | undefined, fallback: number, min: number, max: number, int = false) => {
    if (v === undefined) return fallback;
    const n = Number(v);
    if (v.trim() === "" || !Number.isFinite(n) || n < min || n > max || (int && !Number.isInteger(n))) {
      throw new UsageError(`--${name} ${JSON.stringify(v)}: want ${int ? "an integer" : "a number"} in ${min}..${max}`);
    }
    return n;
  };
  const list = <T extends { id: string }>(name: string, v: string | undefined, all: T[]): T[] => {
    if (v === undefined) return all;
    const ids = v.split(",").map((x) => x.trim()).filter(Boolean);
    const bad = ids.filter((id) => !all.some((x) => x.id === id));
    if (bad.length) throw new UsageError(`--${name}: unknown ${bad.join(", ")} (known: ${all.map((x) => x.id).join(", ")})`);
    return all.filter((x) => ids.includes(x.id));
  };
  const idleConnections = number("idle-connections", values["idle-connections"], quick ? 1000 : 10000, 1, 60000, true);
  const duration = number("duration", values.duration, quick ? 1 : 3, 0.2, 600);
  const warmup = number("warmup", values.warmup, quick ? 0.3 : 1, 0, 600);
  const picked = list("servers", values.servers, SERVERS.filter((s) => s.id !== C_BASELINE));
  const groups = [...allScenarios(idleConnections), { id: TIMEOUTS_GROUP }, { id: WORKERS_GROUP }, { id: TLS_GROUP }, { id: SIDE_GROUP }];
  const chosen =
    values.scenarios === undefined && quick
      ? groups.filter((g) => g.id !== WORKERS_GROUP)
      : list("scenarios", values.scenarios, groups);
  const mainScenarios = allScenarios(idleConnections).filter((sc) => chosen.some((g) => g.id === sc.id));
  return {
    quick,
    rounds: number("rounds", values.rounds, quick ? 1 : 5, 1, 100, true),
    duration,
    warmup,
    idleConnections,
    idleHold: quick ? 0.5 : 2,
    shortDuration: Math.min(duration, 1),
    shortWarmup: Math.min(warmup, 0.3),
    nice: number("nice", values.nice, 0, -20, 19, true),
    retries: number("retries", values.retries, quick ? 0 : 2, 0, 10, true),
    waitQuiet: number("wait-quiet", values["wait-quiet"], 0, 0, 3600),
    serverCpu: SERVER_CPU,
    clientCpu: CLIENT_CPU,
    workersScenarios: [],
    servers: [SERVERS.find((s) => s.id === C_BASELINE)!, ...picked],
    scenarios: mainScenarios,
    scenariosGiven: values.scenarios !== undefined,
    workers: chosen.some((g) => g.id === WORKERS_GROUP) ? workersScenarios() : [],
    tls: chosen.some((g) => g.id === TLS_GROUP) ? tlsScenarios() : [],
    timeouts: chosen.some((g) => g.id === TIMEOUTS_GROUP) ? [timeoutScenario(idleConnections)] : [],
    side: chosen.some((g) => g.id === SIDE_GROUP) ? allScenarios(idleConnections).filter((sc) => (SIDE_SCENARIOS as readonly string[]).includes(sc.id)) : [],
    variants: values.variants ?? !quick,
    compare: values.compare,
    out: values.out ?? (quick ? `${BUILD}/quick` : `${ROOT}/bench/results/latest`),
    summary: values.summary,
  };
}

function machine(): Machine {
  const model = /^model name\s*:\s*(.*)$/m.exec(readFileSync("/proc/cpuinfo", "utf8"))?.[1] ?? "unknown CPU";
  const first = (cmd: string[]) => {
    const r = Bun.spawnSync(cmd, { stdout: "pipe", stderr: "ignore" });
    return r.exitCode === 0 ? (r.stdout.toString().split("\n")[0] ?? "").trim() : null;
  };
  return {
    cpus: cpus().length,
    model,
    kernel: release(),
    bun: Bun.version,
    node: HAVE.node ? first(["node", "--version"]) : null,
    cc: first(["cc", "--version"]) ?? "cc",
    loadavg_at_start: loadavg().map((x) => Math.round(x * 100) / 100),
  };
}

async function main(): Promise<number> {
  const t0 = performance.now();
  const host = machine();
  let cli: Cli;
  try {
    cli = parseCli(process.argv.slice(2));
  } catch (e) {
    console.error(`bench: ${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  if (!HAVE.taskset || !HAVE.cc) {
    console.error("bench: needs taskset (util-linux) and cc");
    return 1;
  }
  if (allowedCpus().length < 2) {
    console.error("bench: needs 2 CPUs (one for the server, one for the load generator)");
    return 1;
  }
  const procs = new Processes();
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      procs.killAllNow();
      process.exit(130);
    }
    stopping = true;
    console.error(`bench: ${signal}: stopping every process it started`);
    void procs.stopAll(2000).then(() => process.exit(130));
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  process.on("exit", () => procs.killAllNow());

  mkdirSync(BUILD, { recursive: true });
  const logDir = `${BUILD}/logs`;
  rmSync(logDir, { recursive: true, force: true });
  mkdirSync(logDir, { recursive: true });

  console.error("bench: building C baseline and load generator (cc -O2), tcp-echo executable if stale");
  const prep = await prepare(ROOT, BUILD);
  const notes = [...prep.notes];
  const failures = [...prep.failures];
  if (failures.some((f) => f.startsWith("cc "))) {
    for (const f of failures) console.error(`bench: ${f}`);
    return 1;
  }
  const features = await probeFeatures(prep.paths);

  let servers = cli.servers;
  if (!prep.exeAvailable) servers = servers.filter((s) => s.id !== "tcp-echo-exe");
  if (!HAVE.node && servers.some((s) => s.id === "node")) {
    servers = servers.filter((s) => s.id !== "node");
    notes.push("`node` is not installed: the Node.js server was skipped.");
  }
  // With --scenarios, the variants and the comparison run only on the scenarios named.
  const chosen = (id: string) => !cli.scenariosGiven || cli.scenarios.some((sc) => sc.id === id);
  const variants = cli.variants
    ? VARIANTS.flatMap((v) => {
        const missing = (v.needsFlags ?? []).filter((f) => !features.serveFlags.has(f));
        if (missing.length) notes.push(`Variant \`${v.label}\` skipped: \`serve --help\` has no ${missing.join(", ")} yet.`);
        const scs = v.scenarios.filter(chosen);
        return missing.length === 0 && scs.length > 0 ? [{ ...v, scenarios: scs }] : [];
      })
    : [];
  const compare = cli.compare && features.benchCommand && chosen("pp100");
  if (cli.compare && !features.benchCommand) {
    notes.push(`\`tcp-echo bench\` comparison skipped: \`tcp-echo bench --help\` fails (${features.benchProbe || "no output"}).`);
  }
  notes.push(
    "tcp-echo runs with `--log-level warn --log-format json` (nothing is logged per connection); in the idle scenario also " +
      "with `--timeout 60`, since the default 5.5 s idle timeout would close connections held longer. The compiled " +
      `executable is ${prep.paths.exe.replace(`${ROOT}/`, "")}, built by \`bun run build.ts\` when src/ is newer.`,
  );
  let workers = cli.workers;
  if (workers.length > 0 && !features.serveFlags.has("--workers")) {
    notes.push("Workers group skipped: `serve --help` has no --workers.");
    workers = [];
  } else if (workers.length > 0 && !servers.some((s) => s.id === "tcp-echo" || s.id === "tcp-echo-exe")) {
    notes.push("Workers group skipped: neither tcp-echo build is among --servers.");
    workers = [];
  }
  if (workers.length > 0) {
    notes.push(
      "Workers group: tcp-echo `--workers 2` is found ready when both workers (children of the supervisor, found " +
        "through /proc/<pid>/task/*/children) listen on the supervisor's port, so that the load generator's " +
        "connections are spread over both from the start; a worker that died during the measured window fails the run.",
    );
  }
  let tls = cli.tls;
  let tlsFiles: TlsFiles | null = null;
  if (tls.length > 0 && (!features.benchCommand || !features.serveFlags.has("--tls-cert"))) {
    notes.push("TLS group skipped: `tcp-echo bench --tls` or `serve --tls-cert` is missing from this tree.");
    tls = [];
  } else if (tls.length > 0) {
    try {
      tlsFiles = makeTlsFiles(BUILD);
      prep.paths.tls = tlsFiles;
    } catch (e) {
      failures.push(`TLS group: could not make its certificates: ${(e as Error).message}`);
      tls = [];
    }
    if (!HAVE.node) notes.push("`node` is not installed: the TLS group ran without Node's tls server.");
  }
  notes.push(
    "Idle: KiB per connection = (server VmRSS while the connections are held − VmRSS before they open) ÷ connections open; " +
      "kernel socket buffers are not part of RSS.",
  );

  const ctx: Context = { procs, paths: prep.paths, logDir, nice: cli.nice };
  const timeouts = servers.some((s) => s.id === "tcp-echo") ? cli.timeouts : [];
  const steps = plan(
    { ...cli, servers, workersScenarios: workers, tlsScenarios: tls, tlsFiles, nodeTls: HAVE.node ? NODE_TLS_SERVER : null, timeoutScenarios: timeouts },
    variants,
    compare,
  );
  const runs: RunRecord[] = [];
  console.error(`bench: ${steps.length} server runs in ${cli.rounds} round(s); logs in ${logDir.replace(`${ROOT}/`, "")}`);
  const worst = (rs: readonly RunRecord[]) => Math.max(0, ...rs.map(disturbance));
  // --wait-quiet: between runs nothing of the benchmark runs, so whatever keeps the CPUs busy is other work.
  let quietWaits = 0;
  let quietWaited = 0;
  let quietGaveUp = 0;
  const waitQuiet = async () => {
    if (cli.waitQuiet <= 0) return;
    // Quiet = QUIET_SAMPLES samples in a row (QUIET_WINDOW_MS) under the threshold: other work that runs
    // in bursts (someone else's benchmark) often pauses for a moment between two runs.
    const cpus = allowedCpus();
    const t = performance.now();
    const quietFor = async () => {
      let worst = 0;
      for (let i = 0; i < QUIET_SAMPLES; i++) {
        worst = Math.max(worst, await busyPct(cpus, QUIET_WINDOW_MS / QUIET_SAMPLES));
        if (worst >= DISTURBED_PCT || stopping) break;
      }
      return worst;
    };
    let busy = await quietFor();
    if (busy < DISTURBED_PCT) return;
    quietWaits++;
    console.error(`bench: other work keeps the CPUs ${busy} % busy; waiting up to ${cli.waitQuiet} s for it to stop`);
    while (busy >= DISTURBED_PCT && !stopping && performance.now() - t < cli.waitQuiet * 1000) {
      await sleep(300);
      busy = await quietFor();
    }
    quietWaited += (performance.now() - t) / 1000;
    if (busy >= DISTURBED_PCT) {
      quietGaveUp++;
      console.error(`bench: still ${busy} % busy after ${cli.waitQuiet} s; measuring anyway`);
    }
  };
  for (const [i, step] of steps.entries()) {
    if (stopping) break;
    await waitQuiet();
    const show = (recs: RunRecord[]) => {
      for (const r of recs) {
        // --summary: a line per run only for the runs that failed (the summary lists them too).
        if (cli.summary && r.ok) continue;
        console.error(`[r${step.round}/${cli.rounds} ${i + 1}/${steps.length}] ${progressLine(r, runs, step.scenario)}`);
      }
    };
    let recs = await execute(ctx, step);
    runs.push(...recs);
    show(recs);
    // Other work on a pinned core: measure again right away (still seconds from its pair) and keep
    // the least disturbed attempt. A failed attempt is never hidden: it stays and counts.
    for (let attempt = 2; attempt <= cli.retries + 1 && !stopping; attempt++) {
      if (!recs.some((r) => r.disturbed) || recs.some((r) => !r.ok)) break;
      await waitQuiet();
      const again = await execute(ctx, step);
      for (const r of again) r.attempt = attempt;
      runs.push(...again);
      show(again);
      const [keep, drop] = again.some((r) => !r.ok) || worst(again) < worst(recs) ? [again, recs] : [recs, again];
      for (const r of drop) r.superseded = true;
      recs = keep;
    }
  }
  // The side-by-side group: its own rounds after the others (each pair is its own comparison).
  const pairs = sidePairs(cli.rounds, cli.side, servers);
  if (cli.side.length > 0 && pairs.length === 0) notes.push("Side-by-side group skipped: it needs bare Bun (`bun`) among --servers.");
  if (pairs.length > 0) console.error(`bench: side by side, ${pairs.length} pairs in ${cli.rounds} round(s)`);
  for (const [i, pair] of pairs.entries()) {
    if (stopping) break;
    await waitQuiet();
    const recs = await executePair(ctx, pair, { duration: cli.duration, warmup: cli.warmup });
    runs.push(...recs);
    for (const r of recs) {
      if (cli.summary && r.ok) continue;
      console.error(`[r${pair.round}/${cli.rounds} side ${i + 1}/${pairs.length}] ${sideLine(r, recs.find((x) => x !== r), pair.scenario)}`);
    }
  }
  if (stopping) return 130;

  for (const r of runs.filter((x) => !x.ok)) {
    failures.push(
      `round ${r.round}, ${r.group}, ${r.scenario}, ${r.server}${r.variant ? ` (${r.variant})` : ""}, ${r.client}: ${r.problems.join("; ")}`,
    );
  }
  // Anything a server says at `warn` (or a baseline says at all) is worth reading.
  for (const r of runs) {
    // Variants and contenders that log at info do so by design.
    const expected = (r.variant !== null && r.variant.startsWith("log-")) || r.server === INFO_LOGS.id;
    if (r.server_stderr_bytes > 0 && !expected) {
      notes.push(
        `${r.server} wrote ${r.server_stderr_bytes} B to stderr (round ${r.round}, ${r.scenario}${r.variant ? `, ${r.variant}` : ""}): ` +
          `\`${r.server_stderr_head.join(" | ").slice(0, 300)}\``,
      );
    }
  }

  if (cli.waitQuiet > 0) {
    notes.push(
      `--wait-quiet ${cli.waitQuiet}: before each run the benchmark waited until other work had kept the CPUs under ` +
        `${DISTURBED_PCT} % of a core for ${QUIET_WINDOW_MS / 1000} s; it waited ${quietWaits} time(s), ${Math.round(quietWaited)} s in all` +
        `${quietGaveUp ? `, and gave up ${quietGaveUp} time(s) (measured anyway)` : ""}.`,
    );
  }
  const measured = runs.filter((r) => r.cpu !== null && !r.superseded);
  const disturbed = measured.filter((r) => r.disturbed);
  const repeated = runs.filter((r) => r.superseded).length;
  notes.push(
    `A run is disturbed when other work takes more than ${DISTURBED_PCT} % of the server's or the load generator's core ` +
      `(core busy time from /proc/stat minus the pinned process; unpinned, in the workers group: both cores' busy time ` +
      `minus the server's processes and the load generator); such a run is repeated up to ${cli.retries} time(s) ` +
      `and the least disturbed attempt counts. ${repeated} attempt(s) were set aside this way; ` +
      `${disturbed.length} of ${measured.length} counted runs are still disturbed (\`disturbed\` in the JSON) ` +
      "and are kept: the medians over rounds absorb a few.",
  );

  const settings: Settings = {
    quick: cli.quick,
    rounds: cli.rounds,
    duration: cli.duration,
    warmup: cli.warmup,
    idleConnections: cli.idleConnections,
    idleHold: cli.idleHold,
    shortDuration: cli.shortDuration,
    shortWarmup: cli.shortWarmup,
    nice: cli.nice,
    retries: cli.retries,
    serverCpu: SERVER_CPU,
    clientCpu: CLIENT_CPU,
    workersScenarios: workers.map((sc) => sc.id),
  };
  const results: Results = {
    date: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
    command: ["bun run bench", ...process.argv.slice(2)].join(" "),
    elapsed_s: Math.round((performance.now() - t0) / 100) / 10,
    machine: host,
    settings,
    notes,
    failures,
    summary: {
      ...summarizeAll(runs.filter((r) => !r.superseded), cli.scenarios, servers, variants, workers, tls, [...SERVERS, NODE_TLS_SERVER], timeouts),
      side: summarizeSide(runs, cli.side, servers),
    },
    runs,
  };
  const outDir = cli.out.includes("/") ? cli.out.replace(/\/[^/]*$/, "") : ".";
  const prefix = cli.out.slice(cli.out.lastIndexOf("/") + 1);
  const charts = renderCharts(results, prefix);
  const md = renderMarkdown(results, servers, cli.scenarios, charts);
  mkdirSync(outDir, { recursive: true });
  writeFileSync(`${cli.out}.md`, md);
  writeFileSync(`${cli.out}.json`, `${JSON.stringify(results, null, 2)}\n`);
  writeCharts(outDir, prefix, charts);
  console.log(cli.summary ? renderSummary(results, `${cli.out.replace(`${ROOT}/`, "")}.md`) : md);
  console.error(
    `bench: ${runs.length} runs, ${failures.length} failure(s), ${results.elapsed_s} s; wrote ${cli.out.replace(`${ROOT}/`, "")}.{md,json} and ${charts.length} chart(s)`,
  );
  return failures.length === 0 ? 0 : 1;
}

process.exitCode = await main();
