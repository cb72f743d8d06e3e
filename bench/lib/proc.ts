// Processes of one benchmark run: spawning with CPU pinning, stopping by pid, and what /proc says
// about them (CPU ticks, RSS, process trees, the port a process listens on). Linux only.
import { closeSync, openSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import type { Subprocess } from "bun";

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Clock ticks per second of /proc/<pid>/stat (USER_HZ; 100 on every Linux we know of). */
export const CLK_TCK = (() => {
  const r = Bun.spawnSync(["getconf", "CLK_TCK"]);
  const n = Number(r.stdout.toString().trim());
  return r.exitCode === 0 && n > 0 ? n : 100;
})();

/** utime and stime of a process (all threads), in clock ticks; null once it is gone. */
export function cpuTicks(pid: number): { user: number; sys: number } | null {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after "(comm)": rest[0] is field 3 (state), so field n is rest[n - 3].
    const rest = s.slice(s.lastIndexOf(")") + 2).split(" ");
    return { user: Number(rest[11]), sys: Number(rest[12]) };
  } catch {
    return null;
  }
}

/** Start time of a process (clock ticks since boot): with the pid, it names one process; null once gone. */
export function startTime(pid: number): number | null {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, "utf8");
    return Number(s.slice(s.lastIndexOf(")") + 2).split(" ")[19]);
  } catch {
    return null;
  }
}

/** Resolves true if `p` settles within `ms`, false otherwise; leaves no timer behind. */
export async function within(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([p.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** VmRSS of a process in KiB; null once it is gone. */
export function rssKiB(pid: number): number | null {
  try {
    const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/** Busy and total jiffies per CPU from /proc/stat (busy includes irq and softirq). */
export function coreTimes(): Map<number, { busy: number; total: number }> {
  const out = new Map<number, { busy: number; total: number }>();
  for (const line of readFileSync("/proc/stat", "utf8").split("\n")) {
    const m = /^cpu(\d+) (.*)$/.exec(line);
    if (!m) continue;
    // user nice system idle iowait irq softirq steal (guest times are already inside user)
    const v = m[2]!.trim().split(/\s+/).slice(0, 8).map(Number);
    const total = v.reduce((a, b) => a + b, 0);
    out.set(Number(m[1]), { busy: total - v[3]! - v[4]!, total });
  }
  return out;
}

/**
 * A process and all its descendants (pid first), from /proc/<pid>/task/<tid>/children: a child is
 * listed under the thread that started it, so every thread is read. `--workers N` runs the workers
 * as children of the supervisor. Empty once the process is gone.
 */
export function processTree(pid: number): number[] {
  const out: number[] = [];
  const visit = (p: number, depth: number) => {
    let tids: string[];
    try {
      tids = readdirSync(`/proc/${p}/task`);
    } catch {
      return; // gone
    }
    out.push(p);
    if (depth > 8) return;
    const kids = new Set<number>();
    for (const tid of tids) {
      try {
        for (const c of readFileSync(`/proc/${p}/task/${tid}/children`, "utf8").trim().split(/\s+/)) {
          if (c) kids.add(Number(c));
        }
      } catch {
        // the thread ended while we looked
      }
    }
    for (const c of [...kids].sort((a, b) => a - b)) if (!out.includes(c)) visit(c, depth + 1);
  };
  visit(pid, 0);
  return out;
}

export interface Listener {
  readonly pid: number;
  readonly port: number;
  readonly inode: string;
}

/**
 * Listening TCP sockets held by a process and its descendants (socket inodes from /proc/<pid>/fd
 * matched against LISTEN lines of /proc/<pid>/net/tcp). A `--workers N` supervisor holds its
 * reserved port bound but not listening, so it is found through its workers' listeners.
 */
export function listeners(pid: number): Listener[] {
  const owner = new Map<string, number>();
  const tree = processTree(pid);
  for (const p of tree) {
    try {
      for (const fd of readdirSync(`/proc/${p}/fd`)) {
        try {
          const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${p}/fd/${fd}`));
          if (m && !owner.has(m[1]!)) owner.set(m[1]!, p);
        } catch {
          // the fd closed while we looked
        }
      }
    } catch {
      // the process is gone
    }
  }
  if (owner.size === 0) return [];
  const out: Listener[] = [];
  try {
    for (const line of readFileSync(`/proc/${tree[0]}/net/tcp`, "utf8").split("\n").slice(1)) {
      const f = line.trim().split(/\s+/);
      const p = owner.get(f[9] ?? "");
      if (f[3] === "0A" && p !== undefined) out.push({ pid: p, port: parseInt(f[1]!.split(":")[1]!, 16), inode: f[9]! });
    }
  } catch {
    // the process is gone
  }
  return out;
}

/** Busy time of the given CPUs together over `ms`, in % of one CPU (a 2-CPU machine: 0..200). */
export async function busyPct(cpus: readonly number[], ms: number): Promise<number> {
  const a = coreTimes();
  await sleep(ms);
  const b = coreTimes();
  let pct = 0;
  for (const c of cpus) {
    const x = a.get(c);
    const y = b.get(c);
    if (x && y && y.total > x.total) pct += ((y.busy - x.busy) / (y.total - x.total)) * 100;
  }
  return Math.round(pct * 10) / 10;
}

/** The TCP port a process (or one of its descendants) listens on. */
export function listeningPort(pid: number): number | null {
  return listeners(pid)[0]?.port ?? null;
}

/** CPUs this process may run on (Cpus_allowed_list: "0-1", "0,2-3"), in order. */
export function allowedCpus(): number[] {
  const m = /^Cpus_allowed_list:\s*(\S+)$/m.exec(readFileSync("/proc/self/status", "utf8"));
  if (!m) return [];
  return m[1]!.split(",").flatMap((part) => {
    const [a, b] = part.split("-").map(Number);
    if (a === undefined || Number.isNaN(a)) return [];
    const hi = b === undefined || Number.isNaN(b) ? a : b;
    return Array.from({ length: hi - a + 1 }, (_, i) => a + i);
  });
}

/** Soft/hard RLIMIT_NOFILE of this process. */
function nofileLimits(): { soft: number; hard: number } {
  const m = /^Max open files\s+(\S+)\s+(\S+)/m.exec(readFileSync("/proc/self/limits", "utf8"));
  const num = (s: string | undefined) => (s === undefined || s === "unlimited" ? 1 << 20 : Number(s));
  return { soft: num(m?.[1]), hard: num(m?.[2]) };
}

function which(name: string): boolean {
  return Bun.spawnSync(["sh", "-c", `command -v ${name}`]).exitCode === 0;
}

export const HAVE = { taskset: which("taskset"), prlimit: which("prlimit"), node: which("node"), cc: which("cc") };

/**
 * File-descriptor limit given to servers and the load generator: 65536 where the hard limit may be
 * raised (CAP_SYS_RESOURCE), else the current hard limit.
 */
export const NOFILE = (() => {
  const { hard } = nofileLimits();
  const want = 65536;
  if (hard >= want || !HAVE.prlimit) return Math.min(hard, 1 << 20);
  const raised = Bun.spawnSync(["prlimit", `--nofile=${want}:${want}`, "true"], { stderr: "ignore" });
  return raised.exitCode === 0 ? want : hard;
})();

export interface PinOptions {
  /** null: not pinned (the process may run on every CPU this process may use). */
  readonly cpu: number | null;
  /** nice level; 0 = leave alone. */
  readonly nice: number;
}

/** argv wrapped so that the process runs on one CPU (unless cpu is null) with a raised fd limit (each wrapper execs). */
export function pinned(cmd: readonly string[], pin: PinOptions): string[] {
  const out: string[] = [];
  if (HAVE.prlimit) out.push("prlimit", `--nofile=${NOFILE}:${NOFILE}`);
  if (pin.nice !== 0) out.push("nice", "-n", String(pin.nice));
  if (pin.cpu !== null) out.push("taskset", "-c", String(pin.cpu));
  return [...out, ...cmd];
}

/**
 * Every process the benchmark starts, so that all of them can be stopped on any exit path,
 * SIGINT included. Only these pids are ever signalled.
 */
export class Processes {
  private readonly live = new Set<Subprocess>();

  /** stdout/stderr go to files (or "pipe"); a file path is truncated first. */
  spawn(
    cmd: readonly string[],
    opts: { cwd: string; stdout: string | "pipe"; stderr: string | "pipe"; env?: Record<string, string | undefined> },
  ): Subprocess<"ignore", "pipe" | number, "pipe" | number> {
    const fds: number[] = [];
    const io = (target: string): "pipe" | number => {
      if (target === "pipe") return "pipe";
      const fd = openSync(target, "w");
      fds.push(fd);
      return fd;
    };
    try {
      const proc = Bun.spawn([...cmd], {
        cwd: opts.cwd,
        env: opts.env ?? process.env,
        stdin: "ignore",
        stdout: io(opts.stdout),
        stderr: io(opts.stderr),
      });
      this.live.add(proc);
      void proc.exited.then(() => this.live.delete(proc));
      return proc;
    } finally {
      for (const fd of fds) closeSync(fd);
    }
  }

  /** SIGTERM, then SIGKILL after graceMs; resolves with the exit code (null if it had to be killed). */
  async stop(proc: Subprocess, graceMs: number): Promise<{ code: number | null; killed: boolean }> {
    if (proc.exitCode !== null || proc.signalCode !== null) return { code: proc.exitCode, killed: false };
    proc.kill("SIGTERM");
    if (await within(proc.exited, graceMs)) return { code: proc.exitCode, killed: false };
    proc.kill("SIGKILL");
    await proc.exited;
    return { code: null, killed: true };
  }

  async stopAll(graceMs: number): Promise<void> {
    await Promise.all([...this.live].map((p) => this.stop(p, graceMs)));
  }

  /** Last resort from process "exit": no awaiting possible, so SIGKILL whatever is left. */
  killAllNow(): void {
    for (const p of this.live) p.kill("SIGKILL");
  }
}

/** Reads a stream line by line (for IDLE_READY) and returns all of it. */
export async function readLines(stream: ReadableStream<Uint8Array>, onLine: (line: string) => void): Promise<string> {
  const dec = new TextDecoder();
  let all = "";
  let pending = "";
  for await (const chunk of stream) {
    const text = dec.decode(chunk, { stream: true });
    all += text;
    pending += text;
    let nl: number;
    while ((nl = pending.indexOf("\n")) >= 0) {
      onLine(pending.slice(0, nl));
      pending = pending.slice(nl + 1);
    }
  }
  if (pending) onLine(pending);
  return all;
}
