import type { ArgsDef } from "citty";
import { UsageError } from "./errors.ts";

/**
 * citty accepts any `--flag`; a typo must not be silently ignored. Also turns `--opt -1` into
 * `--opt=-1` so a negative number reaches the option's validator (and its message) instead of
 * being read as a short flag. Plain arguments are allowed only as many as `defs` declares
 * positional entries (client and bench: one target; serve: none).
 */
export function normalizeArgv(rawArgs: readonly string[], defs: ArgsDef, many: ReadonlySet<string> = new Set()): string[] {
  const out: string[] = [];
  // citty keeps only the last of a repeated option: the values of one that may be given several
  // times are joined with commas, as its variable and config-file forms are.
  const repeated = new Map<string, string[]>();
  const known = new Map(Object.entries(defs).map(([k, d]) => [k, d.type ?? "string"]));
  const positionals = Object.values(defs).filter((d) => d.type === "positional").length;
  const seen: string[] = [];
  for (let i = 0; i < rawArgs.length; i++) {
    const tok = rawArgs[i]!;
    if (tok === "--") throw new UsageError(`unexpected argument "--"`);
    if (tok === "-h" || tok === "--help") {
      out.push(tok);
      continue;
    }
    if (!tok.startsWith("-")) {
      if (seen.length >= positionals) throw new UsageError(`unexpected argument ${JSON.stringify(tok)}${strayHint(seen, tok)}`);
      seen.push(tok);
      out.push(tok);
      continue;
    }
    if (!tok.startsWith("--")) throw new UsageError(`unknown option ${JSON.stringify(tok)}`);
    const eq = tok.indexOf("=");
    const name = tok.slice(2, eq < 0 ? undefined : eq);
    const type = known.get(name);
    const negated = name.startsWith("no-") && known.get(name.slice(3)) === "boolean";
    if (!type && !negated) throw new UsageError(`unknown option --${name}`);
    if (negated || type === "boolean") {
      if (eq >= 0) throw new UsageError(`--${name} takes no value (got ${JSON.stringify(tok.slice(eq + 1))})`);
      out.push(tok);
      continue;
    }
    let value: string;
    if (eq >= 0) value = tok.slice(eq + 1);
    else {
      const next = rawArgs[i + 1];
      if (next === undefined) throw new UsageError(`--${name} needs a value`);
      value = next;
      i++;
    }
    if (many.has(name)) {
      const list = repeated.get(name);
      if (list) list.push(value);
      else repeated.set(name, [value]);
    } else out.push(`--${name}=${value}`);
  }
  for (const [name, values] of repeated) out.push(`--${name}=${values.join(",")}`);
  return out;
}

/** nc's `HOST PORT` as two arguments: say how to write it as the one target argument. */
function strayHint(seen: readonly string[], tok: string): string {
  if (seen.length !== 1 || !/^\d{1,5}$/.test(tok)) return "";
  const host = seen[0]!;
  const joined = host.includes(":") && !host.startsWith("[") ? `[${host}]:${tok}` : `${host}:${tok}`;
  return ` (the target is one argument: ${joined})`;
}
