import { messageBytes, packRecord, type ClientOptions, type PackedRecord } from "../client/index.ts";
import { compileStruct, formatChars, StructFormatError, StructValueError } from "../protocol/struct/index.ts";
import { UsageError } from "./errors.ts";
import { configPath, loadConfigFile } from "./options/file.ts";
import { resolve, type CliArgs, type Env, type Resolved } from "./options/option.ts";
import { printConfig } from "./options/print.ts";
import { CLIENT_OPTIONS } from "./options/table.ts";
import { checkServiceLink } from "./serve-settings.ts";

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

/** Flags, then TCP_ECHO_* variables, then --config, then defaults; every value validated. */
export function resolveClient(args: CliArgs, env: Env): { readonly settings: ClientSettings; readonly print: string | null } {
  if (args.port === undefined) checkServiceLink(env);
  const where = configPath(args, env);
  const r = resolve(CLIENT_OPTIONS, args, env, where ? loadConfigFile(where, CLIENT_OPTIONS) : null);
  const v = r.values;
  const message = messageBytes(v.message);
  const settings: ClientSettings = {
    host: v.host,
    port: v.port,
    message,
    record: record(r, message),
    connectTimeout: v.connectTimeout,
    synRetries: v.synRetries,
    timeout: v.timeout,
    nodelay: v.nodelay,
    recvBuf: v.recvBuf,
    sendBuf: v.sendBuf,
    count: v.count,
    interval: v.interval,
  };
  return { settings, print: v.printConfig ? printConfig("client", CLIENT_OPTIONS, r) : null };
}
