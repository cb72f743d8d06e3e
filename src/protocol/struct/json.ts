// A JSON form of decoded values, for machine-readable output. JSON has no bytes, bigints, NaN or
// infinities, so those become strings; what stays a number is exactly representable.

import type { StructValue } from "./types.ts";

const HEX = "0123456789abcdef";

function hex(bytes: Uint8Array): string {
  let out = "";
  for (const b of bytes) out += HEX[b >> 4]! + HEX[b & 15]!;
  return out;
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** One value: bytes -> lowercase hex, unsafe bigints -> decimal strings, NaN/±Infinity -> "nan"/"inf"/"-inf". */
export function jsonValue(v: StructValue): unknown {
  if (v instanceof Uint8Array) return hex(v);
  if (typeof v === "bigint") return v <= MAX_SAFE && v >= -MAX_SAFE ? Number(v) : v.toString();
  if (typeof v === "number" && !Number.isFinite(v)) return Number.isNaN(v) ? "nan" : v > 0 ? "inf" : "-inf";
  return v;
}

export function jsonValues(values: readonly StructValue[]): unknown[] {
  return values.map(jsonValue);
}
