import type { ArgsDef } from "citty";
import { CLIENT_DEFAULTS, messageBytes, packRecord, type ClientOptions, type PackedRecord } from "../client/index.ts";
import { MAX_SYN_RETRIES } from "../net/index.ts";
import { compileStruct, formatChars, StructFormatError, StructValueError } from "../protocol/struct/index.ts";
import { UsageError } from "./errors.ts";
import { givenBoolean, givenString, type CliArgs, type Given } from "./flags.ts";
import { addressArgs, resolveAddress } from "./serve-options.ts";
import { parseBoolean, parseInteger, parseSeconds, parseSize } from "./values.ts";

// No citty `default`s: an absent flag must fall through to TCP_ECHO_<OPTION>, then to the defaults.
export const clientArgs = {
  host: { ...addressArgs.host, description: "the server's IPv4 address (localhost = 127.0.0.1) [127.0.0.1]" },
  port: { ...addressArgs.port, description: "the server's TCP port [9999]" },
  message: { type: "string", valueHint: "TEXT", description: "sent each time; a newline is added unless it ends in one [hello]" },
  record: { type: "string", valueHint: "FORMAT", description: "Python struct format of a binary record sent after each echo (needs --values)" },
  values: { type: "string", valueHint: "V,V,...", description: "the record's values, comma-separated (bytes as text or hex:6162)" },
  "connect-timeout": { type: "string", valueHint: "SECONDS", description: "bound on the whole connect, SYN retries included [10]" },
  "syn-retries": { type: "string", valueHint: "N", description: `TCP_SYNCNT, 1..${MAX_SYN_RETRIES} [kernel default]` },
  timeout: { type: "string", valueHint: "SECONDS", description: "wait for each echo and for the server's FIN [5]" },
  nodelay: { type: "boolean", description: "TCP_NODELAY [off: Nagle's algorithm on, as many clients]" },
  "recv-buf": { type: "string", valueHint: "BYTES", description: "SO_RCVBUF (64k, 1m, ...) [kernel default]" },
  "send-buf": { type: "string", valueHint: "BYTES", description: "SO_SNDBUF [kernel default]" },
  count: { type: "string", valueHint: "N", description: "messages to send, one round trip each [1]" },
  interval: { type: "string", valueHint: "SECONDS", description: "pause between round trips; 0 for none [1]" },
} as const satisfies ArgsDef;

type Env = Record<string, string | undefined>;

/** Everything but the abort signal, which the command adds. */
export type ClientSettings = Omit<ClientOptions, "signal">;

function map<T>(g: Given<string> | undefined, parse: (from: string, text: string) => T, fallback: T): T {
  return g === undefined ? fallback : parse(g.from, g.value);
}

/** Seconds > 0: a wait of nothing would fail every time. */
function positiveSeconds(from: string, text: string): number {
  const n = parseSeconds(from, text);
  if (n === 0) throw new UsageError(`${from}: ${JSON.stringify(text)} is not a number of seconds > 0`);
  return n;
}

// tcp-echo's record framing reads a message as one line of at most this many bytes, newline included.
const MAX_LINE = 1024;

function resolveRecord(args: CliArgs, env: Env, message: Uint8Array): PackedRecord | null {
  const format = givenString(args, env, "record");
  const values = givenString(args, env, "values");
  if (!format) {
    if (values) throw new UsageError(`${values.from} needs --record FORMAT as well`);
    return null;
  }
  if (message.indexOf(0x0a) !== message.length - 1) throw new UsageError("--message: with --record the message must be one line (the record follows its newline)");
  if (message.length > MAX_LINE) throw new UsageError(`--message: with --record the message must be at most ${MAX_LINE} bytes with its newline (got ${message.length})`);
  try {
    if (!values) {
      // A format with fields and no values at all: say what is missing, not "1 value given".
      const fields = formatChars(compileStruct(format.value));
      if (fields.length > 0) throw new UsageError(`${format.from} ${JSON.stringify(format.value)} needs --values with ${fields.length} comma-separated value${fields.length === 1 ? "" : "s"} (${fields.join(" ")})`);
    }
    return packRecord(format.value, values?.value ?? "");
  } catch (e) {
    if (e instanceof StructFormatError) throw new UsageError(`${format.from}: ${e.message}`);
    if (e instanceof StructValueError) throw new UsageError(`${values?.from ?? "--values"}: ${e.message}`);
    throw e;
  }
}

/** Flags, then TCP_ECHO_* variables, then defaults; every value validated. Throws UsageError. */
export function resolveClientSettings(args: CliArgs, env: Env): ClientSettings {
  const address = resolveAddress(args, env, CLIENT_DEFAULTS);
  if (address.port === 0) {
    const port = givenString(args, env, "port")!;
    throw new UsageError(`${port.from}: ${JSON.stringify(port.value)} is not a port in 1..65535 (a client cannot connect to port 0)`);
  }
  const message = messageBytes(map(givenString(args, env, "message"), (_f, t) => t, CLIENT_DEFAULTS.message));
  const nodelay = givenBoolean(args, env, "nodelay");
  return {
    ...address,
    message,
    record: resolveRecord(args, env, message),
    connectTimeout: map(givenString(args, env, "connect-timeout"), positiveSeconds, CLIENT_DEFAULTS.connectTimeout),
    synRetries: map(givenString(args, env, "syn-retries"), (f, t) => parseInteger(f, t, 1, MAX_SYN_RETRIES), CLIENT_DEFAULTS.synRetries),
    timeout: map(givenString(args, env, "timeout"), positiveSeconds, CLIENT_DEFAULTS.timeout),
    nodelay: nodelay === undefined ? CLIENT_DEFAULTS.nodelay : typeof nodelay.value === "boolean" ? nodelay.value : parseBoolean(nodelay.from, nodelay.value),
    recvBuf: map(givenString(args, env, "recv-buf"), (f, t) => parseSize(f, t), CLIENT_DEFAULTS.recvBuf),
    sendBuf: map(givenString(args, env, "send-buf"), (f, t) => parseSize(f, t), CLIENT_DEFAULTS.sendBuf),
    count: map(givenString(args, env, "count"), (f, t) => parseInteger(f, t, 1, 2 ** 31 - 1), CLIENT_DEFAULTS.count),
    interval: map(givenString(args, env, "interval"), (f, t) => parseSeconds(f, t), CLIENT_DEFAULTS.interval),
  };
}
