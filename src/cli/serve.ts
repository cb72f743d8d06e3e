import { defineCommand } from "citty";
import { runService, type Service } from "../cluster/index.ts";
import { createLogger } from "../log/logger.ts";
import { stopOnSignals } from "./signals.ts";
import { resolveServeSettings, serveArgs } from "./serve-options.ts";

export default defineCommand({
  meta: { name: "serve", description: "Run the echo server (the default command)" },
  args: serveArgs,
  async run({ args }) {
    const settings = resolveServeSettings(args, process.env);
    const log = createLogger(settings.log);
    // Installed before the server starts, so a signal that races start-up still stops it cleanly.
    let service: Service | null = null;
    const signals = stopOnSignals({
      onFirst: (signal) => {
        log.info("signal", `${signal}: stopping gracefully (send it again to exit at once)`, { signal });
        void service?.stop();
      },
      onSecond: (signal) => {
        log.warn("signal", `${signal} again: exiting now`, { signal });
        service?.abort?.();
      },
      onHangup: () => service?.reload(),
      onReport: () => void service?.report(),
    });
    try {
      service = runService(settings, log);
      if (signals.signal.aborted) void service.stop();
      return await service.done;
    } finally {
      signals.release();
    }
  },
});
