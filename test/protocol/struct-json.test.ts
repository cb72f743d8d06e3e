// The JSON form of decoded values: everything JSON.stringify would lose or refuse becomes a string.

import { expect, test } from "bun:test";
import { jsonValues, type StructValue } from "../../src/protocol/struct/index.ts";

const MAX = Number.MAX_SAFE_INTEGER;

// [what it shows, value, JSON form]
const CASES: readonly (readonly [string, StructValue, unknown])[] = [
  ["bytes become lowercase hex", new Uint8Array([0x00, 0xab, 0xff]), "00abff"],
  ["empty bytes become an empty string", new Uint8Array(0), ""],
  ["a bigint up to 2**53-1 becomes a number", BigInt(MAX), MAX],
  ["a bigint down to -(2**53-1) becomes a number", -BigInt(MAX), -MAX],
  ["a bigint of 2**53 becomes a decimal string", BigInt(MAX) + 1n, "9007199254740992"],
  ["a bigint below -(2**53-1) becomes a decimal string", -BigInt(MAX) - 1n, "-9007199254740992"],
  ["the largest u64 becomes a decimal string", 18446744073709551615n, "18446744073709551615"],
  ["NaN becomes 'nan'", NaN, "nan"],
  ["Infinity becomes 'inf'", Infinity, "inf"],
  ["-Infinity becomes '-inf'", -Infinity, "-inf"],
  ["finite numbers stay numbers", 2.5, 2.5],
  ["booleans stay booleans", true, true],
];

test.each(CASES)("%s", (_what, value, expected) => {
  expect(jsonValues([value])).toEqual([expected]);
});

test("the result survives JSON.stringify, which throws on bigints and nulls NaN", () => {
  const values: StructValue[] = [1n, 2n ** 64n, NaN, -Infinity, new Uint8Array([1]), false];
  expect(JSON.stringify(jsonValues(values))).toBe('[1,"18446744073709551616","nan","-inf","01",false]');
});
