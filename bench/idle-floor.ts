// `bun run bench:idle`: what an idle connection costs in server memory, against what Bun itself
// holds for one. The main benchmark's idle scenario compares tcp-echo with bare Bun after one 64 B
// exchange per connection; this one adds the floor (a Bun echo with no JavaScript per connection,
// bench/baseline/bun-min-echo.ts), connections that exchange nothing (--size 0), and the same with
// a full collection every 0.5 s (bench/baseline/full-gc.ts), which tells live memory from garbage
// the collector has not reached yet. KiB per connection = (VmRSS while the connections are held −
// VmRSS before they open) ÷ connections, as in the main benchmark.
import { mkdirSync } from "node:fs";
import { parseArgs } from "node:util";
import { listeningPort, readLines, rssKiB, sleep } from "./lib/proc.ts";
import { prepare } from "./lib/tools.ts";
import { median } from "./lib/stats.ts";

const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const BUILD = `${ROOT}/bench/build`;
const USAGE = `usage: bun run bench:idle [--connections N] [--rounds N]
  --connections N   idle connections per run (default 10000)
  --rounds N        runs of each server, size and collector setting (default 3)
Prints a markdown table: KiB per idle connection, median over the rounds (every round's in brackets).`;

let values: { connections: string; rounds: string; help?: boolean };
try {
  values = parseArgs({ options: { connections: { type: "string", default: "10000" }, rounds: { type: "string", default: "3" }, help: { type: "boolean" } } }).values;
} catch (e) {
  console.error(`bench:idle: ${(e as Error).message}\n${USAGE}`);
  process.exit(2);
}
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const CONNECTIONS = Number(values.connections);
const ROUNDS = Number(values.rounds);
for (const [name, v] of [["--connections", CONNECTIONS], ["--rounds", ROUNDS]] as const) {
  if (!Number.isInteger(v) || v < 1) {
    console.error(`bench:idle: ${name} must be a positive integer, got ${name === "--connections" ? values.connections : values.rounds}`);
    process.exit(2);
  }
}

interface Server {
  readonly label: string;
  /** argv after `bun` (and its --preload). */
  readonly argv: string[];
}

const tcpEcho = (level: string, format: string) => [`${ROOT}/src/index.ts`, "serve", "--port", "0", "--timeout", "60", "--log-level", level, "--log-format", format];
const SERVERS: Server[] = [
  { label: "Bun, nothing per connection (bun-min-echo.ts)", argv: [`${ROOT}/bench/baseline/bun-min-echo.ts`] },
  { label: "bare Bun.listen (bun-echo.ts)", argv: [`${ROOT}/bench/baseline/bun-echo.ts`, "--port", "0"] },
  { label: "tcp-echo, logs at warn", argv: tcpEcho("warn", "json") },
  { label: "tcp-echo, logs at info (pretty)", argv: tcpEcho("info", "pretty") },
];
const SIZES = [0, 64];
const GC = [false, true];

const prepared = await prepare(ROOT, BUILD);
if (prepared.failures.length > 0) {
  console.error(`bench:idle: ${prepared.failures.join("; ")}`);
  process.exit(1);
}
mkdirSync(`${BUILD}/logs`, { recursive: true });

/** One run: KiB per connection, or an Error saying what went wrong. */
async function measure(server: Server, size: number, fullGc: boolean, tag: string): Promise<number | Error> {
  const argv = [process.execPath, ...(fullGc ? ["--preload", `${ROOT}/bench/baseline/full-gc.ts`] : []), ...server.argv];
  const proc = Bun.spawn(argv, { stdin: "ignore", stdout: "ignore", stderr: Bun.file(`${BUILD}/logs/idle-${tag}.stderr`) });
  try {
    let port: number | null = null;
    for (let i = 0; i < 200 && port === null; i++) {
      await sleep(50);
      port = listeningPort(proc.pid);
    }
    if (port === null) return new Error(`${server.label} did not listen within 10 s`);
    await sleep(1000);
    const before = rssKiB(proc.pid);
    const lg = Bun.spawn([prepared.paths.loadgen, "--host", "127.0.0.1", "--port", String(port), "--mode", "idle", "--connections", String(CONNECTIONS), "--size", String(size), "--duration", "4"], {
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
    });
    // The connections are all open (and have exchanged) at IDLE_READY; RSS is read 2 s into the hold.
    let ready = (): void => {};
    const isReady = new Promise<void>((r) => (ready = r));
    const errP = readLines(lg.stderr, (line) => {
      if (line.startsWith("IDLE_READY")) ready();
    });
    // A load generator that ends before it holds its connections has nothing to measure.
    const holding = await Promise.race([isReady.then(() => true), lg.exited.then(() => false)]);
    if (!holding) {
      return new Error(`loadgen ended before holding its connections (exit ${lg.exitCode}): ${(await errP).trim().split("\n").slice(-2).join(" | ")}`);
    }
    await sleep(2000);
    const held = rssKiB(proc.pid);
    const [out, err, code] = await Promise.all([new Response(lg.stdout).text(), errP, lg.exited]);
    if (code !== 0) return new Error(`loadgen exited ${code}: ${err.trim().split("\n").slice(-2).join(" | ")}`);
    const report = JSON.parse(out) as { open_at_end?: number; errors?: number; mismatches?: number };
    if (report.open_at_end !== CONNECTIONS || report.errors || report.mismatches) return new Error(`loadgen: ${out.trim()}`);
    if (before === null || held === null) return new Error(`${server.label} exited during the run`);
    return (held - before) / CONNECTIONS;
  } finally {
    proc.kill("SIGTERM");
    await proc.exited;
  }
}

const results = new Map<string, number[]>();
const key = (s: number, size: number, gc: boolean) => `${s}/${size}/${gc}`;
const failures: string[] = [];
const started = performance.now();
for (let round = 1; round <= ROUNDS; round++)
  for (const gc of GC)
    for (const size of SIZES)
      for (const [i, server] of SERVERS.entries()) {
        const r = await measure(server, size, gc, `r${round}-${i}-${size}-${gc ? "gc" : "nogc"}`);
        const what = `round ${round}, ${server.label}, ${size} B exchanged${gc ? ", full GC every 0.5 s" : ""}`;
        if (r instanceof Error) failures.push(`${what}: ${r.message}`);
        else results.set(key(i, size, gc), [...(results.get(key(i, size, gc)) ?? []), r]);
        console.error(`[${round}/${ROUNDS}] ${what}: ${r instanceof Error ? `FAILED: ${r.message}` : `${r.toFixed(3)} KiB/conn`}`);
      }

const cell = (xs: number[] | undefined) => (xs && xs.length > 0 ? `${median(xs)!.toFixed(2)} (${xs.map((x) => x.toFixed(2)).join(", ")})` : "–");
const lines = [
  `bun run bench:idle --connections ${CONNECTIONS} --rounds ${ROUNDS}: ${new Date().toISOString()}, ${Math.round((performance.now() - started) / 1000)} s, Bun ${Bun.version}`,
  "",
  "KiB of server RSS per idle connection, median (rounds)",
  "",
  "| server | nothing exchanged | one 64 B exchange | nothing exchanged, full GC every 0.5 s | one 64 B exchange, full GC every 0.5 s |",
  "| --- | ---: | ---: | ---: | ---: |",
  ...SERVERS.map((s, i) => `| ${s.label} | ${cell(results.get(key(i, 0, false)))} | ${cell(results.get(key(i, 64, false)))} | ${cell(results.get(key(i, 0, true)))} | ${cell(results.get(key(i, 64, true)))} |`),
];
console.log(lines.join("\n"));
if (failures.length > 0) {
  console.error(`bench:idle: ${failures.length} run(s) failed:\n  ${failures.join("\n  ")}`);
  process.exit(1);
}
