// Python's repr of decoded tuples: float layout, tuple shapes, and the per-field chars that keep
// 2.0 from printing as 2.

import { beforeAll, describe, expect, test } from "bun:test";
import { floatRepr, reprValue, reprValues, type StructValue } from "../../src/protocol/struct/index.ts";
import { SEED, int, makeRng, randomDouble } from "./struct-gen.ts";
import { doubleHex, runPython } from "./struct-python.ts";

const FLOATS: readonly (readonly [number, string])[] = [
  [2, "2.0"],
  [0.5, "0.5"],
  [0.0001, "0.0001"],
  [0.00015, "0.00015"],
  [1e-5, "1e-05"],
  [1.5e-5, "1.5e-05"],
  [1e-7, "1e-07"],
  [123456789012345.0, "123456789012345.0"],
  [1e15, "1000000000000000.0"],
  [9999999999999998, "9999999999999998.0"],
  [1e16, "1e+16"],
  [1.2345e16, "1.2345e+16"],
  [1e21, "1e+21"],
  [1e100, "1e+100"],
  [1.7976931348623157e308, "1.7976931348623157e+308"],
  [5e-324, "5e-324"],
  [0.1, "0.1"],
  [1 / 3, "0.3333333333333333"],
  [-2.5, "-2.5"],
  [-1e-5, "-1e-05"],
  [0, "0.0"],
  [-0, "-0.0"],
  [Infinity, "inf"],
  [-Infinity, "-inf"],
  [NaN, "nan"],
];

function reprCandidates(): number[] {
  const rng = makeRng(SEED + 6);
  const out: number[] = [];
  for (let n = 0; n < 4000; n++) out.push(randomDouble(rng));
  // Short decimals around every exponent where the layout could switch.
  for (let exp = -30; exp <= 30; exp++) {
    for (const mantissa of [1, 9, 15, 123456789, int(rng, 1, 999999)]) out.push(Number(`${mantissa}e${exp}`), -Number(`${mantissa}e${exp}`));
    out.push(10 ** exp, 10 ** exp * (1 - 2 ** -52), 10 ** exp * (1 + 2 ** -52));
  }
  return out;
}

const candidates = reprCandidates();
let pythonReprs: string[] = [];

beforeAll(() => {
  pythonReprs = runPython([{ kind: "reprFloats", values: candidates.map(doubleHex) }])[0] as string[];
});

describe("floatRepr", () => {
  test.each(FLOATS)("%p prints as Python's %s", (x, expected) => {
    expect(floatRepr(x)).toBe(expected);
  });

  test("random doubles and short decimals at every exponent print as CPython's repr", () => {
    const mismatches = candidates.flatMap((x, i) => (floatRepr(x) === pythonReprs[i] ? [] : [`${x}: ${floatRepr(x)}, CPython ${pythonReprs[i]}`]));
    expect(mismatches).toEqual([]);
  });
});

const b = (text: string) => new TextEncoder().encode(text);

// [what it shows, values, chars or undefined, Python's repr]
const TUPLES: readonly (readonly [string, StructValue[], string[] | undefined, string])[] = [
  ["the brief's example", [1, b("ab"), 2, 3, 3, 2.5], undefined, "(1, b'ab', 2, 3, 3, 2.5)"],
  ["one value keeps the trailing comma", [1], undefined, "(1,)"],
  ["no values", [], undefined, "()"],
  ["bools are capitalised", [true, false], undefined, "(True, False)"],
  ["bigints print every digit", [18446744073709551615n, -9223372036854775808n], undefined, "(18446744073709551615, -9223372036854775808)"],
  ["bytes use Python's quoting", [b("it's"), b('"\\\n\x00\xff')], undefined, `(b"it's", b'"\\\\\\n\\x00\\xc3\\xbf')`],
  ["a float field holding an integral value", [2, 2], ["h", "d"], "(2, 2.0)"],
  ["a half field holding zero", [0], ["e"], "(0.0,)"],
  ["without chars, -0 is a float", [-0], undefined, "(-0.0,)"],
  ["an int field never prints -0", [-0], ["i"], "(0,)"],
];

describe("reprValues", () => {
  test.each(TUPLES)("%s", (_what, values, chars, expected) => {
    expect(reprValues(values, chars)).toBe(expected);
  });

  test("an integral number beyond 2**53 prints all its digits, not 1e+21", () => {
    expect(reprValue(1e21)).toBe("1000000000000000000000");
    expect(reprValue(1e21, "d")).toBe("1e+21");
  });
});
