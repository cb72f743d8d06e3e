import { readFileSync } from "node:fs";

/** Where the default --max-memory came from, for the start-up report. */
export interface MemoryBudgetSource {
  readonly bytes: number;
  /** "cgroup memory.max", "MemTotal", or "--max-memory". */
  readonly from: string;
  /** The limit the default is a share of (null when given by hand). */
  readonly of: number | null;
}

/**
 * The most one read can bring in: uSockets reads into a 512 KiB loop buffer (LIBUS_RECV_BUFFER_LENGTH)
 * and Bun hands each read to `data` whole. A paused connection that resumes may read this much at
 * once before it can be paused again.
 */
export const MAX_READ = 512 * 1024;

/** The default share of the memory limit that echo data may hold. */
const SHARE = 4;
const FLOOR = 64 * 1024 * 1024;

function readNumber(path: string): number | null {
  try {
    const t = readFileSync(path, "utf8").trim();
    if (t === "max") return null;
    const n = Number(t);
    return Number.isFinite(n) && n > 0 ? n : null;
  } catch {
    return null;
  }
}

function memTotal(): number | null {
  try {
    const m = /^MemTotal:\s+(\d+) kB$/m.exec(readFileSync("/proc/meminfo", "utf8"));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/**
 * A quarter of what this process may use: the cgroup's limit (v2 memory.max, or v1
 * memory.limit_in_bytes, where "unlimited" is a number larger than the machine), else the
 * machine's memory. A container's limit is what the OOM killer enforces, so it wins when set.
 */
export function defaultMemoryBudget(): MemoryBudgetSource {
  const total = memTotal();
  const cgroup = readNumber("/sys/fs/cgroup/memory.max") ?? readNumber("/sys/fs/cgroup/memory/memory.limit_in_bytes");
  if (cgroup !== null && (total === null || cgroup < total)) return { bytes: Math.max(FLOOR, Math.floor(cgroup / SHARE)), from: "cgroup memory limit", of: cgroup };
  if (total !== null) return { bytes: Math.max(FLOOR, Math.floor(total / SHARE)), from: "MemTotal", of: total };
  return { bytes: 1024 * 1024 * 1024, from: "a fixed 1 GiB (no limit readable)", of: null };
}

/**
 * The process-wide budget for bytes held for echo (what peers sent that the kernel would not take
 * back yet). Over it, a connection that would queue more has its reading paused (the kernel then
 * holds the peer's data and its window closes); everyone whose echo goes out at once is served as
 * before. Under the low-water mark (7/8) the connections it paused read again.
 */
export class MemoryBudget {
  /** Bytes queued for echo across all connections. */
  held = 0;
  /** Times a connection was paused because the budget was full. */
  pauses = 0;
  private readonly low: number;

  constructor(readonly limit: number) {
    this.low = Math.floor((limit * 7) / 8);
  }

  get over(): boolean {
    return this.held > this.limit;
  }

  /** Room again for the connections it paused. */
  get relieved(): boolean {
    return this.held <= this.low;
  }

  /** Bytes that can still come in before the low-water mark. */
  get room(): number {
    return this.low - this.held;
  }
}
