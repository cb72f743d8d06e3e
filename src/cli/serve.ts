import { defineCommand } from "citty";
import { startServer, type ServerHandle } from "../server/index.ts";
import { createLogger, type Logger } from "../log/logger.ts";
import { EXIT } from "./errors.ts";
import { resolveServeSettings, serveArgs } from "./serve-options.ts";

const SIGNAL_EXIT: Record<string, number> = { SIGINT: 130, SIGTERM: 143 };

/**
 * First SIGINT/SIGTERM: graceful stop. A second one: exit at once (128 + signal number). The
 * handlers go in before the server starts, so a signal that races start-up still stops it cleanly.
 */
function stopOnSignals(log: Logger): { attach(handle: ServerHandle): void; release(): void } {
  let received = 0;
  let handle: ServerHandle | null = null;
  const onSignal = (signal: NodeJS.Signals) => {
    if (++received > 1) {
      log.warn("signal", `${signal} again: exiting now`, { signal });
      process.exit(SIGNAL_EXIT[signal] ?? EXIT.failure);
    }
    log.info("signal", `${signal}: stopping gracefully (send it again to exit at once)`, { signal });
    void handle?.stop();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  return {
    attach(h) {
      handle = h;
      if (received > 0) void h.stop();
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
  async run({ args }) {
    const settings = resolveServeSettings(args, process.env);
    const logger = createLogger(settings.log);
    const signals = stopOnSignals(logger);
    try {
      const handle = startServer({ ...settings, logger });
      signals.attach(handle);
      await handle.stopped;
    } finally {
      signals.release();
    }
    return EXIT.ok;
  },
});
