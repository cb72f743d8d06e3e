import { defineCommand } from "citty";
import { plural } from "../log/plural.ts";
import { formatProgress, formatReport, runBench, toLoadgenJson } from "../bench/index.ts";
import { EXIT } from "./errors.ts";
import { benchArgs, resolveBenchSettings } from "./bench-options.ts";
import { stopOnSignals } from "./signals.ts";

/** Erases the progress line: back to column 0, clear to the end of the line. */
const CLEAR_LINE = "\r\x1b[K";

export default defineCommand({
  meta: { name: "bench", description: "Load generator for any echo server: pingpong, stream, connect or idle" },
  args: benchArgs,
  async run({ args }) {
    const { json, ...options } = resolveBenchSettings(args, process.env);
    // The live line goes to stderr, and only when a person watches both streams: a redirected
    // stream would collect every carriage-return update.
    const live = Boolean(process.stdout.isTTY && process.stderr.isTTY);
    // The first signal stops the run early; the report still comes.
    const stop = stopOnSignals();
    try {
      const result = await runBench(options, {
        signal: stop.signal,
        onProgress: live ? (p) => process.stderr.write(CLEAR_LINE + formatProgress(p, options.mode)) : undefined,
        onIdleReady: (open) => {
          const clear = live ? CLEAR_LINE : "";
          // With --json, loadgen's own marker, for scripts that wait for the hold to begin.
          const line = json ? `IDLE_READY ${open}` : `idle: ${open} of ${plural(options.connections, "connection")} open, holding for ${options.duration} s`;
          process.stderr.write(`${clear}${line}\n`);
        },
      });
      if (live) process.stderr.write(CLEAR_LINE);
      process.stdout.write(json ? JSON.stringify(toLoadgenJson(result)) + "\n" : formatReport(result, options));
      // As loadgen: a connection error fails the run too, not only a mismatch.
      return result.errors > 0 || result.mismatches > 0 ? EXIT.failure : EXIT.ok;
    } finally {
      stop.release();
    }
  },
});
