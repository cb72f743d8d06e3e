// Runs CPython's struct module (struct-oracle.py) over a batch of jobs in one python3 process.

import type { StructValue } from "../../src/protocol/struct/index.ts";
import { pythonCmd } from "../helpers/python.ts";

const ORACLE = new URL("./struct-oracle.py", import.meta.url).pathname;

export interface PyError {
  readonly type: string;
  readonly message: string;
}
export type PyUnpacked = { readonly repr: string; readonly error?: undefined } | { readonly repr?: undefined; readonly error: PyError };
export type PyTagged = readonly [tag: "i" | "f" | "b" | "y", value: string | boolean];

export type PyJob =
  | { kind: "pack"; fmt: string; values: PyTagged[]; ours?: string | null }
  | { kind: "unpack"; fmt: string; data: string }
  | { kind: "calcsize"; fmt: string }
  | { kind: "packEach"; fmt: string; values: PyTagged[] }
  | { kind: "reprFloats"; values: string[] };

export interface PyPackResult {
  readonly packed?: string;
  readonly error?: PyError;
  readonly unpacked?: PyUnpacked;
  readonly oursUnpacked?: PyUnpacked;
}
export interface PyCalcsizeResult {
  readonly size?: number;
  readonly fields?: number | null;
  readonly error?: PyError;
}

/** Runs `jobs` in one python3 process; results come back in job order. */
export function runPython(jobs: readonly PyJob[]): unknown[] {
  const proc = Bun.spawnSync({
    cmd: [...pythonCmd(), ORACLE],
    stdin: Buffer.from(JSON.stringify({ jobs })),
    stdout: "pipe",
    stderr: "pipe",
  });
  if (proc.exitCode !== 0) throw new Error(`python3 oracle failed (${proc.exitCode}): ${proc.stderr.toString()}`);
  return (JSON.parse(proc.stdout.toString()) as { results: unknown[] }).results;
}

export function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("hex");
}

export function fromHex(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, "hex"));
}

/** A double's exact bits, the way the oracle reads floats. */
export function doubleHex(x: number): string {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  return hex(new Uint8Array(view.buffer));
}

/**
 * The Python value a StructValue stands for. A JS number is a Python float for float formats (and
 * whenever it is not integral), an int otherwise; that is how the codec itself treats numbers.
 */
export function toPython(v: StructValue, char?: string): PyTagged {
  if (typeof v === "boolean") return ["b", v];
  if (typeof v === "bigint") return ["i", v.toString()];
  if (v instanceof Uint8Array) return ["y", hex(v)];
  const isFloat = (char !== undefined && "efd".includes(char)) || !Number.isInteger(v) || Object.is(v, -0);
  return isFloat ? ["f", doubleHex(v)] : ["i", BigInt(v).toString()];
}
