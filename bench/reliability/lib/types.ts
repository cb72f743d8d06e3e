// What a reliability case is, what it gets to run with, and what it reports.
import type { Tracked } from "./procs.ts";

export interface Check {
  /** What was measured ("server CPU while over the limit"). */
  readonly what: string;
  /** The measured figure as printed ("3.1 %"). */
  readonly figure: string;
  /** The bound as printed ("< 25 %"); "" for a figure reported without a bound. */
  readonly bound: string;
  /** null: reported, not judged. */
  readonly pass: boolean | null;
}

export interface Context {
  readonly root: string;
  /** The tcp-echo executable under test. */
  readonly exe: string;
  /** bench/loadgen/loadgen.c built with cc -O2. */
  readonly loadgen: string;
  readonly quick: boolean;
  /** Where each case's server logs and peer output go (bench/build/reliability/). */
  readonly logDir: string;
  /** Every process a case starts, so all of them can be ended by pid on any exit path. */
  readonly procs: Tracked;
}

export interface CaseResult {
  readonly checks: Check[];
  /** Facts worth keeping next to the figures (what was seen, why a bound was missed). */
  readonly notes: string[];
}

export interface Case {
  /** "1a", "2", ...: the item of issue 10 it proves. */
  readonly id: string;
  readonly name: string;
  /** The scenario in one line, with the counts of the mode it runs in. */
  describe(quick: boolean): string;
  /** false: full mode only. */
  readonly inQuick: boolean;
  /** Runs beside the other cases (it only holds idle connections for a long time). */
  readonly background?: boolean;
  run(ctx: Context): Promise<CaseResult>;
}

/** A judged check. */
export const check = (what: string, figure: string, bound: string, pass: boolean): Check => ({ what, figure, bound, pass });
/** A figure reported without a bound. */
export const info = (what: string, figure: string): Check => ({ what, figure, bound: "", pass: null });

export const fmt = (n: number, digits = 1) => n.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
export const int = (n: number) => Math.round(n).toLocaleString("en-US");
export const mib = (bytes: number) => `${fmt(bytes / 1048576)} MiB`;
