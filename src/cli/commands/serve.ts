import { defineCommand } from "citty";
import { runService, type Service } from "../../cluster/index.ts";
import { prepareTls } from "../../server/index.ts";
import { createLogger } from "../../log/index.ts";
import { EXIT } from "../errors.ts";
import { argsDef } from "../options/option.ts";
import { SERVE_OPTIONS } from "../options/table.ts";
import type { CommandHelp } from "../options/help.ts";
import { resolveServe } from "../serve-settings.ts";
import { stopOnSignals } from "../signals.ts";

export const options = SERVE_OPTIONS;

export const help: CommandHelp = {
  usage: "tcp-echo [serve] [options]",
  description:
    "Run the echo server: every byte comes back in order, the peer's FIN is answered after the last byte, idle connections end on time, and every socket option is read back from the kernel.",
  examples: [
    ["tcp-echo", "serve on 127.0.0.1:9999 with a 5.5 s idle timeout"],
    ["tcp-echo --host 0.0.0.0 --port 7 --timeout 30s --max-connections 10000", "on every address, port 7, 30 s idle timeout"],
    ["tcp-echo --record '! I 2s Q' --log-format json", "decode binary records after each line; JSON logs"],
    ["tcp-echo --workers auto --metrics 127.0.0.1:9464", "one worker per CPU, Prometheus metrics"],
    ["tcp-echo --port 8443 --tls-cert echo.pem --tls-key echo.key --tls-alpn h2", "TLS; each open line says the version, cipher, SNI and ALPN"],
    ["tcp-echo --port 8443 --tls-self-signed --tls-client-auth request", "a certificate made at start; client certificates reported"],
    ["tcp-echo --config tcp-echo.toml --print-config", "show the settings a config file gives, and where each came from"],
    ["tcp-echo --api 127.0.0.1:8474 --toxic latency:latency=100,jitter=10", "toxiproxy's API on 8474; every echo 100 +/- 10 ms late"],
  ],
};

export default defineCommand({
  meta: { name: "serve", description: help.description },
  args: argsDef(SERVE_OPTIONS),
  async run({ args }) {
    const resolved = resolveServe(args, process.env);
    const { print } = resolved;
    if (print) {
      process.stdout.write(print);
      return EXIT.ok;
    }
    const log = createLogger(resolved.settings.log);
    for (const l of resolved.settings.listeners)
      if (l.upstream !== "echo")
        log.warn("toxiproxy-config", `listener ${JSON.stringify(l.name)}: upstream ${JSON.stringify(l.upstream)} is not used: tcp-echo is the endpoint and echoes`, { listener: l.name, upstream: l.upstream });
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
      // Self-signed certificates are made here, once: with --workers every worker gets the same one.
      const settings = { ...resolved.settings, listeners: await prepareTls(resolved.settings.listeners) };
      service = await runService(settings, log);
      if (signals.signal.aborted) void service.stop();
      return await service.done;
    } finally {
      signals.release();
    }
  },
});
