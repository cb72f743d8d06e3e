// One measurement: a server pinned to CPU 0, a client pinned to CPU 1 (or neither pinned, in the
// workers group), CPU use of both sampled inside the client's measured phase (the server's summed
// over its process tree), server RSS for the idle scenario, everything stopped afterwards.
import { readFileSync, rmSync, statSync } from "node:fs";
import {
  allowedCpus,
  coreTimes,
  cpuTicks,
  CLK_TCK,
  listeners,
  pinned,
  processTree,
  readLines,
  rssKiB,
  sleep,
  startTime,
  within,
  type Processes,
} from "./proc.ts";
import { checkReport, type Scenario } from "./scenarios.ts";
import type { Paths, ServerSpec } from "./servers.ts";
import { disturbance, DISTURBED_PCT, type Client, type CpuUse, type Group, type RunRecord } from "./types.ts";

// CPU 0 and CPU 1 on a plain 2-core machine; the first two CPUs this process may use otherwise.
const CPUS = allowedCpus();
export const SERVER_CPU = CPUS[0] ?? 0;
export const CLIENT_CPU = CPUS[1] ?? 1;
const START_TIMEOUT_MS = 20_000;
const STOP_GRACE_MS = 8_000;
const KEEP_LOG_BYTES = 1 << 20;

export interface Context {
  readonly procs: Processes;
  readonly paths: Paths;
  readonly logDir: string;
  readonly nice: number;
}

/** Where a server runs: pinned to SERVER_CPU or not, and how many listening sockets mean "ready". */
export interface Placement {
  readonly pinned: boolean;
  /** `--workers N`: N workers, each with its own listener on the same port. */
  readonly listeners: number;
  /** A port the server also listens on that is not the one under test (its --metrics endpoint). */
  readonly otherPort?: number;
}

export const PINNED: Placement = { pinned: true, listeners: 1 };

export interface RunningServer {
  readonly spec: ServerSpec;
  readonly argv: string[];
  readonly pid: number;
  readonly port: number;
  readonly pinned: boolean;
  /** The server's descendants when it was ready (a supervisor's workers), each with its start time. */
  readonly children: readonly { pid: number; start: number }[];
  readonly errPath: string;
  readonly proc: ReturnType<Processes["spawn"]>;
}

function tail(path: string, max = 600): string {
  try {
    const t = readFileSync(path, "utf8").trim();
    return t.length > max ? `...${t.slice(-max)}` : t;
  } catch {
    return "";
  }
}

/**
 * Starts a server and waits until it listens (with `--workers N`: until N listeners, in the
 * supervisor's children, share one port); throws with its stderr if it does not.
 */
export async function startServer(
  ctx: Context,
  spec: ServerSpec,
  sc: Scenario,
  options: Readonly<Record<string, string>>,
  tag: string,
  place: Placement = PINNED,
): Promise<RunningServer> {
  const argv = spec.argv(ctx.paths, sc, options);
  const errPath = `${ctx.logDir}/${tag}.stderr`;
  const proc = ctx.procs.spawn(pinned(argv, { cpu: place.pinned ? SERVER_CPU : null, nice: ctx.nice }), {
    cwd: ctx.paths.root,
    stdout: `${ctx.logDir}/${tag}.stdout`,
    stderr: errPath,
    env: { ...process.env, NO_COLOR: "1" },
  });
  const deadline = performance.now() + START_TIMEOUT_MS;
  while (performance.now() < deadline) {
    if (proc.exitCode !== null || proc.signalCode !== null) {
      throw new Error(`${spec.id} exited at start-up (code ${proc.exitCode ?? proc.signalCode}): ${tail(errPath)}`);
    }
    const ls = listeners(proc.pid).filter((l) => l.port !== place.otherPort);
    const ports = new Set(ls.map((l) => l.port));
    if (ports.size > 1) {
      await ctx.procs.stop(proc, 1000);
      throw new Error(`${spec.id} listens on several ports (${[...ports].join(", ")}); expected one`);
    }
    if (ls.length >= place.listeners) {
      const children = processTree(proc.pid)
        .slice(1)
        .flatMap((pid) => {
          const start = startTime(pid);
          return start === null ? [] : [{ pid, start }];
        });
      return { spec, argv, pid: proc.pid, port: ls[0]!.port, pinned: place.pinned, children, errPath, proc };
    }
    await sleep(20);
  }
  const found = listeners(proc.pid).length;
  await ctx.procs.stop(proc, 1000);
  throw new Error(
    `${spec.id} did not listen within ${START_TIMEOUT_MS / 1000} s` +
      `${place.listeners > 1 ? ` (${found} of ${place.listeners} listeners)` : ""}: ${tail(errPath)}`,
  );
}

export interface StopResult {
  readonly exit: number | null;
  readonly problems: string[];
  readonly stderrBytes: number;
  readonly stderrHead: string[];
}

/** SIGTERM (SIGKILL after a grace period); a clean server exits 0. */
export async function stopServer(ctx: Context, s: RunningServer): Promise<StopResult> {
  const problems: string[] = [];
  const wasDead = s.proc.exitCode !== null || s.proc.signalCode !== null;
  const { code, killed } = await ctx.procs.stop(s.proc, STOP_GRACE_MS);
  if (wasDead) problems.push(`server died during the run (exit ${code ?? s.proc.signalCode})`);
  else if (killed) problems.push(`server ignored SIGTERM for ${STOP_GRACE_MS / 1000} s and was killed`);
  else if (code !== 0) problems.push(`server exited with code ${code} on SIGTERM`);
  // A supervisor's workers stop before it exits; one still there is a leak: say so and end it.
  const left = () => s.children.filter((c) => startTime(c.pid) === c.start);
  for (let i = 0; i < 50 && left().length > 0; i++) await sleep(20);
  for (const c of left()) {
    problems.push(`server process ${c.pid} (a worker) outlived the server; killed`);
    try {
      process.kill(c.pid, "SIGKILL");
    } catch {
      // gone just now
    }
  }
  let bytes = 0;
  let head: string[] = [];
  try {
    bytes = statSync(s.errPath).size;
    if (bytes > 0) {
      const fd = Bun.file(s.errPath).slice(0, 4096);
      head = (await fd.text()).split("\n").filter(Boolean).slice(0, 3).map((l) => l.slice(0, 300));
    }
  } catch {
    // no stderr file
  }
  if (problems.length && bytes > 0 && head.length) problems.push(`server stderr: ${head.join(" | ")}`);
  // The log variants write tens of MB per run; a clean run's log is measured, then not kept.
  if (problems.length === 0 && bytes > KEEP_LOG_BYTES) rmSync(s.errPath, { force: true });
  return { exit: code, problems, stderrBytes: bytes, stderrHead: head };
}

export interface ClientRequest {
  readonly round: number;
  readonly group: Group;
  readonly scenario: Scenario;
  readonly variant: string | null;
  readonly client: Client;
  readonly duration: number;
  readonly warmup: number;
  readonly idleHold: number;
  /** false: the client is not pinned either (workers group). */
  readonly pinned: boolean;
  /** More `tcp-echo bench` options (`--proxy-protocol v2`); not for the C load generator. */
  readonly clientOptions?: readonly string[];
  /** TLS group: `tcp-echo bench --tls`, verifying against the benchmark's CA. */
  readonly tls?: boolean;
}

function clientArgv(ctx: Context, req: ClientRequest, port: number): string[] {
  const sc = req.scenario;
  const common = ["--host", "127.0.0.1", "--port", String(port), "--mode", sc.mode,
    "--connections", String(sc.connections), "--size", String(sc.size)];
  const timing = sc.mode === "idle"
    ? ["--duration", String(req.idleHold)]
    : ["--duration", String(req.duration), "--warmup", String(req.warmup)];
  if (req.client === "loadgen") {
    if (req.clientOptions?.length) throw new Error(`the C load generator takes no ${req.clientOptions.join(" ")}`);
    return [ctx.paths.loadgen, ...common, ...timing];
  }
  const tls = req.tls ? ["--tls", "--tls-ca", ctx.paths.tls!.ca] : [];
  return [ctx.paths.bun, "run", `${ctx.paths.root}/src/index.ts`, "bench", ...common, ...timing, ...tls, ...(req.clientOptions ?? []), "--json"];
}

type Ticks = { user: number; sys: number } | null;

interface Snapshot {
  readonly t: number;
  /** Every process of the server's tree (a supervisor and its workers), by pid. */
  readonly serverProcs: ReadonlyMap<number, Ticks>;
  readonly client: Ticks;
  readonly cores: ReturnType<typeof coreTimes>;
}

/** `pids`: the server processes found at the first snapshot (null: find them now). */
function snapshot(serverPid: number, clientPid: number, pids: readonly number[] | null = null): Snapshot {
  const serverProcs = new Map<number, Ticks>();
  for (const p of pids ?? processTree(serverPid)) serverProcs.set(p, cpuTicks(p));
  return { t: performance.now(), serverProcs, client: cpuTicks(clientPid), cores: coreTimes() };
}

/** The server's ticks summed over its processes; null if any of them is gone. */
function serverTicks(s: Snapshot): Ticks {
  let user = 0;
  let sys = 0;
  for (const t of s.serverProcs.values()) {
    if (t === null) return null;
    user += t.user;
    sys += t.sys;
  }
  return s.serverProcs.size ? { user, sys } : null;
}

function cpuBetween(a: Snapshot, b: Snapshot, isPinned: boolean): CpuUse {
  const wall = (b.t - a.t) / 1000;
  const pct = (x: Ticks, y: Ticks, part: (t: { user: number; sys: number }) => number = (t) => t.user + t.sys) =>
    x === null || y === null ? null : Math.round(((part(y) - part(x)) / CLK_TCK / wall) * 1000) / 10;
  const core = (i: number) => {
    const x = a.cores.get(i);
    const y = b.cores.get(i);
    if (!x || !y || y.total === x.total) return null;
    return Math.round(((y.busy - x.busy) / (y.total - x.total)) * 1000) / 10;
  };
  const server = pct(serverTicks(a), serverTicks(b));
  const client = pct(a.client, b.client);
  const c0 = core(SERVER_CPU);
  const c1 = core(CLIENT_CPU);
  const other = (busy: number | null, own: number | null) =>
    busy === null || own === null ? null : Math.round(Math.max(0, busy - own) * 10) / 10;
  const bothBusy = c0 === null || c1 === null ? null : c0 + c1;
  const perProcess = [...a.serverProcs].map(([p, t]) => pct(t, b.serverProcs.get(p) ?? null));
  return {
    window_s: Math.round(wall * 1000) / 1000,
    pinned: isPinned,
    server_pct: server,
    server_processes: a.serverProcs.size,
    server_process_pcts: perProcess,
    client_pct: client,
    client_user_pct: pct(a.client, b.client, (t) => t.user),
    client_sys_pct: pct(a.client, b.client, (t) => t.sys),
    core0_busy_pct: c0,
    core1_busy_pct: c1,
    core0_other_pct: isPinned ? other(c0, server) : null,
    core1_other_pct: isPinned ? other(c1, client) : null,
    other_pct: isPinned || server === null || client === null ? null : other(bothBusy, server + client),
  };
}

/** A run's record before anything happened: not ok, no report, no problems yet. */
export function newRunRecord(req: ClientRequest, server: string, duration: number, warmup: number, argv: { server: string[]; client: string[] } = { server: [], client: [] }): RunRecord {
  return {
    round: req.round,
    group: req.group,
    scenario: req.scenario.id,
    server,
    variant: req.variant,
    client: req.client,
    started_at: new Date().toISOString(),
    duration_s: duration,
    warmup_s: warmup,
    server_argv: argv.server,
    client_argv: argv.client,
    pinned: req.pinned,
    ok: false,
    problems: [],
    disturbed: false,
    superseded: false,
    attempt: 1,
    report: null,
    cpu: null,
    idle: null,
    timeouts: null,
    server_exit: null,
    server_stderr_bytes: 0,
    server_stderr_head: [],
    wall_s: 0,
  };
}

/** Runs one client against a running server; the record is complete except for the server's exit. */
export async function runClient(ctx: Context, server: RunningServer, req: ClientRequest): Promise<RunRecord> {
  const sc = req.scenario;
  const argv = clientArgv(ctx, req, server.port);
  const rec = newRunRecord(req, server.spec.id, sc.mode === "idle" ? req.idleHold : req.duration, sc.mode === "idle" ? 0 : req.warmup, {
    server: [...server.argv],
    client: argv,
  });
  let rssBefore: number | null = null;
  const memory = sc.mode === "idle" && !sc.closes;
  if (memory) {
    await sleep(200); // let start-up settle
    rssBefore = rssKiB(server.pid);
  }

  const t0 = performance.now();
  const proc = ctx.procs.spawn(pinned(argv, { cpu: req.pinned ? CLIENT_CPU : null, nice: ctx.nice }), {
    cwd: ctx.paths.root,
    stdout: "pipe",
    stderr: "pipe",
  });
  let exited = false;
  const exitP = proc.exited.then((c) => ((exited = true), c));
  let ready: (open: number) => void = () => {};
  const readyP = new Promise<number>((r) => (ready = r));
  const stdoutP = new Response(proc.stdout as ReadableStream<Uint8Array>).text();
  const stderrP = readLines(proc.stderr as ReadableStream<Uint8Array>, (line) => {
    const m = /^IDLE_READY (\d+)/.exec(line);
    if (m) ready(Number(m[1]));
  });

  const limitS = sc.mode === "idle" ? req.idleHold + 120 : req.warmup + req.duration + 30;
  let timedOut = false;
  const watchdog = setTimeout(() => {
    timedOut = true;
    proc.kill("SIGINT"); // the load generator still prints its report
    setTimeout(() => proc.kill("SIGKILL"), 3000);
  }, limitS * 1000);

  const until = async (ms: number) => {
    const wait = t0 + ms - performance.now();
    if (wait > 0) await within(exitP, wait);
  };
  const sampling = (async () => {
    if (sc.mode === "idle") {
      if (!memory) return;
      const open = await Promise.race([readyP, exitP.then(() => null)]);
      if (open === null) return;
      const readyS = (performance.now() - t0) / 1000;
      await until(readyS * 1000 + (req.idleHold * 1000) / 2);
      const held = rssKiB(server.pid);
      if (exited || held === null || rssBefore === null || open === 0) return;
      rec.idle = {
        rss_before_kib: rssBefore,
        rss_held_kib: held,
        open,
        kib_per_conn: Math.round(((held - rssBefore) / open) * 1000) / 1000,
        ready_s: Math.round(readyS * 1000) / 1000,
      };
      return;
    }
    // inside the measured phase: after warm-up (and the client's own start-up), before its end
    const total = req.warmup + req.duration;
    let from = req.warmup + 0.15;
    let to = total - 0.1;
    if (to - from < 0.3) [from, to] = [0.1, total - 0.05];
    await until(from * 1000);
    if (exited) return;
    const a = snapshot(server.pid, proc.pid);
    await until(to * 1000);
    if (exited) return;
    const b = snapshot(server.pid, proc.pid, [...a.serverProcs.keys()]);
    // A worker that died (and was restarted) during the window: its CPU is lost, and so is the run.
    const now = processTree(server.pid);
    const before = [...a.serverProcs.keys()];
    if (now.length !== before.length || now.some((p) => !a.serverProcs.has(p))) {
      rec.problems.push(`server processes changed during the measured window: ${before.join(",")} -> ${now.join(",")}`);
    }
    rec.cpu = cpuBetween(a, b, req.pinned);
  })();

  const code = await exitP;
  clearTimeout(watchdog);
  await sampling;
  const [stdout, stderr] = await Promise.all([stdoutP, stderrP]);
  rec.wall_s = Math.round(performance.now() - t0) / 1000;

  const { report, problems } = checkReport(stdout, sc);
  rec.report = report;
  rec.problems.push(...problems);
  if (timedOut) rec.problems.push(`client ran over ${limitS} s and was interrupted`);
  if (code !== 0) {
    const why = stderr.split("\n").filter((l) => l && !l.startsWith("IDLE_READY")).slice(-3).join(" | ");
    rec.problems.push(`client exited with code ${code}${why ? `: ${why.slice(0, 400)}` : ""}`);
  }
  if (memory && rec.idle === null) rec.problems.push("no RSS sample while the connections were held");
  rec.disturbed = disturbance(rec) > DISTURBED_PCT;
  rec.ok = rec.problems.length === 0;
  return rec;
}

/** Attaches the server's fate to the records measured against it. */
export function settle(records: RunRecord[], stop: StopResult): void {
  for (const r of records) {
    r.server_exit = stop.exit;
    r.server_stderr_bytes = stop.stderrBytes;
    r.server_stderr_head = stop.stderrHead;
    r.problems.push(...stop.problems);
    r.ok = r.problems.length === 0;
  }
}
