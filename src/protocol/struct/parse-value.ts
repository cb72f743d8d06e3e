import { valueCount } from "./format.ts";
// Textual values for a command line (`--values 1,ab,2`): one text per tuple field, parsed by the
// field's format character into the value type that field's decoder produces.

import { StructValueError, quote } from "./errors.ts";
import type { StructCodec, StructValue } from "./types.ts";

const INTEGER = /^([+-]?)(?:0[xX]([0-9a-fA-F]+)|([0-9]+))$/;
const DECIMAL = /^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/;
const SPECIAL = /^([+-]?)(nan|inf|infinity)$/i;
const HEX_BYTES = /^hex:((?:[0-9a-fA-F]{2})*)$/;

// Byte sizes under `@`, the default prefix; only `l` and `L` differ from standard sizes.
const NATIVE_INT_SIZES: Readonly<Record<string, number>> = {
  b: 1, B: 1, h: 2, H: 2, i: 4, I: 4, l: 8, L: 8, q: 8, Q: 8, n: 8, N: 8, P: 8,
};

function invalid(char: string, text: string, expected: string): StructValueError {
  return new StructValueError(`invalid value ${quote(text)} for '${char}' field: expected ${expected}`);
}

function parseInteger(char: string, text: string, size: number): number | bigint {
  const m = INTEGER.exec(text.trim());
  if (!m) throw invalid(char, text, "a decimal or 0x-hex integer");
  const magnitude = m[2] !== undefined ? BigInt(`0x${m[2]}`) : BigInt(m[3]!);
  const value = m[1] === "-" ? -magnitude : magnitude;
  // Out-of-range texts stay exact so that encode reports the range CPython would.
  if (size === 8 || value > BigInt(Number.MAX_SAFE_INTEGER) || value < -BigInt(Number.MAX_SAFE_INTEGER)) return value;
  return Number(value);
}

function parseFloatText(char: string, text: string): number {
  const t = text.trim();
  const special = SPECIAL.exec(t);
  if (special) return special[2]!.toLowerCase() === "nan" ? NaN : special[1] === "-" ? -Infinity : Infinity;
  if (!DECIMAL.test(t)) throw invalid(char, text, "a number, nan or inf");
  return Number(t);
}

function parseBytes(char: string, text: string): Uint8Array {
  if (!text.startsWith("hex:")) return new TextEncoder().encode(text);
  // A mistyped hex value must not silently go out as the literal text "hex:...".
  const m = HEX_BYTES.exec(text);
  if (!m) throw invalid(char, text, "an even number of hex digits after 'hex:'");
  return Uint8Array.from(m[1]!.match(/../g) ?? [], (pair) => parseInt(pair, 16));
}

/**
 * Parses one field's text for format char `char`. `size` is the field's byte size (from the
 * codec's items); it only matters for `l`/`L`, which are 8-byte bigints under `@` (the default)
 * and 4-byte numbers under `= < > !`.
 */
export function parseValue(char: string, text: string, size?: number): StructValue {
  switch (char) {
    case "s": case "p": case "c":
      return parseBytes(char, text);
    case "?": {
      const t = text.trim().toLowerCase();
      if (t === "true" || t === "1") return true;
      if (t === "false" || t === "0") return false;
      throw invalid(char, text, "true, false, 1 or 0");
    }
    case "e": case "f": case "d":
      return parseFloatText(char, text);
  }
  const nativeSize = Object.hasOwn(NATIVE_INT_SIZES, char) ? NATIVE_INT_SIZES[char] : undefined;
  if (nativeSize === undefined) throw new StructValueError(`'${char}' is not a value-carrying struct format char`);
  return parseInteger(char, text, size ?? nativeSize);
}

/** The format char of each tuple field, in order (`'2h3sx?'` -> h, h, s, ?), to zip with texts. */
export function formatChars(codec: StructCodec): string[] {
  const chars: string[] = [];
  for (const item of codec.items) for (let k = valueCount(item); k > 0; k--) chars.push(item.char);
  return chars;
}
