import { EXIT } from "./errors.ts";

const SIGNAL_EXIT: Record<string, number> = { SIGINT: 130, SIGTERM: 143 };

export interface StopSignals {
  /** Aborted at the first SIGINT/SIGTERM: the command stops gracefully. */
  readonly signal: AbortSignal;
  release(): void;
}

/**
 * The one signal policy of every command: the first SIGINT or SIGTERM asks for a graceful stop
 * (`onFirst`, and `signal` aborts); a second one exits at once with 128 + the signal number, after
 * `onSecond` (a supervisor kills its workers there). With `ignoreSigint` (a worker process) SIGINT
 * is ignored: Ctrl-C reaches the whole process group, and the supervisor forwards SIGTERM anyway.
 */
export function stopOnSignals(opts: { onFirst?: (signal: NodeJS.Signals) => void; onSecond?: (signal: NodeJS.Signals) => void; ignoreSigint?: boolean } = {}): StopSignals {
  const controller = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    if (opts.ignoreSigint && signal === "SIGINT") return;
    if (controller.signal.aborted) {
      opts.onSecond?.(signal);
      process.exit(SIGNAL_EXIT[signal] ?? EXIT.failure);
    }
    controller.abort();
    opts.onFirst?.(signal);
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  return {
    signal: controller.signal,
    release() {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
    },
  };
}
