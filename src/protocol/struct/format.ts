// Parsing a Python `struct` format into placed items, following CPython 3.11's prepare_s() and
// align() (Modules/_struct.c), so that sizes, offsets and the rejected formats agree with it.

import { StructFormatError, quote } from "./errors.ts";

/** One `<count><char>` run of a format, already placed in the record. */
export interface FormatItem {
  readonly char: string;
  /** Repeat count; for `s` and `p` the byte length of the one field. */
  readonly count: number;
  /** Bytes per repetition. */
  readonly itemSize: number;
  /** Byte offset of the first repetition, after native alignment. */
  readonly offset: number;
  /** Index of `char` in the format string. */
  readonly position: number;
}

export interface ParsedFormat {
  readonly format: string;
  /** `@` (or no prefix): native sizes and C alignment. */
  readonly native: boolean;
  readonly littleEndian: boolean;
  /** Every run, including pads and zero counts: a zero count still aligns (`'b0i'` is 4 bytes). */
  readonly items: readonly FormatItem[];
  readonly size: number;
  readonly fieldCount: number;
}

/** True on this host; `@` and `=` use it. */
export const NATIVE_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

// Standard sizes (`= < > !`). `n N P` have no standard size, so CPython rejects them there.
const STANDARD_SIZES: Readonly<Record<string, number>> = {
  x: 1, c: 1, b: 1, B: 1, "?": 1, h: 2, H: 2, i: 4, I: 4, l: 4, L: 4, q: 8, Q: 8,
  e: 2, f: 4, d: 8, s: 1, p: 1,
};

// Native sizes of the LP64 ABI (x86_64/aarch64 Linux and macOS), where CPython's alignment of
// every numeric type equals its size.
const NATIVE_SIZES: Readonly<Record<string, number>> = {
  ...STANDARD_SIZES, l: 8, L: 8, n: 8, N: 8, P: 8,
};

// Py_ISSPACE: ASCII whitespace only; anything wider (NBSP, U+2003) is a bad char, as in CPython.
const SPACES = " \t\n\r\x0b\x0c";

function isDigit(ch: string): boolean {
  return ch >= "0" && ch <= "9";
}

/** Parses and places `format`; throws StructFormatError where CPython raises struct.error. */
/**
 * How many values of the tuple an item carries: a pad byte none; `s` and `p` one (their count is a
 * length); any other char `count` of them. The one place this rule lives.
 */
export function valueCount(item: Pick<FormatItem, "char" | "count">): number {
  return item.char === "x" ? 0 : item.char === "s" || item.char === "p" ? 1 : item.count;
}

export function parseFormat(format: string): ParsedFormat {
  // CPython checks for NUL before parsing (strlen against the byte length).
  const nul = format.indexOf("\0");
  if (nul >= 0) throw new StructFormatError("embedded null character", format, nul, "\0");

  let i = 0;
  let native = true;
  let littleEndian = NATIVE_LITTLE_ENDIAN;
  // Only the first character can choose byte order; elsewhere `<` is a bad char.
  switch (format[0]) {
    case "@": i = 1; break;
    case "=": i = 1; native = false; break;
    case "<": i = 1; native = false; littleEndian = true; break;
    case ">": case "!": i = 1; native = false; littleEndian = false; break;
  }
  const sizes = native ? NATIVE_SIZES : STANDARD_SIZES;

  const items: FormatItem[] = [];
  let size = 0;
  let fieldCount = 0;
  while (i < format.length) {
    const start = i;
    let ch = format[i]!;
    if (SPACES.includes(ch)) {
      i++;
      continue;
    }
    let count = 1;
    if (isDigit(ch)) {
      count = 0;
      while (i < format.length && isDigit(format[i]!)) count = count * 10 + (format.charCodeAt(i++) - 48);
      // Whitespace is not skipped here: in '2 h' the space is the format char, a bad one.
      if (i >= format.length) {
        const digits = format.slice(start);
        throw new StructFormatError(`repeat count ${quote(digits)} given without format specifier`, format, start, format[start]!);
      }
      ch = format[i]!;
    }
    const codePoint = format.codePointAt(i)!;
    if (codePoint > 0xffff) ch = String.fromCodePoint(codePoint);
    const itemSize = Object.hasOwn(sizes, ch) ? sizes[ch]! : undefined;
    if (itemSize === undefined) throw new StructFormatError(`bad char ${quote(ch)}`, format, i, ch);
    if (native && itemSize > 1) size = Math.ceil(size / itemSize) * itemSize;
    // CPython's bound is PY_SSIZE_T_MAX; ours is exact integer arithmetic on doubles.
    if (count * itemSize > Number.MAX_SAFE_INTEGER - size) {
      throw new StructFormatError(`total struct size too long at ${quote(ch)}`, format, i, ch);
    }
    const item = { char: ch, count, itemSize, offset: size, position: i };
    items.push(item);
    size += count * itemSize;
    fieldCount += valueCount(item);
    i += ch.length;
  }
  return { format, native, littleEndian, items, size, fieldCount };
}

/** Python's `struct.calcsize(format)`. */
export function calcsize(format: string): number {
  return parseFormat(format).size;
}
