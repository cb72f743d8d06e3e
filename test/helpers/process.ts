// The CLI as a separate process (signals, exit codes, the compiled executable), its JSON log read
// line by line from stderr.
import { resolve } from "node:path";
import { LogCapture } from "./server.ts";

export const ROOT = resolve(import.meta.dir, "../..");
export const SOURCE_CLI = ["bun", resolve(ROOT, "src/index.ts")];

export interface ServerProcess extends AsyncDisposable {
  readonly proc: Bun.Subprocess<"ignore", "pipe", "pipe">;
  readonly port: number;
  readonly log: LogCapture;
  /** stderr lines that were not one JSON object each (a stack trace, a stray print). */
  readonly stray: readonly string[];
  /** Resolves with the exit code. */
  readonly exited: Promise<number>;
}

async function pumpLines(stream: ReadableStream<Uint8Array>, onLine: (line: string) => void): Promise<void> {
  const decoder = new TextDecoder();
  let buf = "";
  for await (const chunk of stream) {
    buf += decoder.decode(chunk, { stream: true });
    let nl: number;
    while ((nl = buf.indexOf("\n")) >= 0) {
      onLine(buf.slice(0, nl));
      buf = buf.slice(nl + 1);
    }
  }
  if (buf) onLine(buf);
}

/** Starts `<cli> serve --port 0 --log-format json <args>` and waits for its start-up report. */
export async function spawnServer(args: string[] = [], opts: { cli?: string[]; env?: Record<string, string> } = {}): Promise<ServerProcess> {
  const proc = Bun.spawn([...(opts.cli ?? SOURCE_CLI), "serve", "--port", "0", "--log-format", "json", ...args], {
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, ...opts.env },
  });
  const log = new LogCapture();
  const nonJson: string[] = [];
  const pumped = pumpLines(proc.stderr, (line) => {
    try {
      log.write(line);
    } catch {
      nonJson.push(line);
    }
  });
  // The exit code once the process has exited AND its last log lines have been read.
  const exited = Promise.all([proc.exited, pumped]).then(([code]) => code);
  // The "kernel" line ends the start-up report, so every option line is in by then.
  let listening;
  try {
    await Promise.race([
      log.waitFor((e) => e.event === "kernel", 15_000),
      exited.then((code) => {
        throw new Error(`server exited ${code} before listening: ${nonJson.join("\n")}`);
      }),
    ]);
    listening = await log.waitFor((e) => e.event === "listening");
  } catch (e) {
    // No handle reaches the caller, so nothing would stop it: a server that never reported must not outlive the test.
    if (proc.exitCode === null) proc.kill("SIGKILL");
    throw e;
  }
  return {
    proc,
    port: listening.port as number,
    log,
    stray: nonJson,
    exited,
    async [Symbol.asyncDispose]() {
      if (proc.exitCode === null) proc.kill("SIGKILL");
      await exited;
    },
  };
}

/** Runs the CLI to completion and returns its exit code and output. */
export async function runCli(args: string[], opts: { cli?: string[]; env?: Record<string, string>; timeoutMs?: number } = {}) {
  const proc = Bun.spawn([...(opts.cli ?? SOURCE_CLI), ...args], {
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, ...opts.env },
  });
  const timer = setTimeout(() => proc.kill("SIGKILL"), opts.timeoutMs ?? 10_000);
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  clearTimeout(timer);
  return { code, stdout, stderr };
}
