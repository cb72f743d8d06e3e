// `bun run bench:proxy`: what the PROXY protocol costs per connection, measured in one run. Interleaved
// rounds of connect16 (16 concurrent connect, 64 B exchange, close loops) against three servers, the
// server pinned to CPU 0 and HEAD's `tcp-echo bench` to CPU 1 (the same load generator for all three):
//   off     tcp-echo from this tree, --proxy-protocol off (the default)
//   v2      tcp-echo from this tree, --proxy-protocol v2; the load generator sends a v2 header first on
//           every connection (bench --proxy-protocol v2)
//   before  tcp-echo at the commit before PROXY landed on listeners (--baseline, default 61e4557^),
//           extracted with `git archive` into bench/build/ and run from source
// The order of the three rotates from round to round; ratios are taken within a round (this machine
// drifts between speed levels by about 20%) and their median and range reported: v2/off is what a
// header costs, off/before what the feature costs when it is off (the goal: within 3%).
// Writes PREFIX.md (kept in the repository) and PREFIX.json.
import { loadavg, cpus, release } from "node:os";
import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { CLIENT_CPU, PINNED, SERVER_CPU, type ClientRequest, type Context } from "./lib/measure.ts";
import { execute, type Step } from "./lib/plan.ts";
import { allowedCpus, busyPct, HAVE, Processes, sleep } from "./lib/proc.ts";
import { METRICS, scenarios, type MetricKey, type Scenario } from "./lib/scenarios.ts";
import { tcpEchoArgs, type Paths, type ServerSpec } from "./lib/servers.ts";
import { median, pairedRatio } from "./lib/stats.ts";
import { disturbance, DISTURBED_PCT, type RunRecord } from "./lib/types.ts";

const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const BUILD = `${ROOT}/bench/build`;
/** The commit whose parent is the last tcp-echo without PROXY protocol on its listeners. */
const PROXY_COMMIT = "61e4557";

const USAGE = `usage: bun run bench:proxy [options]
  --rounds N        interleaved rounds (default 7)
  --duration S      measured seconds per run (default 3)
  --warmup S        warm-up seconds per run (default 1)
  --scenarios x,y   connect16 (default), pp100, pp1
  --baseline REV    the tree to compare with (default ${PROXY_COMMIT}^, the last without PROXY
                    protocol; another, such as the tree before faults, measures what came since)
  --retries N       repeat a run disturbed by other work on a pinned core up to N times (default 1)
  --wait-quiet S    before each run wait up to S seconds until other work has kept the CPUs under
                    ${DISTURBED_PCT} % of a core for 2 s (a shared machine; default 0: off)
  --out PREFIX      write PREFIX.md and PREFIX.json (default bench/results/proxy-cost)`;

interface Target {
  readonly id: "off" | "v2" | "before";
  readonly label: string;
  readonly spec: ServerSpec;
  readonly serve: Readonly<Record<string, string>>;
  readonly bench: readonly string[];
}

function git(args: string[]): string {
  const r = Bun.spawnSync(["git", "-C", ROOT, ...args], { stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`git ${args.join(" ")}: ${r.stderr.toString().trim()}`);
  return r.stdout.toString().trim();
}

/** The baseline's src/ and package.json under bench/build/ (ignored): it imports HEAD's node_modules, found upwards. */
function extractBaseline(rev: string): { dir: string; sha: string; notes: string[] } {
  const sha = git(["rev-parse", "--verify", `${rev}^{commit}`]);
  const dir = `${BUILD}/proxy-before-${sha.slice(0, 12)}`;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const archive = Bun.spawnSync(["sh", "-c", `git -C "${ROOT}" archive "${sha}" src package.json | tar -x -C "${dir}"`], { stderr: "pipe" });
  if (archive.exitCode !== 0) throw new Error(`git archive ${sha}: ${archive.stderr.toString().trim()}`);
  const notes: string[] = [];
  if (existsSync(`${dir}/src/server/proxy-header.ts`)) notes.push(`The baseline ${sha.slice(0, 12)} already has src/server/proxy-header.ts: it is not a tree without PROXY protocol.`);
  // Scripts may differ (this one's entry is newer than the baseline); the dependencies must not.
  const deps = (ref: string) => {
    const pkg = JSON.parse(git(["show", `${ref}:package.json`])) as Record<string, unknown>;
    return JSON.stringify([pkg.dependencies, pkg.devDependencies]);
  };
  const lock = Bun.spawnSync(["git", "-C", ROOT, "diff", "--quiet", sha, "HEAD", "--", "bun.lock"]);
  notes.push(
    deps(sha) === deps("HEAD") && lock.exitCode === 0
      ? "The baseline's dependencies and bun.lock equal HEAD's: it runs on the same node_modules (HEAD's, found upwards from bench/build/)."
      : "The baseline's dependencies or bun.lock differ from HEAD's; it runs on HEAD's node_modules all the same.",
  );
  return { dir, sha, notes };
}

function fmt(x: number | null, digits = 0): string {
  return x === null ? "-" : x.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

async function main(): Promise<number> {
  const t0 = performance.now();
  let values;
  try {
    ({ values } = parseArgs({
      args: process.argv.slice(2),
      strict: true,
      options: {
        rounds: { type: "string" },
        duration: { type: "string" },
        warmup: { type: "string" },
        scenarios: { type: "string" },
        baseline: { type: "string" },
        retries: { type: "string" },
        "wait-quiet": { type: "string" },
        out: { type: "string" },
        help: { type: "boolean", short: "h", default: false },
      },
    }));
  } catch (e) {
    console.error(`bench:proxy: ${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const num = (name: string, v: string | undefined, d: number, min: number, max: number, int = false): number => {
    if (v === undefined) return d;
    const n = Number(v);
    if (v.trim() === "" || !Number.isFinite(n) || n < min || n > max || (int && !Number.isInteger(n))) throw new Error(`--${name} ${JSON.stringify(v)}: want ${int ? "an integer" : "a number"} in ${min}..${max}`);
    return n;
  };
  let rounds: number, duration: number, warmup: number, retries: number, waitQuiet: number, chosen: Scenario[];
  try {
    rounds = num("rounds", values.rounds, 7, 1, 100, true);
    duration = num("duration", values.duration, 3, 0.2, 600);
    warmup = num("warmup", values.warmup, 1, 0, 600);
    retries = num("retries", values.retries, 1, 0, 10, true);
    waitQuiet = num("wait-quiet", values["wait-quiet"], 0, 0, 3600);
    const known = scenarios(0).filter((s) => s.mode !== "idle" && s.mode !== "stream" && s.id !== "pp50x16k");
    const ids = (values.scenarios ?? "connect16").split(",").map((x) => x.trim()).filter(Boolean);
    const bad = ids.filter((id) => !known.some((s) => s.id === id));
    if (bad.length) throw new Error(`--scenarios: unknown ${bad.join(", ")} (known: ${known.map((s) => s.id).join(", ")})`);
    chosen = known.filter((s) => ids.includes(s.id));
  } catch (e) {
    console.error(`bench:proxy: ${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  if (!HAVE.taskset || allowedCpus().length < 2) {
    console.error("bench:proxy: needs taskset and 2 CPUs (one for the server, one for the load generator)");
    return 1;
  }
  const out = values.out ?? `${ROOT}/bench/results/proxy-cost`;
  const baselineRev = values.baseline ?? `${PROXY_COMMIT}^`;
  mkdirSync(BUILD, { recursive: true });
  const logDir = `${BUILD}/logs-proxy`;
  rmSync(logDir, { recursive: true, force: true });
  mkdirSync(logDir, { recursive: true });
  const base = extractBaseline(baselineRev);
  const head = git(["rev-parse", "--short=12", "HEAD"]);
  const dirty = git(["status", "--porcelain", "--", "src"]) !== "";

  const source = (id: string, label: string, entry: string): ServerSpec => ({
    id,
    label,
    tcpEcho: true,
    argv: (p: Paths, sc: Scenario, o: Readonly<Record<string, string>>) => [p.bun, "run", entry, ...tcpEchoArgs(sc, o)],
  });
  const targets: Target[] = [
    { id: "off", label: `tcp-echo ${head}${dirty ? "+" : ""}, --proxy-protocol off`, spec: source("off", "HEAD off", `${ROOT}/src/index.ts`), serve: { "proxy-protocol": "off" }, bench: [] },
    {
      id: "v2",
      label: `tcp-echo ${head}${dirty ? "+" : ""}, --proxy-protocol v2; bench --proxy-protocol v2`,
      spec: source("v2", "HEAD v2", `${ROOT}/src/index.ts`),
      serve: { "proxy-protocol": "v2" },
      bench: ["--proxy-protocol", "v2"],
    },
    { id: "before", label: `tcp-echo ${base.sha.slice(0, 12)} (${baselineRev}${values.baseline === undefined ? ", before PROXY" : ""})`, spec: source("before", `at ${baselineRev}`, `${base.dir}/src/index.ts`), serve: {}, bench: [] },
  ];

  const procs = new Processes();
  let stopping = false;
  const onSignal = () => {
    if (stopping) {
      procs.killAllNow();
      process.exit(130);
    }
    stopping = true;
    void procs.stopAll(2000).then(() => process.exit(130));
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  process.on("exit", () => procs.killAllNow());

  const ctx: Context = { procs, paths: { root: ROOT, bun: process.execPath, echoC: "", loadgen: "", exe: "" }, logDir, nice: 0 };
  const steps: Step[] = [];
  for (let round = 1; round <= rounds; round++) {
    for (const sc of chosen) {
      const k = (round - 1) % targets.length;
      for (const t of [...targets.slice(k), ...targets.slice(0, k)]) {
        const req: ClientRequest = { round, group: "variant", scenario: sc, variant: t.id, client: "tcp-echo-bench", duration, warmup, idleHold: 0, pinned: true, clientOptions: t.bench };
        steps.push({ round, server: t.spec, scenario: sc, options: t.serve, clients: [req], tag: `r${round}-${sc.id}-${t.id}`, place: PINNED });
      }
    }
  }
  console.error(`bench:proxy: ${steps.length} runs (${rounds} rounds x ${chosen.length} scenario(s) x 3 servers); baseline ${base.sha.slice(0, 12)} in ${base.dir.replace(`${ROOT}/`, "")}`);
  const runs: RunRecord[] = [];
  // --wait-quiet: between runs nothing of the benchmark runs, so what keeps the CPUs busy is other work.
  let waited = 0;
  let gaveUp = 0;
  const quiet = async () => {
    if (waitQuiet <= 0) return;
    const t = performance.now();
    const quietFor = async () => {
      let worst = 0;
      for (let k = 0; k < 4 && worst < DISTURBED_PCT && !stopping; k++) worst = Math.max(worst, await busyPct(allowedCpus(), 500));
      return worst;
    };
    let busy = await quietFor();
    while (busy >= DISTURBED_PCT && !stopping && performance.now() - t < waitQuiet * 1000) {
      await sleep(300);
      busy = await quietFor();
    }
    waited += (performance.now() - t) / 1000;
    if (busy >= DISTURBED_PCT) gaveUp++;
  };
  for (const [i, step] of steps.entries()) {
    if (stopping) break;
    await quiet();
    let recs = await execute(ctx, step);
    for (let attempt = 2; attempt <= retries + 1 && recs.every((r) => r.ok) && recs.some((r) => r.disturbed); attempt++) {
      await quiet();
      const again = await execute(ctx, step);
      for (const r of again) r.attempt = attempt;
      const worse = again.some((r) => !r.ok) || Math.max(...again.map(disturbance)) >= Math.max(...recs.map(disturbance));
      for (const r of worse ? again : recs) r.superseded = true;
      runs.push(...(worse ? again : recs));
      if (!worse) recs = again;
    }
    runs.push(...recs);
    for (const r of recs) {
      const v = METRICS[step.scenario.primary].get(r);
      console.error(
        `[r${step.round} ${i + 1}/${steps.length}] ${step.scenario.id} ${r.variant}: ${r.ok ? `${fmt(v, METRICS[step.scenario.primary].digits)} ${METRICS[step.scenario.primary].label}` : `FAILED: ${r.problems.join("; ")}`}` +
          (r.cpu ? `  cpu server ${r.cpu.server_pct}% client ${r.cpu.client_pct}%` : "") +
          (r.disturbed ? "  [disturbed]" : ""),
      );
    }
  }
  if (stopping) return 130;

  const counted = runs.filter((r) => !r.superseded);
  const failures = counted.filter((r) => !r.ok).map((r) => `round ${r.round}, ${r.scenario}, ${r.variant}: ${r.problems.join("; ")}`);
  const summary = chosen.map((sc) => {
    const of = (id: string) => counted.filter((r) => r.scenario === sc.id && r.variant === id);
    const figure = (id: string, key: MetricKey) => {
      const xs = of(id).filter((r) => r.ok).map(METRICS[key].get).filter((x): x is number => x !== null);
      return { median: median(xs), min: xs.length ? Math.min(...xs) : null, max: xs.length ? Math.max(...xs) : null, n: xs.length };
    };
    const ratio = (a: string, b: string, key: MetricKey) => {
      const r = pairedRatio(of(a), of(b), key);
      return { median: r.median, min: r.rounds.length ? Math.min(...r.rounds) : null, max: r.rounds.length ? Math.max(...r.rounds) : null, rounds: r.rounds };
    };
    const primary = sc.primary;
    const cpuKey: MetricKey = "server_cpu_us";
    return {
      scenario: sc.id,
      title: sc.title,
      metric: primary,
      servers: Object.fromEntries(targets.map((t) => [t.id, { label: t.label, figure: figure(t.id, primary), server_cpu_us: figure(t.id, cpuKey), disturbed: of(t.id).filter((r) => r.disturbed).length }])),
      ratios: {
        v2_over_off: ratio("v2", "off", primary),
        off_over_before: ratio("off", "before", primary),
        cpu_v2_over_off: ratio("v2", "off", cpuKey),
        cpu_off_over_before: ratio("off", "before", cpuKey),
      },
    };
  });

  const command = ["bun run bench:proxy", ...process.argv.slice(2)].join(" ");
  const model = cpus()[0]?.model.trim() ?? "unknown CPU";
  const lines: string[] = [
    values.baseline === undefined ? "# What the PROXY protocol costs per connection" : `# What the PROXY protocol costs, and this tree against ${baselineRev}`,
    "",
    `Measured by \`${command}\` on ${new Date().toISOString().replace(/\.\d+Z$/, "Z")} (${Math.round((performance.now() - t0) / 1000)} s), on ${cpus().length} CPUs (${model}), Linux ${release()}, Bun ${Bun.version}, load average at the end ${loadavg().map((x) => x.toFixed(2)).join(" ")}.`,
    `Servers pinned to CPU ${SERVER_CPU}, HEAD's \`tcp-echo bench\` pinned to CPU ${CLIENT_CPU} for all three; ${rounds} rounds of ${duration} s after ${warmup} s warm-up, the order of the three rotating per round.`,
    "tcp-echo logs at `warn` (nothing per connection). Ratios are per round (same round, seconds apart), then the median and range over rounds.",
    "",
  ];
  for (const s of summary) {
    const m = METRICS[s.metric as MetricKey];
    lines.push(`## ${s.scenario}: ${s.title}`, "", `| server | ${m.label} median | min .. max | server CPU µs/unit median | min .. max | disturbed runs |`, "| --- | ---: | ---: | ---: | ---: | ---: |");
    for (const [id, v] of Object.entries(s.servers)) {
      lines.push(`| ${id}: ${v.label} | ${fmt(v.figure.median, m.digits)} | ${fmt(v.figure.min, m.digits)} .. ${fmt(v.figure.max, m.digits)} | ${fmt(v.server_cpu_us.median, 2)} | ${fmt(v.server_cpu_us.min, 2)} .. ${fmt(v.server_cpu_us.max, 2)} | ${v.disturbed} |`);
    }
    const r = s.ratios;
    const show = (x: { median: number | null; min: number | null; max: number | null }) => `${fmt(x.median, 3)} (${fmt(x.min, 3)} .. ${fmt(x.max, 3)})`;
    lines.push(
      "",
      "| ratio, per round | " + m.label + " | server CPU per unit |",
      "| --- | ---: | ---: |",
      `| v2 / off (what a v2 header costs) | ${show(r.v2_over_off)} | ${show(r.cpu_v2_over_off)} |`,
      `| off / before (the feature, off) | ${show(r.off_over_before)} | ${show(r.cpu_off_over_before)} |`,
      "",
    );
  }
  lines.push("Notes:", "", ...base.notes.map((n) => `- ${n}`));
  lines.push(`- A run is disturbed when other work takes more than ${DISTURBED_PCT} % of a pinned core; such a run is repeated up to ${retries} time(s) and the least disturbed attempt counts.`);
  if (waitQuiet > 0) lines.push(`- --wait-quiet ${waitQuiet}: ${Math.round(waited)} s spent waiting for other work to stop; gave up (and measured anyway) ${gaveUp} time(s).`);
  if (failures.length) lines.push("", "Failures:", "", ...failures.map((f) => `- ${f}`));
  const md = `${lines.join("\n")}\n`;
  const outDir = out.includes("/") ? out.replace(/\/[^/]*$/, "") : ".";
  mkdirSync(outDir, { recursive: true });
  writeFileSync(`${out}.md`, md);
  writeFileSync(`${out}.json`, `${JSON.stringify({ command, head, baseline: base.sha, summary, runs }, null, 2)}\n`);
  rmSync(base.dir, { recursive: true, force: true });
  console.log(md);
  console.error(`bench:proxy: ${runs.length} runs, ${failures.length} failure(s); wrote ${out.replace(`${ROOT}/`, "")}.{md,json}`);
  return failures.length === 0 ? 0 : 1;
}

process.exitCode = await main();
