import { defineCommand } from "citty";
import { runClient } from "../client/index.ts";
import { EXIT } from "./errors.ts";
import { clientArgs, resolveClientSettings } from "./client-options.ts";
import { stopOnSignals } from "./signals.ts";

export default defineCommand({
  meta: { name: "client", description: "Send messages (and records) to an echo server; check and time the echoes" },
  args: clientArgs,
  async run({ args }) {
    const settings = resolveClientSettings(args, process.env);
    // Like ping: the first signal ends the run after the current round trip; the half-close and
    // the summary still come.
    const signals = stopOnSignals();
    try {
      const result = await runClient({ ...settings, signal: signals.signal }, (line) => console.log(line));
      return result.ok ? EXIT.ok : EXIT.failure;
    } finally {
      signals.release();
    }
  },
});
