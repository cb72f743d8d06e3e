// One entry per option, and how an entry's value is found: the flag, then TCP_ECHO_<OPTION>, then
// the config file, then the default. Commands list the entries they take (table.ts); everything
// else (citty's argument definitions, the environment lookup, help text with defaults, validation,
// --print-config) is derived from the entries, never typed twice.
import type { ArgsDef } from "citty";
import { UsageError } from "../errors.ts";
import type { ValueKind } from "./values.ts";

/**
 * Where an option applies. "process": one value for the whole process (logging, workers,
 * metrics). "listener": a property of a listener's profile; the command line sets it for every
 * listener and a config file's [[listener]] tables may override it per listener.
 */
export type Scope = "process" | "listener";

export interface Option<T, D = T> {
  readonly name: string;
  readonly kind: ValueKind<T>;
  /** The value when nothing sets it (null: "not set", the code then decides, as `unset` says). */
  readonly default: D;
  /** Help text for a default that is not a plain value ("kernel default", "somaxconn"). */
  readonly unset?: string;
  readonly help: string;
  readonly scope: Scope;
  /** A switch (--x / --no-x) rather than an option with a value. */
  readonly switch?: boolean;
  /** Another option this one only makes sense with (`--record-mode` needs `--record`). */
  readonly needs?: string;
  /** May be given several times (`--listen A --listen B`): the values are joined with commas for
   * the kind to split, as in a variable (`TCP_ECHO_LISTEN=A,B`) or a file's list. */
  readonly many?: boolean;
}

/** Any option, whatever its value type. */
export type AnyOption = Option<any, any>;

export type Table = Readonly<Record<string, AnyOption>>;

/** The typed values of a table's options. */
export type Values<O extends Table> = { -readonly [K in keyof O]: O[K] extends Option<infer T, infer D> ? T | D : never };

export type Source = "flag" | "env" | "file" | "default";

/** Where each value came from, and how it was written there (for messages and --print-config). */
export interface Given {
  readonly source: Source;
  /** "--timeout", "TCP_ECHO_TIMEOUT", "tcp-echo.toml: timeout", or "default". */
  readonly from: string;
}

export interface Resolved<O extends Table> {
  readonly values: Values<O>;
  readonly given: { readonly [K in keyof O]: Given };
}

/** Parsed flags as citty returns them. */
export type CliArgs = Readonly<Record<string, unknown>>;
export type Env = Readonly<Record<string, string | undefined>>;

export const ENV_PREFIX = "TCP_ECHO_";

/** The environment variable for an option: `recv-buf` -> `TCP_ECHO_RECV_BUF`. */
export function envName(option: string): string {
  return ENV_PREFIX + option.toUpperCase().replace(/-/g, "_");
}

/** A config file's values, keyed by option name, with the file's name for messages. */
export interface FileValues {
  readonly path: string;
  readonly values: Readonly<Record<string, unknown>>;
}

/** citty's argument definitions for a table (no citty defaults: an absent flag falls through). */
export function argsDef(table: Table): ArgsDef {
  const out: ArgsDef = {};
  for (const o of Object.values(table)) {
    out[o.name] = o.switch ? { type: "boolean", description: o.help } : { type: "string", valueHint: o.kind.hint, description: o.help };
  }
  return out;
}

/** The options of a table that may be given several times (normalizeArgv joins them). */
export function manyOptions(table: Table): ReadonlySet<string> {
  return new Set(Object.values(table).filter((o) => o.many).map((o) => o.name));
}

/** How the default reads in help and --print-config. */
export function showDefault(o: AnyOption): string {
  if (o.default === null || o.default === undefined) return o.unset ?? "none";
  return o.kind.show(o.default);
}

function lookup(o: AnyOption, args: CliArgs, env: Env, file: FileValues | null): { value: unknown; given: Given } | null {
  const raw = args[o.name];
  if (raw !== undefined) {
    if (o.switch && typeof raw === "boolean") return { value: raw, given: { source: "flag", from: raw ? `--${o.name}` : `--no-${o.name}` } };
    // A repeated flag: the last one wins, as with most CLIs, unless the option takes several.
    const v = Array.isArray(raw) ? (o.many ? raw.join(",") : raw[raw.length - 1]) : raw;
    const from = `--${o.name}`;
    return { value: o.kind.parse(typeof v === "string" ? v : String(v), from), given: { source: "flag", from } };
  }
  const name = envName(o.name);
  const e = env[name];
  if (e !== undefined && e !== "") return { value: o.kind.parse(e, name), given: { source: "env", from: name } };
  if (file && Object.hasOwn(file.values, o.name)) {
    const from = `${file.path}: ${o.name}`;
    return { value: o.kind.fromFile(file.values[o.name], from), given: { source: "file", from } };
  }
  return null;
}

/**
 * Every option of `table` from the flag, then TCP_ECHO_<OPTION>, then the file, then the default;
 * each value parsed by its kind, and `needs` checked. Throws UsageError naming the option (as the
 * user wrote it) and the value.
 */
export function resolve<O extends Table>(table: O, args: CliArgs, env: Env, file: FileValues | null): Resolved<O> {
  const values: Record<string, unknown> = {};
  const given: Record<string, Given> = {};
  for (const [key, o] of Object.entries(table)) {
    const found = lookup(o, args, env, file);
    values[key] = found ? found.value : o.default;
    given[key] = found ? found.given : { source: "default", from: "default" };
  }
  for (const [key, o] of Object.entries(table)) {
    if (o.needs && given[key]!.source !== "default" && given[o.needs]!.source === "default" && values[o.needs] === table[o.needs]!.default) {
      const need = table[o.needs]!;
      throw new UsageError(`${given[key]!.from} needs --${need.name}${need.kind.hint ? ` ${need.kind.hint}` : ""} as well`);
    }
  }
  return { values: values as Values<O>, given: given as Resolved<O>["given"] };
}
