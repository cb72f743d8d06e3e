// Python's repr() of a decoded tuple. JS numbers do not say whether they came from an integer or
// a float format, so callers that know the format pass its per-field chars (formatChars): without
// them an integral number prints as an int, which is wrong for a float field holding 2.0.

import { bytesRepr } from "../repr.ts";
import type { StructValue } from "./types.ts";

const FLOAT_CHARS = "efd";

/**
 * Python's float repr: the shortest digits that round-trip (JS finds the same ones), laid out as
 * float_repr_style 'short' does: exponent form when the decimal exponent is < -4 or >= 16, with a
 * sign and at least two exponent digits; otherwise positional with at least one decimal.
 */
export function floatRepr(x: number): string {
  if (Number.isNaN(x)) return "nan";
  if (x === Infinity) return "inf";
  if (x === -Infinity) return "-inf";
  if (x === 0) return Object.is(x, -0) ? "-0.0" : "0.0";
  const sign = x < 0 ? "-" : "";
  // toExponential() without an argument gives the shortest round-trip digits: "d.ddde±x".
  const [mantissa = "", exponentText = ""] = Math.abs(x).toExponential().split("e");
  const digits = mantissa.replace(".", "");
  const exponent = Number(exponentText);
  if (exponent < -4 || exponent >= 16) {
    const lead = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    const magnitude = String(Math.abs(exponent)).padStart(2, "0");
    return `${sign}${lead}e${exponent < 0 ? "-" : "+"}${magnitude}`;
  }
  if (exponent < 0) return `${sign}0.${"0".repeat(-exponent - 1)}${digits}`;
  if (digits.length <= exponent + 1) return `${sign}${digits}${"0".repeat(exponent + 1 - digits.length)}.0`;
  return `${sign}${digits.slice(0, exponent + 1)}.${digits.slice(exponent + 1)}`;
}

/**
 * Python's repr of one value. `char` is its format character; without it a number prints as an
 * int when it is integral (and not -0), as a float otherwise.
 */
export function reprValue(v: StructValue, char?: string): string {
  if (typeof v === "boolean") return v ? "True" : "False";
  if (typeof v === "bigint") return v.toString();
  if (v instanceof Uint8Array) return bytesRepr(v);
  const isFloat = char === undefined ? !Number.isInteger(v) || Object.is(v, -0) : FLOAT_CHARS.includes(char);
  if (isFloat || !Number.isInteger(v)) return floatRepr(v);
  // BigInt keeps every digit of integral numbers beyond 2**53, where String() switches to 1e+21.
  return Number.isSafeInteger(v) ? String(v) : BigInt(v).toString();
}

/** Python's repr of the tuple: "(1, b'ab', 2.5)", "(1,)" for one value, "()" for none. */
export function reprValues(values: readonly StructValue[], chars?: readonly string[]): string {
  if (values.length === 1) return `(${reprValue(values[0]!, chars?.[0])},)`;
  return `(${values.map((v, i) => reprValue(v, chars?.[i])).join(", ")})`;
}
