// Where client and bench connect: --host/--port, or the target as one argument the way nc and
// socat users type it (`[::1]:9999`, `localhost:7`, `echo.internal`). Names are resolved later, by
// the client and bench themselves (src/net/resolve.ts); here they are only checked for shape.
import type { ArgsDef } from "citty";
import { parseIp } from "../../net/index.ts";
import { UsageError } from "../errors.ts";
import type { CliArgs, Given, Resolved, Table } from "./option.ts";
import { integer, type ValueKind } from "./values.ts";

const HOST_WANT = "an IP address or a host name (like 127.0.0.1, ::1, localhost, echo.internal)";

// RFC 1123 2.1 labels (letters, digits, hyphens, not at either end), plus the underscore that
// Docker and Compose service names carry; at most 63 bytes a label, 253 a name.
const LABEL = /^(?!-)[A-Za-z0-9_-]{1,63}(?<!-)$/;

/**
 * A host name as DNS and /etc/hosts know them. The last label may not be all digits (RFC 3696 2):
 * getaddrinfo would read `127.1` or `10.0.0.010` as an inet_aton(3) address, not as a name.
 */
export function isHostName(text: string): boolean {
  const name = text.endsWith(".") ? text.slice(0, -1) : text;
  if (name.length === 0 || name.length > 253) return false;
  const labels = name.split(".");
  return labels.every((l) => LABEL.test(l)) && !/^\d+$/.test(labels[labels.length - 1]!);
}

/** An IPv4 or IPv6 address (brackets optional) or a host name, kept as written (IPv6 unbracketed). */
export const remoteHost: ValueKind<string> = {
  hint: "HOST",
  parse(text, from) {
    const t = text.trim();
    const bare = t.replace(/^\[(.*)\]$/, "$1");
    if (parseIp(bare) || (bare === t && isHostName(t))) return bare;
    throw new UsageError(`${from}: ${JSON.stringify(text)} is not ${HOST_WANT}`);
  },
  fromFile(v, from) {
    if (typeof v !== "string") throw new UsageError(`${from}: ${JSON.stringify(v)} is a ${typeof v}, not a string`);
    return this.parse(v, from);
  },
  show: (v) => v,
};

export const remotePort: ValueKind<number> = integer(1, 65535, "a port", "PORT");

export interface Target {
  readonly host: string;
  /** null: none in the argument; --port (or its variable, file, default) gives it. */
  readonly port: number | null;
}

const TARGET_WANT = "HOST, HOST:PORT or [IPV6]:PORT (like 127.0.0.1:7, [::1]:9999, localhost:7, echo.internal)";

/**
 * The target argument. An IPv6 address with a port needs brackets (RFC 3986 3.2.2): `::1:9999`
 * is itself a valid IPv6 address (::0.1.153.153) and is taken as one, without a port.
 */
export function parseTarget(text: string): Target {
  const from = `target ${JSON.stringify(text)}`;
  const t = text.trim();
  const bad = (why = "") => new UsageError(`${from} is not ${TARGET_WANT}${why}`);
  const portOf = (p: string) => remotePort.parse(p, from);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(t)) throw bad(": a URL (no scheme: HOST:PORT)");
  const bracketed = /^\[([^\]]*)\](?::(.*))?$/.exec(t);
  if (bracketed) {
    const [, v6, p] = bracketed;
    if (parseIp(v6!)?.family !== 6) throw bad(`: ${JSON.stringify(v6)} is not an IPv6 address`);
    return { host: v6!, port: p === undefined ? null : portOf(p) };
  }
  const colons = t.split(":").length - 1;
  if (colons > 1) {
    if (parseIp(t)?.family !== 6) throw bad(" (an IPv6 address goes in brackets before a port)");
    return { host: t, port: null };
  }
  const [h, p] = colons === 1 ? [t.slice(0, t.indexOf(":")), t.slice(t.indexOf(":") + 1)] : [t, undefined];
  if (h === "") throw bad(": no host");
  return { host: remoteHost.parse(h, from), port: p === undefined ? null : portOf(p) };
}

/** citty's definition of the optional positional target (normalizeArgv allows one per such entry). */
export const TARGET_ARG = {
  target: { type: "positional", required: false, valueHint: "HOST[:PORT]", description: "the server, instead of --host/--port: 127.0.0.1:7, [::1]:9999, localhost:7, echo.internal" },
} as const satisfies ArgsDef;

/**
 * Folds the target argument into --host/--port, where it counts as those flags (flag > variable >
 * file > default). With --host, or with --port when the target has its own port, it is refused:
 * two answers to one question.
 */
export function applyTarget(args: CliArgs): { readonly args: CliArgs; readonly target: string | null } {
  const raw = args.target;
  if (raw === undefined || raw === null) return { args, target: null };
  const text = String(raw);
  const t = parseTarget(text);
  if (args.host !== undefined) throw new UsageError(`target ${JSON.stringify(text)} and --host are both given: use one`);
  if (t.port !== null && args.port !== undefined) throw new UsageError(`target ${JSON.stringify(text)} and --port are both given: use one`);
  return { args: { ...args, host: t.host, ...(t.port === null ? {} : { port: String(t.port) }) }, target: text };
}

/** --print-config and messages name the target argument, not --host/--port, as the source. */
export function targetGiven<O extends Table>(r: Resolved<O>, cliArgs: CliArgs, target: string | null): Resolved<O> {
  if (target === null) return r;
  const from: Given = { source: "flag", from: `target ${JSON.stringify(target)}` };
  const given: Record<string, Given> = { ...r.given, host: from };
  if (cliArgs.port === undefined && parseTarget(target).port !== null) given.port = from;
  return { values: r.values, given: given as Resolved<O>["given"] };
}
