// Every process the suite starts, so each can be ended by its pid on any exit path (a failed case,
// Ctrl-C): nothing is ever signalled by name.
import { closeSync, openSync } from "node:fs";
import type { Subprocess } from "bun";
import { within } from "../../lib/proc.ts";

type Io = "pipe" | "ignore" | string;
export type Proc = Subprocess<"pipe" | "ignore", "pipe" | "ignore" | number, "pipe" | "ignore" | number>;

export class Tracked {
  private readonly live = new Set<Proc>();

  /** stdout/stderr: "pipe", "ignore", or a file path (truncated first). */
  spawn(cmd: readonly string[], io: { stdin?: "pipe" | "ignore"; stdout?: Io; stderr?: Io; cwd?: string } = {}): Proc {
    const fds: number[] = [];
    const target = (t: Io | undefined): "pipe" | "ignore" | number => {
      if (t === undefined || t === "ignore") return "ignore";
      if (t === "pipe") return "pipe";
      const fd = openSync(t, "w");
      fds.push(fd);
      return fd;
    };
    try {
      const proc = Bun.spawn([...cmd], {
        cwd: io.cwd,
        stdin: io.stdin ?? "ignore",
        stdout: target(io.stdout),
        stderr: target(io.stderr),
      }) as Proc;
      this.live.add(proc);
      void proc.exited.then(() => this.live.delete(proc));
      return proc;
    } finally {
      for (const fd of fds) closeSync(fd);
    }
  }

  /** SIGTERM, then SIGKILL after graceMs; the exit code, or null when it had to be killed. */
  async stop(proc: Proc, graceMs = 3000): Promise<number | null> {
    if (proc.exitCode !== null || proc.signalCode !== null) return proc.exitCode;
    proc.kill("SIGTERM");
    if (await within(proc.exited, graceMs)) return proc.exitCode;
    proc.kill("SIGKILL");
    await proc.exited;
    return null;
  }

  async stopAll(graceMs = 3000): Promise<void> {
    await Promise.all([...this.live].map((p) => this.stop(p, graceMs)));
  }

  /** From process "exit": nothing can be awaited there. */
  killAllNow(): void {
    for (const p of this.live) p.kill("SIGKILL");
  }
}

/** Splits a byte stream into lines as they arrive. */
export class Lines {
  private readonly queue: string[] = [];
  private waiter: (() => void) | null = null;
  private ended = false;
  readonly all: string[] = [];

  constructor(stream: ReadableStream<Uint8Array>) {
    void (async () => {
      let buf = "";
      const decoder = new TextDecoder();
      for await (const chunk of stream) {
        buf += decoder.decode(chunk, { stream: true });
        for (let nl; (nl = buf.indexOf("\n")) >= 0; buf = buf.slice(nl + 1)) this.push(buf.slice(0, nl));
      }
      if (buf) this.push(buf);
      this.ended = true;
      this.waiter?.();
    })();
  }

  private push(line: string): void {
    this.queue.push(line);
    this.all.push(line);
    this.waiter?.();
  }

  /** The next line, or null at the end of the stream or after timeoutMs. */
  async next(timeoutMs: number): Promise<string | null> {
    const deadline = performance.now() + timeoutMs;
    while (this.queue.length === 0) {
      if (this.ended) return null;
      const left = deadline - performance.now();
      if (left <= 0) return null;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(t);
          resolve();
        };
      });
      this.waiter = null;
    }
    return this.queue.shift()!;
  }
}
