import { readdirSync, readFileSync } from "node:fs";

/** The usual Prometheus `process_` figures, read from /proc/self (proc(5)). */
export interface ProcessMetrics {
  readonly cpuSeconds: number;
  readonly residentBytes: number;
  readonly virtualBytes: number;
  readonly openFds: number;
  readonly maxFds: number;
  readonly startTimeSeconds: number;
}

const CLOCK_TICKS = 100; // sysconf(_SC_CLK_TCK) is 100 on Linux for every mainstream architecture
const PAGE_SIZE = 4096;

const startTimeSeconds = Date.now() / 1000 - process.uptime();

export function readProcessMetrics(): ProcessMetrics {
  let cpuSeconds = 0;
  let residentBytes = 0;
  let virtualBytes = 0;
  try {
    // Fields after the parenthesised command name; utime/stime are fields 14/15, vsize 23, rss 24.
    const stat = readFileSync("/proc/self/stat", "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    cpuSeconds = (Number(f[11]) + Number(f[12])) / CLOCK_TICKS;
    virtualBytes = Number(f[20]);
    residentBytes = Number(f[21]) * PAGE_SIZE;
  } catch {}
  let openFds = 0;
  try {
    openFds = readdirSync("/proc/self/fd").length;
  } catch {}
  let maxFds = 0;
  try {
    const m = /Max open files\s+(\d+)/.exec(readFileSync("/proc/self/limits", "utf8"));
    maxFds = m ? Number(m[1]) : 0;
  } catch {}
  return { cpuSeconds, residentBytes, virtualBytes, openFds, maxFds, startTimeSeconds };
}
