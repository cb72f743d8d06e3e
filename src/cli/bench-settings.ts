import { statSync } from "node:fs";
import { dirname, resolve as resolvePath } from "node:path";
import { BENCH_MODES, defaultSize, type BenchOptions } from "../bench/index.ts";
import { UsageError } from "./errors.ts";
import { configPath, loadConfigFile } from "./options/file.ts";
import { resolve, type CliArgs, type Env } from "./options/option.ts";
import { printConfig } from "./options/print.ts";
import { BENCH_OPTIONS } from "./options/table.ts";
import { applyTarget, targetGiven } from "./options/target.ts";
import { checkServiceLink } from "./serve-settings.ts";
import { clientTls } from "./tls-client-settings.ts";
import type { ClientTls } from "../tls/index.ts";

/** `tlsClient`: the TLS settings; the command makes them a plan for the name given (bench resolves names first). */
export type BenchSettings = BenchOptions & { readonly json: boolean; readonly html: string | null; readonly tlsClient: ClientTls | null };

/** A file to write after the run: checked now, so a long run cannot end in a write that fails. */
function outputFile(from: string, text: string): string {
  if (text.trim() === "") throw new UsageError(`${from}: needs a file path`);
  const path = resolvePath(text);
  const dir = dirname(path);
  if (!statSync(dir, { throwIfNoEntry: false })?.isDirectory()) throw new UsageError(`${from}: ${JSON.stringify(text)}: directory ${JSON.stringify(dir)} does not exist`);
  if (statSync(path, { throwIfNoEntry: false })?.isDirectory()) throw new UsageError(`${from}: ${JSON.stringify(text)} is a directory, not a file`);
  return path;
}

/**
 * The target argument, then flags, then TCP_ECHO_* variables, then --config, then loadgen's
 * defaults; every value and combination validated. `host` may be a name: the command resolves it.
 */
export function resolveBench(cliArgs: CliArgs, env: Env): { readonly settings: BenchSettings; readonly print: string | null } {
  const { args, target } = applyTarget(cliArgs);
  if (args.port === undefined) checkServiceLink(env);
  const where = configPath(args, env);
  const r = targetGiven(resolve(BENCH_OPTIONS, args, env, where ? loadConfigFile(where, BENCH_OPTIONS) : null), cliArgs, target);
  const v = r.values;
  const g = r.given;
  const print = v.printConfig ? printConfig("bench", BENCH_OPTIONS, r) : null;
  if (v.mode === null) {
    if (print) return { settings: null as never, print };
    throw new UsageError(`--mode is required (${BENCH_MODES.join(", ")})`);
  }
  const mode = v.mode;
  const size = v.size ?? defaultSize(mode);
  if (size === 0 && mode !== "idle") throw new UsageError(`${g.size.from}: 0 bytes is only for idle mode (connect, no exchange)`);
  if (v.rate !== null && mode !== "pingpong" && mode !== "connect") throw new UsageError(`${g.rate.from} is only for pingpong and connect modes, not ${mode}`);
  // Bun's TLS sockets encrypt every write, and a PROXY header must go in the clear before the handshake.
  if (v.tls && v.proxyProtocol !== "off") throw new UsageError(`${g.proxyProtocol.from} with ${g.tls.from}: a PROXY header goes in the clear before the TLS handshake, which this load generator cannot send`);
  if (v.count !== null && mode === "idle") throw new UsageError(`${g.count.from} is not for idle mode (it holds connections for --duration)`);
  return {
    settings: {
      host: v.host,
      port: v.port,
      mode,
      connections: v.connections,
      size,
      // With --count alone, the count ends the run; an explicit --duration then caps it.
      duration: v.duration ?? (v.count !== null ? null : 5),
      warmup: v.warmup,
      rate: v.rate,
      count: v.count,
      proxyProtocol: v.proxyProtocol,
      json: v.json,
      html: v.html === null ? null : outputFile(g.html.from, v.html),
      tlsClient: clientTls(v, g),
      tlsCaFile: v.tlsCa,
    },
    print,
  };
}
