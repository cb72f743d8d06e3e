// One reader and one writer per format character, chosen once at compile time. Writers coerce and
// range-check like CPython 3.11's np_*/lp_*/bp_* functions, with the same messages, including its
// quirks: two bounds per integer type (the C long conversion, then the type's own range), wording
// that depends on the byte order, and "int too large to convert" whenever an int (here: a bigint)
// overflows.

import { StructValueError } from "./errors.ts";
import { NATIVE_LITTLE_ENDIAN } from "./format.ts";
import { doubleToHalfBits, halfBitsToDouble } from "./half.ts";
import type { StructValue } from "./types.ts";

/** Reads one value at absolute index `at` of the buffer that `view` and `u8` both cover. */
export type FieldReader = (view: DataView, u8: Uint8Array, at: number) => StructValue;
/** Writes one value at `at`; the bytes there are already zero. */
export type FieldWriter = (view: DataView, u8: Uint8Array, at: number, value: StructValue) => void;

export interface FieldCodec {
  readonly read: FieldReader;
  readonly write: FieldWriter;
}

const NOT_INTEGER = "required argument is not an integer";
const NOT_FLOAT = "required argument is not a float";
const OUT_OF_RANGE = "argument out of range";
const INT_OVERFLOW = "int too large to convert";
const SIGNED_CHARS = "bhilqn";

// C long conversion bounds (get_long / get_ulong): values beyond them never reach the type's own
// check. 2**63 and 2**64 are exact doubles, and number/bigint comparisons are exact in JS.
const SIGNED = { lo: -(2 ** 63), hiExclusive: 2 ** 63, message: OUT_OF_RANGE };
const UNSIGNED = { lo: 0, hiExclusive: 2 ** 64, message: OUT_OF_RANGE };
// PyLong_AsVoidPtr takes a negative long long or an unsigned long long.
const POINTER = { lo: -(2 ** 63), hiExclusive: 2 ** 64, message: INT_OVERFLOW };

interface IntRange {
  readonly outer: { readonly lo: number; readonly hiExclusive: number; readonly message: string };
  readonly min: number;
  readonly max: number;
  readonly message: string;
}

/**
 * CPython's integer checks differ by table. On a little-endian host the `<`/`=` table borrows the
 * native functions wherever the sizes agree (all but `l`/`L`), so it words errors like `@`; the
 * big-endian table has its own functions: "'h' format requires ...", an unsigned bound for `H`, and
 * "int too large to convert" for `q`/`Q`.
 */
function intRange(char: string, size: number, nativeFunctions: boolean): IntRange {
  const wide = { min: -Infinity, max: Infinity, message: "" };
  switch (char) {
    case "b": return { outer: SIGNED, min: -128, max: 127, message: "byte format requires -128 <= number <= 127" };
    case "B": return { outer: SIGNED, min: 0, max: 255, message: "ubyte format requires 0 <= number <= 255" };
    case "h": {
      const message = `${nativeFunctions ? "short" : "'h'"} format requires -32768 <= number <= 32767`;
      return { outer: SIGNED, min: -32768, max: 32767, message };
    }
    case "H":
      return nativeFunctions
        ? { outer: SIGNED, min: 0, max: 65535, message: "ushort format requires 0 <= number <= 65535" }
        : { outer: UNSIGNED, min: 0, max: 65535, message: "'H' format requires 0 <= number <= 65535" };
    case "P": return { outer: POINTER, ...wide };
  }
  const signed = SIGNED_CHARS.includes(char);
  if (size === 8) {
    const bounds = signed ? SIGNED : UNSIGNED;
    return { outer: nativeFunctions ? bounds : { ...bounds, message: INT_OVERFLOW }, ...wide };
  }
  return signed
    ? { outer: SIGNED, min: -(2 ** 31), max: 2 ** 31 - 1, message: `'${char}' format requires -2147483648 <= number <= 2147483647` }
    : { outer: UNSIGNED, min: 0, max: 2 ** 32 - 1, message: `'${char}' format requires 0 <= number <= 4294967295` };
}

function toInteger(value: StructValue, range: IntRange): number | bigint {
  let x: number | bigint;
  if (typeof value === "number") {
    if (!Number.isInteger(value)) throw new StructValueError(NOT_INTEGER);
    x = value;
  } else if (typeof value === "bigint") x = value;
  else if (typeof value === "boolean") x = value ? 1 : 0;
  else throw new StructValueError(NOT_INTEGER);
  if (x < range.outer.lo || x >= range.outer.hiExclusive) throw new StructValueError(range.outer.message);
  if (x < range.min || x > range.max) throw new StructValueError(range.message);
  return x;
}

function intField(char: string, size: number, le: boolean, nativeFunctions: boolean): FieldCodec {
  const range = intRange(char, size, nativeFunctions);
  const signed = SIGNED_CHARS.includes(char);
  const num = (v: StructValue) => Number(toInteger(v, range));
  const big = (v: StructValue) => BigInt(toInteger(v, range));
  switch (size) {
    case 1:
      return signed
        ? { read: (view, _u8, at) => view.getInt8(at), write: (view, _u8, at, v) => view.setInt8(at, num(v)) }
        : { read: (view, _u8, at) => view.getUint8(at), write: (view, _u8, at, v) => view.setUint8(at, num(v)) };
    case 2:
      return signed
        ? { read: (view, _u8, at) => view.getInt16(at, le), write: (view, _u8, at, v) => view.setInt16(at, num(v), le) }
        : { read: (view, _u8, at) => view.getUint16(at, le), write: (view, _u8, at, v) => view.setUint16(at, num(v), le) };
    case 4:
      return signed
        ? { read: (view, _u8, at) => view.getInt32(at, le), write: (view, _u8, at, v) => view.setInt32(at, num(v), le) }
        : { read: (view, _u8, at) => view.getUint32(at, le), write: (view, _u8, at, v) => view.setUint32(at, num(v), le) };
  }
  if (char === "P") {
    // Packs negative addresses two's-complement but always unpacks unsigned (PyLong_FromVoidPtr).
    return {
      read: (view, _u8, at) => view.getBigUint64(at, le),
      write: (view, _u8, at, v) => {
        const x = big(v);
        if (x < 0n) view.setBigInt64(at, x, le);
        else view.setBigUint64(at, x, le);
      },
    };
  }
  return signed
    ? { read: (view, _u8, at) => view.getBigInt64(at, le), write: (view, _u8, at, v) => view.setBigInt64(at, big(v), le) }
    : { read: (view, _u8, at) => view.getBigUint64(at, le), write: (view, _u8, at, v) => view.setBigUint64(at, big(v), le) };
}

function toDouble(value: StructValue): number {
  if (typeof value === "number") return value;
  if (typeof value === "boolean") return value ? 1 : 0;
  if (typeof value === "bigint") {
    // Both round to nearest-even; an int past the largest double is an OverflowError in CPython.
    const x = Number(value);
    if (!Number.isFinite(x)) throw new StructValueError(NOT_FLOAT);
    return x;
  }
  throw new StructValueError(NOT_FLOAT);
}

function overflow(value: StructValue, char: string): StructValueError {
  // s_pack_internal rewrites any OverflowError raised for an int argument.
  return new StructValueError(typeof value === "bigint" ? INT_OVERFLOW : `float too large to pack with ${char} format`);
}

function floatField(char: string, native: boolean, le: boolean): FieldCodec {
  if (char === "e") {
    return {
      read: (view, _u8, at) => halfBitsToDouble(view.getUint16(at, le)),
      write: (view, _u8, at, v) => {
        const bits = doubleToHalfBits(toDouble(v));
        if (bits < 0) throw overflow(v, "e");
        view.setUint16(at, bits, le);
      },
    };
  }
  if (char === "f") {
    return {
      read: (view, _u8, at) => view.getFloat32(at, le),
      write: (view, _u8, at, v) => {
        const x = toDouble(v);
        const y = Math.fround(x);
        // Native 'f' is a plain C cast in 3.11 (overflow gives inf); standard uses PyFloat_Pack4.
        if (!native && !Number.isFinite(y) && Number.isFinite(x)) throw overflow(v, "f");
        view.setFloat32(at, y, le);
      },
    };
  }
  return {
    read: (view, _u8, at) => view.getFloat64(at, le),
    write: (view, _u8, at, v) => view.setFloat64(at, toDouble(v), le),
  };
}

function bytesArg(value: StructValue, char: string): Uint8Array {
  if (value instanceof Uint8Array) return value;
  throw new StructValueError(`argument for '${char}' must be a bytes object`);
}

/** Python's truth value: NaN is true, -0.0 and b'' are false. */
function truthy(value: StructValue): boolean {
  if (typeof value === "number") return value !== 0;
  if (typeof value === "bigint") return value !== 0n;
  if (typeof value === "boolean") return value;
  return value.length > 0;
}

const EMPTY = new Uint8Array(0);

/** `s`: `count` bytes, zero-padded or truncated on encode. */
function stringField(count: number): FieldCodec {
  return {
    read: (_view, u8, at) => u8.slice(at, at + count),
    write: (_view, u8, at, v) => {
      const bytes = bytesArg(v, "s");
      u8.set(bytes.length <= count ? bytes : bytes.subarray(0, count), at);
    },
  };
}

/** `p`: a length byte, then up to count-1 bytes. */
function pascalField(count: number): FieldCodec {
  // CPython mishandles '0p' (unpack raises SystemError, pack writes a byte outside the field);
  // here it is an empty field, the only reading that stays inside the record.
  if (count === 0) return { read: () => EMPTY.slice(), write: (_view, _u8, _at, v) => void bytesArg(v, "p") };
  return {
    read: (_view, u8, at) => u8.slice(at + 1, at + 1 + Math.min(u8[at]!, count - 1)),
    write: (_view, u8, at, v) => {
      const bytes = bytesArg(v, "p");
      const n = Math.min(bytes.length, count - 1);
      u8.set(n === bytes.length ? bytes : bytes.subarray(0, n), at + 1);
      // The length byte saturates at 255 while up to count-1 bytes are still copied.
      u8[at] = Math.min(n, 255);
    },
  };
}

/** Reader and writer for one run's field; `x` has none. */
export function fieldCodec(char: string, count: number, itemSize: number, native: boolean, le: boolean): FieldCodec {
  switch (char) {
    case "s": return stringField(count);
    case "p": return pascalField(count);
    case "c":
      return {
        read: (_view, u8, at) => u8.slice(at, at + 1),
        write: (_view, u8, at, v) => {
          if (!(v instanceof Uint8Array) || v.length !== 1) {
            throw new StructValueError("char format requires a bytes object of length 1");
          }
          u8[at] = v[0]!;
        },
      };
    case "?":
      return { read: (_view, u8, at) => u8[at] !== 0, write: (_view, u8, at, v) => void (u8[at] = truthy(v) ? 1 : 0) };
    case "e": case "f": case "d":
      return floatField(char, native, le);
    default:
      return intField(char, itemSize, le, native || le === NATIVE_LITTLE_ENDIAN);
  }
}
