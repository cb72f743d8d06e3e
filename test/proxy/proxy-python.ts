// Runs the independent python3 PROXY implementation (proxy-oracle.py) in one process per request.

import type { ProxyHeaderJson } from "../../src/proxy/index.ts";
import { pythonCmd } from "../helpers/python.ts";

const ORACLE = new URL("./proxy-oracle.py", import.meta.url).pathname;

export interface OracleCase {
  readonly name: string;
  readonly hex: string;
  readonly expected: ProxyHeaderJson;
}

export type OracleDecoded = (ProxyHeaderJson & { readonly length: number }) | { readonly error: string };

function run(request: unknown): unknown {
  const proc = Bun.spawnSync({
    cmd: [...pythonCmd(), ORACLE],
    stdin: Buffer.from(JSON.stringify(request)),
    stdout: "pipe",
    stderr: "pipe",
    timeout: 30_000,
  });
  if (proc.exitCode !== 0) throw new Error(`python3 oracle failed (${proc.exitCode}): ${proc.stderr.toString()}`);
  return JSON.parse(proc.stdout.toString());
}

/** Headers python built by hand with struct, with what it put in them. */
export function pythonCases(seed: number): OracleCase[] {
  return (run({ build: seed }) as { cases: OracleCase[] }).cases;
}

/** Python's hand decoding of each header (hex), with the header length it found. */
export function pythonDecode(headers: readonly Uint8Array[]): OracleDecoded[] {
  return (run({ decode: headers.map((h) => Buffer.from(h).toString("hex")) }) as { decoded: OracleDecoded[] }).decoded;
}

export function fromHex(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, "hex"));
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
