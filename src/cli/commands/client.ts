import { defineCommand } from "citty";
import { runClient, runFileClient } from "../../client/index.ts";
import { EXIT } from "../errors.ts";
import { resolveClient } from "../client-settings.ts";
import { argsDef } from "../options/option.ts";
import { CLIENT_OPTIONS } from "../options/table.ts";
import { TARGET_ARG } from "../options/target.ts";
import type { CommandHelp } from "../options/help.ts";
import { stopOnSignals } from "../signals.ts";

export const options = CLIENT_OPTIONS;

export const help: CommandHelp = {
  usage: "tcp-echo client [options] [HOST[:PORT]]",
  description:
    "Send messages (and binary records) to an echo server, check that exactly those bytes come back, time each round trip, half-close, and report when the server's FIN came, like ping. With --file, send a file or standard input once and check that exactly its bytes come back before the server's FIN. The server is --host/--port or one argument: 127.0.0.1:7, [::1]:9999, localhost:7; a name's addresses are tried in the resolver's order.",
  examples: [
    ["tcp-echo client --count 3 --interval 0.2", "three round trips to 127.0.0.1:9999"],
    ["tcp-echo client [::1]:9999", "over IPv6"],
    ["tcp-echo client --file big.bin localhost:7", "send a file, check every byte of the echo, print the throughput"],
    ["head -c 10m /dev/urandom | tcp-echo client --file - 127.0.0.1:7", "the same with standard input"],
    ["tcp-echo client --record '! I 2s' --values 1,ab", "a message, then a record packed as Python's struct.pack would"],
    ["tcp-echo client --count 3 --interval 1.5", "against serve --timeout 1: see when the idle timeout's FIN comes"],
    ["tcp-echo client --proxy-protocol v2 --proxy-source 203.0.113.7:51234 backend:7", "act as a load balancer: a PROXY v2 header first, naming that client"],
    ["tcp-echo client --tls --tls-ca ca.pem --alpn h2 echo.test:8443", "over TLS: prints version, cipher, ALPN and the server certificate"],
  ],
};

export default defineCommand({
  meta: { name: "client", description: help.description },
  args: { ...argsDef(CLIENT_OPTIONS), ...TARGET_ARG },
  async run({ args }) {
    const { settings, print } = resolveClient(args, process.env);
    if (print) {
      process.stdout.write(print);
      return EXIT.ok;
    }
    // Like ping: the first signal ends the run after the current round trip; the half-close and
    // the summary still come.
    const signals = stopOnSignals();
    try {
      const o = { ...settings, signal: signals.signal };
      const print = (line: string) => console.log(line);
      const result = settings.file === null ? await runClient(o, print) : await runFileClient(o, print);
      return result.ok ? EXIT.ok : EXIT.failure;
    } finally {
      signals.release();
    }
  },
});
