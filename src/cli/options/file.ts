// --config FILE: the options as keys of a TOML or JSON file (Bun parses TOML natively). The keys are
// the option names as on the command line (`max-buffer = "1m"`); tables of their own (such as the
// listener tables of a later issue) are reserved names the command declares.
import { readFileSync } from "node:fs";
import { UsageError } from "../errors.ts";
import { envName, type CliArgs, type Env, type FileValues, type Table } from "./option.ts";

/** The --config path: the flag, else TCP_ECHO_CONFIG; null when neither is given. */
export function configPath(args: CliArgs, env: Env): { path: string; from: string } | null {
  const raw = args.config;
  if (raw !== undefined) {
    const v = Array.isArray(raw) ? raw[raw.length - 1] : raw;
    return { path: String(v), from: "--config" };
  }
  const e = env[envName("config")];
  return e ? { path: e, from: envName("config") } : null;
}

/**
 * Reads and parses the file; every key must name an option of `table` (or one of `sections`).
 * Errors are one line naming the file, and the key and value where one is at fault.
 */
export function loadConfigFile(where: { path: string; from: string }, table: Table, sections: readonly string[] = []): FileValues {
  const { path, from } = where;
  if (path.trim() === "") throw new UsageError(`${from}: needs a file path`);
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    const code = (e as { code?: string }).code;
    throw new UsageError(`${from}: ${JSON.stringify(path)}: ${code === "ENOENT" ? "no such file" : code === "EISDIR" ? "is a directory" : code === "EACCES" ? "permission denied" : String((e as Error).message)}`);
  }
  let data: unknown;
  const json = /\.json$/i.test(path) || /^\s*\{/.test(text);
  try {
    data = json ? JSON.parse(text) : Bun.TOML.parse(text);
  } catch (e) {
    // Bun's parse errors say what is wrong but not where (their line and column are our own code's).
    const why = String((e as Error)?.message ?? e).replace(/^(TOML|JSON) Parse error: /, "").replace(/\s+/g, " ");
    throw new UsageError(`${path}: not valid ${json ? "JSON" : "TOML"}: ${why}`);
  }
  if (data === null || typeof data !== "object" || Array.isArray(data)) throw new UsageError(`${path}: the file must hold a table of options, not ${Array.isArray(data) ? "a list" : typeof data}`);
  const names = new Set(Object.values(table).filter((o) => o.name !== "config" && o.name !== "print-config").map((o) => o.name));
  for (const key of Object.keys(data)) {
    if (names.has(key) || sections.includes(key)) continue;
    const hint = [...names].find((n) => n.replace(/-/g, "") === key.replace(/[-_]/g, "").toLowerCase());
    throw new UsageError(`${path}: unknown key ${JSON.stringify(key)}${hint ? ` (did you mean ${JSON.stringify(hint)}?)` : ""}`);
  }
  return { path, values: data as Record<string, unknown> };
}
