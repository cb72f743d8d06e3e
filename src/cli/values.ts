import { statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { parseIpv4 } from "../net/index.ts";
import { UsageError } from "./errors.ts";

// Parsers for option values. `name` is how the user wrote the option (`--port` or `TCP_ECHO_PORT`)
// so every message names the option and the value.

const bad = (name: string, text: string, want: string) => new UsageError(`${name}: ${JSON.stringify(text)} is not ${want}`);

export function parseInteger(name: string, text: string, min: number, max: number, what = "a whole number"): number {
  const t = text.trim();
  if (!/^[+]?\d+$/.test(t)) throw bad(name, text, `${what} (${min}..${max})`);
  const n = Number(t);
  if (n < min || n > max) throw bad(name, text, `${what} in ${min}..${max}`);
  return n;
}

export function parsePort(name: string, text: string): number {
  return parseInteger(name, text, 0, 65535, "a port");
}

/** Seconds as a decimal number >= min ("5.5", "0"). */
export function parseSeconds(name: string, text: string, min = 0): number {
  const t = text.trim();
  if (!/^[+]?(\d+(\.\d*)?|\.\d+)$/.test(t)) throw bad(name, text, `a number of seconds >= ${min}`);
  const n = Number(t);
  if (!Number.isFinite(n) || n < min) throw bad(name, text, `a number of seconds >= ${min}`);
  return n;
}

const UNITS: Record<string, number> = { "": 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

/** Bytes, with an optional k/m/g suffix in powers of 1024 ("64k", "1m", "65536"). */
export function parseSize(name: string, text: string, min = 1, max = 2 ** 31 - 1): number {
  const m = /^\s*(\d+)\s*([kmg]?)i?b?\s*$/i.exec(text);
  if (!m) throw bad(name, text, "a size in bytes (like 65536, 64k, 1m)");
  const n = Number(m[1]) * UNITS[m[2]!.toLowerCase()]!;
  if (n < min || n > max) throw bad(name, text, `a size in ${min}..${max} bytes`);
  return n;
}

/** An IPv4 address; `localhost` is 127.0.0.1 (IPv4 only, as the server). */
export function parseHost(name: string, text: string): string {
  const t = text.trim();
  if (t === "localhost") return "127.0.0.1";
  if (!parseIpv4(t)) throw bad(name, text, "an IPv4 address (like 127.0.0.1 or 0.0.0.0)");
  return t;
}

export function parseChoice<T extends string>(name: string, text: string, choices: readonly T[]): T {
  const t = text.trim().toLowerCase();
  if (!(choices as readonly string[]).includes(t)) throw bad(name, text, `one of ${choices.join(", ")}`);
  return t as T;
}

export function parseBoolean(name: string, text: string): boolean {
  const t = text.trim().toLowerCase();
  if (["1", "true", "yes", "on"].includes(t)) return true;
  if (["0", "false", "no", "off"].includes(t)) return false;
  throw bad(name, text, "a boolean (1/0, true/false, yes/no, on/off)");
}

/**
 * A file to write at the end of a run: checked before the run starts, so that a typo does not cost
 * the run. Its directory must exist (nothing is created), and it must not be a directory itself.
 */
export function parseOutputFile(name: string, text: string): string {
  if (text.trim() === "") throw new UsageError(`${name}: needs a file path`);
  const path = resolve(text);
  const dir = dirname(path);
  if (!statSync(dir, { throwIfNoEntry: false })?.isDirectory()) throw new UsageError(`${name}: ${JSON.stringify(text)}: directory ${JSON.stringify(dir)} does not exist`);
  if (statSync(path, { throwIfNoEntry: false })?.isDirectory()) throw new UsageError(`${name}: ${JSON.stringify(text)} is a directory, not a file`);
  return path;
}
