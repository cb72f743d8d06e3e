import { EXIT } from "./errors.ts";

/** 128 + the signal's number (signal(7)), the shell's convention for "killed by". */
const SIGNAL_EXIT: Record<string, number> = { SIGHUP: 129, SIGINT: 130, SIGQUIT: 131, SIGTERM: 143 };

/** Signals that ask for a graceful stop. */
const STOP_SIGNALS = ["SIGINT", "SIGTERM", "SIGQUIT"] as const;

export interface StopSignals {
  /** Aborted at the first stop signal: the command stops gracefully. */
  readonly signal: AbortSignal;
  release(): void;
}

export interface SignalPolicy {
  /** The first SIGINT, SIGTERM or SIGQUIT: stop gracefully. */
  onFirst?: (signal: NodeJS.Signals) => void;
  /** A second one: the process exits right after this (a supervisor kills its workers here). */
  onSecond?: (signal: NodeJS.Signals) => void;
  /** SIGHUP: reload what can be reloaded. Without it SIGHUP stops, like the terminal hanging up. */
  onHangup?: () => void;
  /** SIGUSR1: report now (serve logs a stats line). Without it SIGUSR1 is ignored. */
  onReport?: () => void;
  /** A worker process: SIGINT reaches the whole process group on Ctrl-C, and the supervisor
   * forwards SIGTERM anyway, so a worker ignores SIGINT. */
  ignoreSigint?: boolean;
}

/**
 * The one signal policy of every command, so no signal kills a process without a word (Bun's
 * default for SIGHUP, SIGUSR1, SIGUSR2 and SIGQUIT is to die at once):
 * - SIGINT, SIGTERM, SIGQUIT: graceful stop (`onFirst`, and `signal` aborts); a second one exits
 *   at once with 128 + the signal number, after `onSecond`.
 * - SIGHUP: `onHangup` (serve: reload), or a graceful stop when there is nothing to reload.
 * - SIGUSR1: `onReport`, or ignored. SIGUSR2: ignored (reserved).
 */
export function stopOnSignals(policy: SignalPolicy = {}): StopSignals {
  const controller = new AbortController();
  const stop = (signal: NodeJS.Signals) => {
    if (policy.ignoreSigint && signal === "SIGINT") return;
    if (controller.signal.aborted) {
      policy.onSecond?.(signal);
      process.exit(SIGNAL_EXIT[signal] ?? EXIT.failure);
    }
    controller.abort();
    policy.onFirst?.(signal);
  };
  const hangup = () => (policy.onHangup ? policy.onHangup() : stop("SIGHUP"));
  const report = () => policy.onReport?.();
  const ignore = () => {};
  for (const s of STOP_SIGNALS) process.on(s, stop);
  process.on("SIGHUP", hangup);
  process.on("SIGUSR1", report);
  process.on("SIGUSR2", ignore);
  return {
    signal: controller.signal,
    release() {
      for (const s of STOP_SIGNALS) process.off(s, stop);
      process.off("SIGHUP", hangup);
      process.off("SIGUSR1", report);
      process.off("SIGUSR2", ignore);
    },
  };
}
