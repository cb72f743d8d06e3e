// Types shared by the struct codec's modules.

import type { FormatItem } from "./format.ts";

/**
 * One value of a decoded tuple: integers are numbers, 64-bit ones bigints; `s p c` bytes; `?`
 * booleans; `e f d` numbers.
 */
export type StructValue = number | bigint | boolean | Uint8Array;

/** A format compiled once; decode and encode do no format parsing. */
export interface StructCodec {
  readonly format: string;
  /** Python's struct.calcsize(format). */
  readonly size: number;
  /** Length of the tuple Python's unpack returns. */
  readonly fieldCount: number;
  /** The parsed runs, in format order, for tools that need per-field types or sizes. */
  readonly items: readonly FormatItem[];
  /** Reads `size` bytes at `offset`; decoded bytes are copies, safe to keep. */
  decode(bytes: Uint8Array, offset?: number): StructValue[];
  /** Like struct.pack. */
  encode(values: readonly StructValue[]): Uint8Array;
  /** Like struct.pack_into: zero-fills the record's `size` bytes, then writes the fields. */
  encodeInto(values: readonly StructValue[], target: Uint8Array, offset?: number): void;
}
