// `bun run reliability [--quick]`: issue 10's reliability suite against the built tcp-echo
// executable. Each case (bench/reliability/cases/) is a bounded scripted scenario on loopback; it
// prints its figures and bounds on one line, and the run exits 1 if any case is past a bound.
// Results: bench/results/reliability.md (full) or bench/build/reliability-quick.md (--quick).
import { cpus, release } from "node:os";
import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { prepare } from "../lib/tools.ts";
import { CASES } from "./cases.ts";
import { Tracked } from "./lib/procs.ts";
import { consoleLine, passed, renderMarkdown, type Outcome } from "./lib/report.ts";
import type { Case, Context } from "./lib/types.ts";

const ROOT = new URL("../..", import.meta.url).pathname.replace(/\/$/, "");
const BUILD = `${ROOT}/bench/build`;
/** No case may run longer than this: whatever it started is then ended by pid. */
const CASE_LIMIT_MS = 300_000;

const USAGE = `usage: bun run reliability [--quick] [--only ID,ID...] [--exe FILE] [--out FILE]
  --quick    smaller counts, no 130 s --timeout 0 hold (CI: about a minute);
             results in bench/build/reliability-quick.md
  --only     run only these cases (${CASES.map((c) => c.id).join(", ")})
  --exe      measure this executable instead of building one from this tree (an older build, to
             compare)
  --out      where the markdown goes (default bench/results/reliability.md; quick: bench/build/reliability-quick.md)
Exit status: 0 when every case is within its bounds, 1 otherwise, 2 on bad arguments.`;

function cli(argv: string[]) {
  try {
    const { values } = parseArgs({ args: argv, strict: true, options: { quick: { type: "boolean", default: false }, only: { type: "string" }, exe: { type: "string" }, out: { type: "string" }, help: { type: "boolean", default: false } } });
    if (values.help) {
      console.log(USAGE);
      process.exit(0);
    }
    const only = values.only?.split(",").map((s) => s.trim()).filter(Boolean) ?? null;
    const unknown = only?.filter((id) => !CASES.some((c) => c.id === id)) ?? [];
    if (unknown.length > 0) throw new Error(`unknown case ${unknown.join(", ")}`);
    if (values.exe !== undefined && !existsSync(values.exe)) throw new Error(`--exe ${values.exe}: no such file`);
    return { quick: values.quick!, only, exe: values.exe ? resolve(values.exe) : null, out: values.out ?? (values.quick ? `${BUILD}/reliability-quick.md` : `${ROOT}/bench/results/reliability.md`) };
  } catch (e) {
    console.error(`reliability: ${(e as Error).message}\n${USAGE}`);
    process.exit(2);
  }
}

async function runCase(c: Case, base: Omit<Context, "procs">): Promise<Outcome> {
  const procs = new Tracked();
  live.add(procs);
  const t0 = performance.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const limit = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`did not finish within ${CASE_LIMIT_MS / 1000} s`)), CASE_LIMIT_MS)));
    const result = await Promise.race([c.run({ ...base, procs }), limit]);
    return { c, result, seconds: (performance.now() - t0) / 1000, error: null };
  } catch (e) {
    return { c, result: { checks: [], notes: [] }, seconds: (performance.now() - t0) / 1000, error: (e as Error).message };
  } finally {
    clearTimeout(timer);
    await procs.stopAll(3000);
    live.delete(procs);
  }
}

const live = new Set<Tracked>();
process.on("exit", () => {
  for (const p of live) p.killAllNow();
});
process.on("SIGINT", () => {
  console.error("reliability: interrupted; stopping what it started");
  void Promise.all([...live].map((p) => p.stopAll(1000))).then(() => process.exit(130));
});

const argv = process.argv.slice(2);
const opts = cli(argv);
const t0 = performance.now();
const prepared = await prepare(ROOT, BUILD);
if (!prepared.exeAvailable || prepared.failures.length > 0) {
  console.error(`reliability: cannot run: ${prepared.failures.join("; ")}`);
  process.exit(1);
}
for (const n of prepared.notes) console.error(`reliability: note: ${n}`);
const logDir = `${BUILD}/reliability${opts.quick ? "-quick" : ""}`;
rmSync(logDir, { recursive: true, force: true });
mkdirSync(logDir, { recursive: true });
const base = { root: ROOT, exe: opts.exe ?? prepared.paths.exe, loadgen: prepared.paths.loadgen, quick: opts.quick, logDir };
const version = Bun.spawnSync([base.exe, "--version"]).stdout.toString().trim();
const command = `bun run reliability${argv.length ? ` ${argv.join(" ")}` : ""}`;
console.log(`reliability: ${opts.quick ? "quick" : "full"} mode, ${base.exe.replace(`${ROOT}/`, "")} (${version}); logs in ${logDir.replace(`${ROOT}/`, "")}/`);

const chosen = CASES.filter((c) => (opts.only ? opts.only.includes(c.id) : opts.quick ? c.inQuick : true));
// A case that only holds idle connections for minutes runs beside the others instead of after them.
const background = chosen.filter((c) => c.background);
const pendingBackground = background.map((c) => {
  console.log(`  ${c.id} ${c.name}: ${c.describe(opts.quick)} (in the background)`);
  return runCase(c, base);
});
const outcomes: Outcome[] = [];
for (const c of chosen.filter((c) => !c.background)) {
  console.log(`  ${c.id} ${c.name}: ${c.describe(opts.quick)}`);
  const o = await runCase(c, base);
  outcomes.push(o);
  console.log(consoleLine(o));
}
for (const o of await Promise.all(pendingBackground)) {
  outcomes.push(o);
  console.log(consoleLine(o));
}
outcomes.sort((a, b) => CASES.indexOf(a.c) - CASES.indexOf(b.c));

const total = (performance.now() - t0) / 1000;
const machine = {
  date: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
  nproc: cpus().length,
  kernel: release(),
  cpu: cpus()[0]?.model.trim() ?? "unknown CPU",
  bun: Bun.version,
  exe: base.exe.replace(`${ROOT}/`, ""),
  version,
};
mkdirSync(opts.out.replace(/\/[^/]*$/, ""), { recursive: true });
writeFileSync(opts.out, renderMarkdown(outcomes, machine, command, opts.quick, total));
const failed = outcomes.filter((o) => !passed(o));
console.log(`reliability: ${failed.length === 0 ? "all cases within bounds" : `FAILED: ${failed.map((o) => `${o.c.id} ${o.c.name}`).join(", ")}`} (${total.toFixed(0)} s); ${opts.out.replace(`${ROOT}/`, "")}`);
process.exit(failed.length === 0 ? 0 : 1);
