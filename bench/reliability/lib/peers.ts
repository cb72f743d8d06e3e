// The peers: python3 scripts (bench/reliability/py/) spoken to over stdin/stdout one JSON line at a
// time, and the C load generator (bench/loadgen/loadgen.c).
import { Lines, type Proc } from "./procs.ts";
import type { Context } from "./types.ts";

const PY_DIR = new URL("../py/", import.meta.url).pathname;

/**
 * A python3 peer: it prints one JSON object per phase on stdout and waits for a line on stdin
 * before the next phase, so the runner can measure the server between phases. Its stderr goes to
 * a file of the log directory.
 */
export class PyPeer {
  private readonly out: Lines;

  private constructor(
    readonly proc: Proc,
    private readonly script: string,
    private readonly errPath: string,
  ) {
    this.out = new Lines(proc.stdout as ReadableStream<Uint8Array>);
  }

  static start(ctx: Context, script: string, args: readonly (string | number)[], name = script.replace(/\.py$/, "")): PyPeer {
    const errPath = `${ctx.logDir}/${name}.py.err`;
    const proc = ctx.procs.spawn(["python3", `${PY_DIR}${script}`, ...args.map(String)], { stdin: "pipe", stdout: "pipe", stderr: errPath });
    return new PyPeer(proc, script, errPath);
  }

  /** The next JSON object it prints; throws if none comes within timeoutMs. */
  async next<T = Record<string, unknown>>(timeoutMs: number): Promise<T> {
    const line = await this.out.next(timeoutMs);
    if (line === null) {
      const why = this.proc.exitCode !== null ? `exited ${this.proc.exitCode}` : `no answer within ${timeoutMs} ms`;
      throw new Error(`${this.script}: ${why} (stderr: ${this.errPath})`);
    }
    return JSON.parse(line) as T;
  }

  /** Tells it to go on to its next phase. */
  send(command = "go"): void {
    const stdin = this.proc.stdin as import("bun").FileSink;
    stdin.write(`${command}\n`);
    stdin.flush();
  }

  /** Closes its stdin (its last phase ends) and waits for it to exit. */
  async end(timeoutMs = 10_000): Promise<number | null> {
    try {
      (this.proc.stdin as import("bun").FileSink).end();
    } catch {
      // already gone
    }
    const t = setTimeout(() => this.proc.kill("SIGKILL"), timeoutMs);
    await this.proc.exited;
    clearTimeout(t);
    return this.proc.exitCode;
  }
}

/** Runs a python3 peer with no phases: its one JSON line of output. */
export async function pyOnce<T = Record<string, unknown>>(ctx: Context, script: string, args: readonly (string | number)[], timeoutMs: number, name?: string): Promise<T> {
  const p = PyPeer.start(ctx, script, args, name);
  try {
    return await p.next<T>(timeoutMs);
  } finally {
    await p.end(2000);
  }
}

/** `echo_probe.py`: N new connections, each sends a few bytes and must get them back in time. */
export interface Probe {
  readonly served: number;
  readonly failed: number;
  readonly max_ms: number;
  readonly errors: Record<string, number>;
}

export const probe = (ctx: Context, port: number, n: number, timeoutS: number, name = "probe") =>
  pyOnce<Probe>(ctx, "echo_probe.py", [port, n, timeoutS], (timeoutS + 10) * 1000, name);

/** One echo_probe.py for many probes (python3 takes about 0.4 s to start on this machine). */
export class Prober {
  private readonly peer: PyPeer;

  constructor(ctx: Context, name = "prober") {
    this.peer = PyPeer.start(ctx, "echo_probe.py", [], name);
  }

  probe(port: number, n: number, timeoutS: number): Promise<Probe> {
    this.peer.send(`${port} ${n} ${timeoutS}`);
    return this.peer.next<Probe>((timeoutS + 10) * 1000);
  }

  end(): Promise<number | null> {
    return this.peer.end();
  }
}

/** The JSON report of loadgen.c (see its header comment). */
export interface LoadReport {
  readonly mode: string;
  readonly messages: number;
  readonly msgs_per_s: number;
  readonly latency_us: { p50: number; p90: number; p99: number; p999: number; max: number; mean: number } | null;
  readonly errors: number;
  readonly mismatches: number;
  readonly open_at_end?: number;
}

/** A running loadgen: `ready` resolves in idle mode once every connection is open (IDLE_READY n). */
export interface Loadgen {
  readonly proc: Proc;
  readonly ready: Promise<number | null>;
  readonly report: Promise<LoadReport>;
  /** SIGINT: it stops early and still prints its report. */
  interrupt(): void;
}

export function loadgen(ctx: Context, port: number, args: readonly (string | number)[]): Loadgen {
  const proc = ctx.procs.spawn([ctx.loadgen, "--host", "127.0.0.1", "--port", String(port), ...args.map(String)], { stdout: "pipe", stderr: "pipe" });
  const err = new Lines(proc.stderr as ReadableStream<Uint8Array>);
  const ready = (async () => {
    for (;;) {
      const line = await err.next(600_000);
      if (line === null) return null;
      const m = /^IDLE_READY (\d+)/.exec(line);
      if (m) return Number(m[1]);
    }
  })();
  const report = (async () => {
    const text = await new Response(proc.stdout as ReadableStream<Uint8Array>).text();
    await proc.exited;
    try {
      return JSON.parse(text) as LoadReport;
    } catch {
      throw new Error(`loadgen ${args.join(" ")} exited ${proc.exitCode} without a report: ${err.all.slice(-3).join(" | ")}`);
    }
  })();
  return { proc, ready, report, interrupt: () => proc.kill("SIGINT") };
}
