// Values CPython's struct.pack refuses must be refused with the same message (CPython's own
// message is checked in the test), and values it accepts, however odd, must pack to its bytes.

import { beforeAll, describe, expect, test } from "bun:test";
import {
  StructValueError,
  compileStruct,
  formatChars,
  type StructValue,
} from "../../src/protocol/struct/index.ts";
import { intSize } from "./struct-gen.ts";
import { hex, runPython, toPython, type PyJob, type PyPackResult } from "./struct-python.ts";

const bytes = (text: string) => new TextEncoder().encode(text);
const FLOAT_OVERFLOW = 3.4028235677973366e38;

// [what it shows, format, values, CPython's message]
const REFUSED: readonly (readonly [string, string, StructValue[], string])[] = [
  ["h above its range", "<h", [32768], "short format requires -32768 <= number <= 32767"],
  ["H below zero", "<H", [-1], "ushort format requires 0 <= number <= 65535"],
  ["b above its range", "b", [128], "byte format requires -128 <= number <= 127"],
  ["B above its range", "B", [256], "ubyte format requires 0 <= number <= 255"],
  ["big-endian h words its range differently", ">h", [32768], "'h' format requires -32768 <= number <= 32767"],
  ["big-endian H checks an unsigned long first", "!H", [-1], "argument out of range"],
  ["big-endian Q overflows as an int conversion", ">Q", [-1], "int too large to convert"],
  ["i above its range", "<i", [2 ** 31], "'i' format requires -2147483648 <= number <= 2147483647"],
  ["standard l is 4 bytes", "<l", [2 ** 31], "'l' format requires -2147483648 <= number <= 2147483647"],
  ["I below zero fails the unsigned long conversion first", "<I", [-1], "argument out of range"],
  ["I above its range", ">I", [2 ** 32], "'I' format requires 0 <= number <= 4294967295"],
  ["L above its range", "=L", [2 ** 32], "'L' format requires 0 <= number <= 4294967295"],
  ["h beyond a C long fails that conversion first", "<h", [2n ** 63n], "argument out of range"],
  ["q above its range", "<q", [2n ** 63n], "argument out of range"],
  ["Q below zero", "<Q", [-1n], "argument out of range"],
  ["native l above its range", "@l", [2n ** 63n], "argument out of range"],
  ["N above its range", "N", [2n ** 64n], "argument out of range"],
  ["P above its range", "P", [2n ** 64n], "int too large to convert"],
  ["P below its range", "P", [-(2n ** 63n) - 1n], "int too large to convert"],
  ["a fraction for an int", "h", [1.5], "required argument is not an integer"],
  ["NaN for an int", "q", [NaN], "required argument is not an integer"],
  ["bytes for an int", "i", [bytes("1")], "required argument is not an integer"],
  ["bytes for a float", "d", [bytes("1")], "required argument is not a float"],
  ["an int too large for any double", "d", [2n ** 1024n], "required argument is not a float"],
  ["a float rounding past the largest half", "<e", [65520], "float too large to pack with e format"],
  ["a huge float under native e", "@e", [1e300], "float too large to pack with e format"],
  ["an int too large for a half", "<e", [70000n], "int too large to convert"],
  ["a double rounding past FLT_MAX", "<f", [FLOAT_OVERFLOW], "float too large to pack with f format"],
  ["an int too large for a float", ">f", [2n ** 128n], "int too large to convert"],
  ["a number for s", "s", [1], "argument for 's' must be a bytes object"],
  ["a bool for p", "3p", [true], "argument for 'p' must be a bytes object"],
  ["two bytes for c", "c", [bytes("ab")], "char format requires a bytes object of length 1"],
  ["an int for c", "c", [65], "char format requires a bytes object of length 1"],
  ["too few values", "hh", [1], "pack expected 2 items for packing (got 1)"],
  ["a value for a pad", "3x", [0], "pack expected 0 items for packing (got 1)"],
  ["a value for an empty format", "", [1], "pack expected 0 items for packing (got 1)"],
  ["none for a string", "2s", [], "pack expected 1 items for packing (got 0)"],
  ["too many values", "2h", [1, 2, 3], "pack expected 2 items for packing (got 3)"],
];

// [what it shows, format, values]: CPython packs these.
const ACCEPTED: readonly (readonly [string, string, StructValue[]])[] = [
  ["native f has no overflow check (a C cast to inf)", "@f", [1e300]],
  ["a double just above FLT_MAX rounds down to it", "<f", [3.4028235e38]],
  ["65519.99 rounds down to the largest half", "<e", [65519.99]],
  ["NaN is true for ?", "?", [NaN]],
  ["-0.0 is false for ?", "?", [-0]],
  ["empty bytes are false for ?", "?", [new Uint8Array(0)]],
  ["True is an int", "<h", [true]],
  ["True is a float", "<e", [true]],
  ["a negative P packs two's complement", "P", [-1n]],
  ["a number can fill a 64-bit field", "<q", [-(2 ** 53)]],
  ["an int for d", "<d", [2n ** 1023n]],
  ["s truncates", "2s", [bytes("abc")]],
  ["s pads", "4s", [bytes("a")]],
  ["p caps the text at count-1", "5p", [bytes("abcdefg")]],
  ["p caps its length byte at 255", "300p", [new Uint8Array(299).fill(0x61)]],
];

// Every integer char under every prefix against the edges of both bounds CPython checks.
function boundarySweep(): [string, StructValue[]][] {
  const cases: [string, StructValue[]][] = [];
  const edges: StructValue[] = [
    -(2n ** 63n) - 1n, -(2n ** 63n), 2n ** 63n - 1n, 2n ** 63n, 2n ** 64n - 1n, 2n ** 64n, -(2 ** 63), 2 ** 64,
    0.5, NaN, Infinity, true, false, bytes("a"),
  ];
  for (const prefix of ["@", "=", "<", ">", "!"]) {
    const native = prefix === "@";
    for (const ch of native ? "bBhHiIlLqQnNP" : "bBhHiIlLqQ") {
      const bits = BigInt(intSize(ch, native) * 8);
      const signed = "bhilqn".includes(ch);
      const min = signed ? -(1n << (bits - 1n)) : 0n;
      const max = signed ? (1n << (bits - 1n)) - 1n : (1n << bits) - 1n;
      for (const v of [min - 1n, min, max, max + 1n, Number(min) - 1, Number(max) + 1, ...edges]) cases.push([prefix + ch, [v]]);
    }
    for (const ch of "efd") {
      for (const v of [65504, 65519.99, 65520, -65520, 1e300, 3.4028235e38, FLOAT_OVERFLOW, -FLOAT_OVERFLOW, 5e-324,
        2n ** 1023n, 2n ** 1024n, 70000n, -70000n, 2n ** 128n, true, NaN, Infinity, bytes("a")]) {
        cases.push([prefix + ch, [v]]);
      }
    }
  }
  return cases;
}

const SWEEP = boundarySweep();
const ALL: [string, StructValue[]][] = [
  ...REFUSED.map(([, f, v]): [string, StructValue[]] => [f, v]),
  ...ACCEPTED.map(([, f, v]): [string, StructValue[]] => [f, v]),
  ...SWEEP,
];
let python: PyPackResult[] = [];

beforeAll(() => {
  const jobs = ALL.map(([fmt, values]): PyJob => {
    const chars = formatChars(compileStruct(fmt));
    return { kind: "pack", fmt, values: values.map((v, i) => toPython(v, chars[i])) };
  });
  python = runPython(jobs) as PyPackResult[];
});

/** Our outcome in CPython's terms: the packed hex, or "error: <message>". */
function outcome(format: string, values: StructValue[]): string {
  try {
    return hex(compileStruct(format).encode(values));
  } catch (e) {
    if (!(e instanceof StructValueError)) throw e;
    return `error: ${e.message}`;
  }
}

const pyOutcome = (r: PyPackResult) => (r.error ? `error: ${r.error.message}` : r.packed!);

describe("encode refuses what CPython refuses, with its message", () => {
  test.each(REFUSED.map((row, n) => [...row, n] as const))("%s (%j)", (_what, format, values, message, n) => {
    expect(python[n]!.error?.message).toBe(message);
    expect(() => compileStruct(format).encode(values)).toThrow(new StructValueError(message));
  });

  test("encodeInto reports a wrong count as pack_into does", () => {
    expect(() => compileStruct("hh").encodeInto([1], new Uint8Array(4))).toThrow(
      new StructValueError("pack_into expected 2 items for packing (got 1)"),
    );
  });

  test("encodeInto refuses a target too short for the record at the offset", () => {
    expect(() => compileStruct("<h").encodeInto([1], new Uint8Array(10), 9)).toThrow(
      new StructValueError("pack_into requires a buffer of at least 11 bytes for packing 2 bytes at offset 9 (actual buffer size is 10)"),
    );
  });
});

describe("encode accepts what CPython accepts, with its bytes", () => {
  test.each(ACCEPTED.map((row, n) => [...row, n + REFUSED.length] as const))("%s (%j)", (_what, format, values, n) => {
    expect(python[n]!.packed).toBeDefined();
    expect(outcome(format, values)).toBe(python[n]!.packed!);
  });
});

test("every int and float char under every prefix agrees with CPython at its range edges and on wrong types", () => {
  const offset = REFUSED.length + ACCEPTED.length;
  const mismatches: string[] = [];
  let refused = 0;
  SWEEP.forEach(([format, values], n) => {
    const expected = pyOutcome(python[offset + n]!);
    if (expected.startsWith("error")) refused++;
    const ours = outcome(format, values);
    // NaN bits are not observable in JS; both must at least pack a NaN.
    if (ours !== expected && !(Number.isNaN(values[0]) && !expected.startsWith("error") && !ours.startsWith("error"))) {
      mismatches.push(`${format} ${String(values[0])}: ours ${ours}, CPython ${expected}`);
    }
  });
  expect(mismatches).toEqual([]);
  expect(refused).toBeGreaterThan(SWEEP.length / 4);
  expect(refused).toBeLessThan(SWEEP.length);
});
