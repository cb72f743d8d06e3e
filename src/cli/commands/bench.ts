import { defineCommand } from "citty";
import { plural } from "../../log/index.ts";
import { writeFileSync } from "node:fs";
import { arch, cpus, release, type } from "node:os";
import pkg from "../../../package.json" with { type: "json" };
import { chooseBenchTarget, formatProgress, formatReport, renderHtmlReport, runBench, targetLabel, toLoadgenJson } from "../../bench/index.ts";
import { hostPort } from "../../net/index.ts";
import { clientTlsPlan } from "../../tls/index.ts";
import { EXIT } from "../errors.ts";
import { resolveBench } from "../bench-settings.ts";
import { argsDef } from "../options/option.ts";
import { BENCH_OPTIONS } from "../options/table.ts";
import { TARGET_ARG } from "../options/target.ts";
import type { CommandHelp } from "../options/help.ts";
import { stopOnSignals } from "../signals.ts";

/** Erases the progress line: back to column 0, clear to the end of the line. */
const CLEAR_LINE = "\r\x1b[K";

/** An argument as a POSIX shell would need it written, for the command line shown in the HTML report. */
const quote = (a: string) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`);

function platform(): string {
  const c = cpus();
  return `Bun ${Bun.version}, ${type()} ${release()} ${arch()}, ${c.length} CPU${c.length === 1 ? "" : "s"}${c[0] ? ` (${c[0].model.trim()})` : ""}`;
}

export const options = BENCH_OPTIONS;

export const help: CommandHelp = {
  usage: "tcp-echo bench --mode pingpong|stream|connect|idle [options] [HOST[:PORT]]",
  description:
    "Load generator for any TCP echo server: pingpong, stream, connect or idle; every byte that comes back is checked. The server is --host/--port or one argument (127.0.0.1:7, [::1]:9999, localhost:7); a name is resolved once, and the first of its addresses that accepts a connection is used for the whole run.",
  examples: [
    ["tcp-echo bench --mode pingpong", "10 connections, 64 B messages, 1 s warm-up + 5 s"],
    ["tcp-echo bench --mode pingpong [::1]:7007", "the same over IPv6"],
    ["tcp-echo bench --mode pingpong --connections 100 --rate 20000", "latency at a fixed offered load (open loop)"],
    ["tcp-echo bench --mode stream --connections 4 --size 64k", "throughput"],
    ["tcp-echo bench --mode idle --connections 1000 --duration 3", "does the server close idle connections on time?"],
    ["tcp-echo bench --mode connect --connections 16 --proxy-protocol v2", "every connection sends a PROXY v2 header with its own addresses first"],
    ["tcp-echo bench --mode connect --tls --tls-ca ca.pem localhost:8443", "full TLS handshakes per second, each one verified"],
  ],
};

export default defineCommand({
  meta: { name: "bench", description: help.description },
  args: { ...argsDef(BENCH_OPTIONS), ...TARGET_ARG },
  async run({ args, rawArgs }) {
    const { settings, print } = resolveBench(args, process.env);
    if (print) {
      process.stdout.write(print);
      return EXIT.ok;
    }
    const { json, html, tlsClient, ...asked } = settings;
    // A name is resolved once; what it resolved to, and which address is used, goes to stderr
    // (stdout keeps loadgen's report, or its JSON, unchanged).
    const target = await chooseBenchTarget(asked.host, asked.port, {
      onRetry: (f, next) => process.stderr.write(`bench: connect to ${f.address} failed: ${f.reason}; trying ${next}\n`),
    });
    const used = hostPort(target.host, asked.port);
    if (target.resolved.isName) {
      const none = target.failures.length === target.resolved.addresses.length;
      process.stderr.write(
        none
          ? `bench: no address of ${asked.host} accepted a connection (${target.failures.map((f) => `${f.address}: ${f.reason}`).join(", ")}); running against ${used}\n`
          : `bench: ${asked.host} resolved to ${target.resolved.addresses.join(", ")}; running against ${used}\n`,
      );
    }
    // TLS is for the name given (SNI, the certificate check), not for the address it resolved to.
    const tls = tlsClient ? clientTlsPlan(tlsClient, asked.host) : null;
    const options = { ...asked, host: target.host, label: targetLabel(asked.host, asked.port, target.host), tls };
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
      if (html !== null) {
        const page = renderHtmlReport(result, options, {
          date: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
          tool: `tcp-echo ${pkg.version}`,
          platform: platform(),
          command: ["tcp-echo", "bench", ...rawArgs].map(quote).join(" "),
        });
        // The directory was checked before the run; a write that fails now (disk full, permissions)
        // is a failure of the run, reported as one line by main().
        writeFileSync(html, page);
      }
      // As loadgen: a connection error fails the run too, not only a mismatch.
      if (result.errors > 0 || result.mismatches > 0) return EXIT.failure;
      // A peer that accepts and never answers (a mute server, a proxy with no backend) makes no
      // error and no mismatch: a run that measured nothing must not pass as one that measured well.
      if (result.messages === 0) {
        process.stderr.write(`tcp-echo bench: nothing was echoed by ${used} in the measured time: no ${asked.mode === "pingpong" || asked.mode === "stream" ? "message came back whole" : "connection completed its exchange"}\n`);
        return EXIT.failure;
      }
      return EXIT.ok;
    } finally {
      stop.release();
    }
  },
});
