import { defineCommand } from "citty";
import { runService, type Service } from "../cluster/index.ts";
import { createLogger, type Logger } from "../log/logger.ts";
import { EXIT } from "./errors.ts";
import { resolveServeSettings, serveArgs } from "./serve-options.ts";

const SIGNAL_EXIT: Record<string, number> = { SIGINT: 130, SIGTERM: 143 };

/**
 * First SIGINT/SIGTERM: graceful stop. A second one: exit at once (128 + signal number). The
 * handlers go in before the server starts, so a signal that races start-up still stops it cleanly.
 * A worker ignores SIGINT: Ctrl-C reaches the whole process group, and its supervisor already
 * forwards SIGTERM; a second signal would make the worker skip its drain.
 */
function stopOnSignals(log: Logger, worker: boolean): { attach(service: Service): void; release(): void } {
  let received = 0;
  let service: Service | null = null;
  const onSignal = (signal: NodeJS.Signals) => {
    if (worker && signal === "SIGINT") return;
    if (++received > 1) {
      log.warn("signal", `${signal} again: exiting now`, { signal });
      service?.abort?.();
      process.exit(SIGNAL_EXIT[signal] ?? EXIT.failure);
    }
    log.info("signal", `${signal}: stopping gracefully (send it again to exit at once)`, { signal });
    void service?.stop();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  return {
    attach(s) {
      service = s;
      if (received > 0) void s.stop();
    },
    release() {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
    },
  };
}

export default defineCommand({
  meta: { name: "serve", description: "Run the echo server (the default command)" },
  args: serveArgs,
  async run({ args, rawArgs }) {
    const settings = resolveServeSettings(args, process.env);
    const worker = settings.workerId;
    const signals = stopOnSignals(createLogger({ ...settings.log, ...(worker !== null ? { base: { worker } } : {}) }), worker !== null);
    try {
      const service = runService(settings, rawArgs);
      signals.attach(service);
      return await service.done;
    } finally {
      signals.release();
    }
  },
});
