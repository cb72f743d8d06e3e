import { defineCommand } from "citty";
import { runClient } from "../client/index.ts";
import { EXIT } from "./errors.ts";
import { clientArgs, resolveClientSettings } from "./client-options.ts";

/**
 * Like ping: the first SIGINT/SIGTERM ends the run after the current round trip, and the half-close
 * and the summary still come; a second one exits at once (128 + signal number).
 */
function stopOnSignals(): { signal: AbortSignal; release(): void } {
  const controller = new AbortController();
  const onSignal = (sig: NodeJS.Signals) => {
    if (controller.signal.aborted) process.exit(sig === "SIGINT" ? 130 : 143);
    controller.abort();
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

export default defineCommand({
  meta: { name: "client", description: "Send messages (and records) to an echo server; check and time the echoes" },
  args: clientArgs,
  async run({ args }) {
    const settings = resolveClientSettings(args, process.env);
    const signals = stopOnSignals();
    try {
      const result = await runClient({ ...settings, signal: signals.signal }, (line) => console.log(line));
      return result.ok ? EXIT.ok : EXIT.failure;
    } finally {
      signals.release();
    }
  },
});
