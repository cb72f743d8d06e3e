// python3's socket module as an independent peer: what it sees is not filtered through Bun.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const CACHE = join(tmpdir(), "tcp-echo-test-python3");

/** A process's start time in clock ticks since boot (proc(5), /proc/pid/stat field 22). */
function startTime(pid: number | "self"): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19] ?? null;
  } catch {
    return null;
  }
}

async function ask(): Promise<string> {
  const p = Bun.spawn(["python3", "-S", "-c", "import sys; print(sys.executable)"], { stdout: "pipe", stderr: "ignore" });
  const timer = setTimeout(() => p.kill(), 10_000);
  const path = (await new Response(p.stdout).text()).trim();
  clearTimeout(timer);
  return (await p.exited) === 0 && path ? path : "python3";
}

/**
 * The python3 binary itself. A version manager's shim (pyenv's is a bash script that runs
 * `pyenv exec`) and site-packages cost 0.5 s of CPU per start here against 0.07 s for the binary
 * with -S (measured), and the suite starts python some hundred times.
 *
 * Finding the binary costs one start through the shim. `bun test --parallel` gives each test file
 * fresh module state but runs many files in one worker process, so the answer is kept per process
 * (by pid and start time: never seen by another process or another run). It is found while the
 * test file loads (top-level await), never in the middle of a test, where waiting for it would
 * stall the event loop that in-process servers share.
 */
async function findInterpreter(): Promise<string> {
  const file = join(CACHE, `${process.pid}-${startTime("self")}`);
  if (existsSync(file)) return readFileSync(file, "utf8");
  const found = await ask();
  mkdirSync(CACHE, { recursive: true });
  // Entries of processes that are gone (pid free, or reused by a process started later).
  for (const name of readdirSync(CACHE)) {
    const [pid, start] = name.split("-");
    if (startTime(Number(pid)) !== start) rmSync(join(CACHE, name), { force: true });
  }
  writeFileSync(file, found);
  return found;
}

const interpreter = await findInterpreter();

/** How to start python3: its binary, with -S (the peers use the standard library only). */
export function pythonCmd(): string[] {
  return [interpreter, "-S"];
}

/** Runs a python3 script (argv after it: `args`) and returns its stdout; fails on a non-zero exit. */
export async function python(script: string, args: (string | number)[] = [], timeoutMs = 20_000): Promise<string> {
  const proc = Bun.spawn([...pythonCmd(), "-c", script, ...args.map(String)], { stdout: "pipe", stderr: "pipe" });
  const timer = setTimeout(() => proc.kill(), timeoutMs);
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  clearTimeout(timer);
  if (code !== 0) throw new Error(`python3 exited ${code}: ${err.trim()}`);
  return out;
}
