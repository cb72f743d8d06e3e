import { statSync } from "node:fs";
import { messageBytes, packRecord, type ClientOptions, type ClientProxy, type PackedRecord } from "../client/index.ts";
import { compileStruct, formatChars, StructFormatError, StructValueError } from "../protocol/struct/index.ts";
import { UsageError } from "./errors.ts";
import { configPath, loadConfigFile } from "./options/file.ts";
import { resolve, type CliArgs, type Env, type Resolved } from "./options/option.ts";
import { printConfig } from "./options/print.ts";
import { CLIENT_OPTIONS } from "./options/table.ts";
import { applyTarget, targetGiven } from "./options/target.ts";
import { checkServiceLink } from "./serve-settings.ts";
import { clientTls } from "./tls-client-settings.ts";

/** Everything but the abort signal, which the command adds. */
export type ClientSettings = Omit<ClientOptions, "signal">;

// tcp-echo's record framing reads a message as one line of at most this many bytes, newline included.
const MAX_LINE = 1024;

function record(r: Resolved<typeof CLIENT_OPTIONS>, message: Uint8Array): PackedRecord | null {
  const format = r.values.record;
  if (format === null) return null;
  const from = r.given.record.from;
  if (message.indexOf(0x0a) !== message.length - 1) throw new UsageError("--message: with --record the message must be one line (the record follows its newline)");
  if (message.length > MAX_LINE) throw new UsageError(`--message: with --record the message must be at most ${MAX_LINE} bytes with its newline (got ${message.length})`);
  try {
    if (r.values.values === null) {
      // A format with fields and no values at all: say what is missing, not "1 value given".
      const fields = formatChars(compileStruct(format));
      if (fields.length > 0) throw new UsageError(`${from} ${JSON.stringify(format)} needs --values with ${fields.length} comma-separated value${fields.length === 1 ? "" : "s"} (${fields.join(" ")})`);
    }
    return packRecord(format, r.values.values ?? "");
  } catch (e) {
    if (e instanceof StructFormatError) throw new UsageError(`${from}: ${e.message}`);
    if (e instanceof StructValueError) throw new UsageError(`${r.given.values.source === "default" ? "--values" : r.given.values.from}: ${e.message}`);
    throw e;
  }
}

// --file sends the input once; these shape the round trips it replaces.
const ROUND_TRIP_ONLY = ["message", "record", "values", "count", "interval"] as const;

/** --file PATH: checked now, so a typo is one line and exit 2 rather than a connect first. */
function inputFile(r: Resolved<typeof CLIENT_OPTIONS>): string | null {
  const path = r.values.file;
  if (path === null) return null;
  const from = r.given.file.from;
  for (const k of ROUND_TRIP_ONLY) {
    if (r.given[k].source !== "default") throw new UsageError(`${from} sends the input once instead of --message round trips: drop ${r.given[k].from}`);
  }
  if (path === "-") return path;
  if (path.trim() === "") throw new UsageError(`${from}: needs a file path, or - for standard input`);
  const st = statSync(path, { throwIfNoEntry: false });
  if (!st) throw new UsageError(`${from}: ${JSON.stringify(path)}: no such file`);
  if (st.isDirectory()) throw new UsageError(`${from}: ${JSON.stringify(path)} is a directory`);
  return path;
}

/**
 * --proxy-protocol with --proxy-source/--proxy-dest. A header carries two addresses of one family
 * (proxy-protocol.txt 2.1: TCP4 or TCP6; 2.2: INET or INET6), so two given ones must agree; an
 * address left to the connection is the connection's, whatever the other one is (the encoder then
 * writes an IPv4 one IPv4-mapped, as HAProxy does for a mixed pair).
 */
function proxy(r: Resolved<typeof CLIENT_OPTIONS>): ClientProxy | null {
  const { proxyProtocol, proxySource, proxyDest } = r.values;
  const g = r.given;
  if (proxyProtocol === "off") {
    for (const k of ["proxySource", "proxyDest"] as const) {
      if (g[k].source !== "default") throw new UsageError(`${g[k].from} needs --proxy-protocol v1 or v2 (it is off)`);
    }
    return null;
  }
  // Bun's TLS sockets encrypt every write, and a PROXY header must go in the clear before the handshake.
  if (r.values.tls) throw new UsageError(`${g.proxyProtocol.from} with ${g.tls.from}: a PROXY header goes in the clear before the TLS handshake, which this client cannot send`);
  if (proxySource && proxyDest && proxySource.host.includes(":") !== proxyDest.host.includes(":")) {
    const show = (k: "proxySource" | "proxyDest") => `${g[k].from} ${CLIENT_OPTIONS[k].kind.show(r.values[k]!)}`;
    throw new UsageError(`${show("proxySource")} and ${show("proxyDest")} are not the same family: a PROXY header carries two IPv4 or two IPv6 addresses`);
  }
  return { version: proxyProtocol, source: proxySource, destination: proxyDest };
}

/** The target argument, then flags, then TCP_ECHO_* variables, then --config, then defaults; every value validated. */
export function resolveClient(cliArgs: CliArgs, env: Env): { readonly settings: ClientSettings; readonly print: string | null } {
  const { args, target } = applyTarget(cliArgs);
  if (args.port === undefined) checkServiceLink(env);
  const where = configPath(args, env);
  const r = targetGiven(resolve(CLIENT_OPTIONS, args, env, where ? loadConfigFile(where, CLIENT_OPTIONS) : null), cliArgs, target);
  const v = r.values;
  const message = messageBytes(v.message);
  const file = inputFile(r);
  const settings: ClientSettings = {
    host: v.host,
    port: v.port,
    file,
    message,
    record: file === null ? record(r, message) : null,
    connectTimeout: v.connectTimeout,
    synRetries: v.synRetries,
    timeout: v.timeout,
    nodelay: v.nodelay,
    recvBuf: v.recvBuf,
    sendBuf: v.sendBuf,
    count: v.count,
    interval: v.interval,
    proxy: proxy(r),
    tls: clientTls(v, r.given),
  };
  return { settings, print: v.printConfig ? printConfig("client", CLIENT_OPTIONS, r) : null };
}
