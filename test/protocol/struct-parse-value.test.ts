// Textual field values for the CLI: each text parses to the value type its field decodes to.

import { describe, expect, test } from "bun:test";
import {
  StructValueError,
  compileStruct,
  formatChars,
  parseValue,
  type StructValue,
} from "../../src/protocol/struct/index.ts";

const b = (...bytes: number[]) => new Uint8Array(bytes);

// [what it shows, char, text, size or undefined, value]
const PARSED: readonly (readonly [string, string, string, number | undefined, StructValue])[] = [
  ["a decimal int", "h", "-12", undefined, -12],
  ["a 0x-hex int", "H", "0xFFff", undefined, 65535],
  ["a negative hex int", "i", "-0x10", undefined, -16],
  ["surrounding spaces", "b", " 7 ", undefined, 7],
  ["a 64-bit char gives a bigint", "q", "-1", undefined, -1n],
  ["Q beyond 2**53 stays exact", "Q", "18446744073709551615", undefined, 18446744073709551615n],
  ["native l is 8 bytes, so a bigint", "l", "5", undefined, 5n],
  ["standard l is 4 bytes, so a number", "l", "5", 4, 5],
  ["P is a bigint", "P", "0x1000", undefined, 4096n],
  ["an unsafe integer for a small field stays exact, for the range error", "h", "9223372036854775808", undefined, 9223372036854775808n],
  ["bytes from UTF-8 text", "s", "aé", undefined, b(0x61, 0xc3, 0xa9)],
  ["bytes from hex:", "p", "hex:00ff61", undefined, b(0x00, 0xff, 0x61)],
  ["empty hex: is empty bytes", "s", "hex:", undefined, b()],
  ["one char for c", "c", "A", undefined, b(0x41)],
  ["true", "?", "true", undefined, true],
  ["True, as Python prints it", "?", "True", undefined, true],
  ["1 is true", "?", "1", undefined, true],
  ["false", "?", "false", undefined, false],
  ["0 is false", "?", "0", undefined, false],
  ["a decimal float", "d", "2.5", undefined, 2.5],
  ["an exponent float", "f", "-1.5e-5", undefined, -1.5e-5],
  ["a leading-dot float", "e", ".5", undefined, 0.5],
  ["an integral float", "d", "3", undefined, 3],
  ["nan", "d", "nan", undefined, NaN],
  ["inf", "f", "inf", undefined, Infinity],
  ["-inf", "e", "-inf", undefined, -Infinity],
  ["Infinity", "d", "+Infinity", undefined, Infinity],
];

// [what it shows, char, text]
const REFUSED: readonly (readonly [string, string, string])[] = [
  ["a float for an int", "h", "1.5"],
  ["words for an int", "i", "ten"],
  ["an empty int", "b", ""],
  ["hex without digits", "H", "0x"],
  ["a bool that is not one of the four", "?", "yes"],
  ["a float with junk", "d", "1.5x"],
  ["a hex float", "f", "0x10"],
  ["an empty float", "d", ""],
  ["hex: with a non-hex digit", "s", "hex:0g"],
  ["hex: with an odd digit count", "p", "hex:abc"],
  ["the pad char, which has no value", "x", "0"],
  ["an unknown char", "y", "1"],
];

describe("parseValue", () => {
  test.each(PARSED)("parses %s", (_what, char, text, size, expected) => {
    expect(parseValue(char, text, size)).toEqual(expected);
  });

  test.each(REFUSED)("refuses %s", (_what, char, text) => {
    expect(() => parseValue(char, text)).toThrow(StructValueError);
  });
});

describe("formatChars", () => {
  test("gives one char per tuple field: repeats expand, s and p are one field, pads and zero counts none", () => {
    expect(formatChars(compileStruct("<2h3sx?0i2x0s4p"))).toEqual(["h", "h", "s", "?", "s", "p"]);
  });

  test("zipped with parseValue, it yields values the codec encodes", () => {
    const codec = compileStruct("!2HqsId");
    const texts = ["1", "0x2", "-3", "hex:6162", "4", "2.5"];
    const values = formatChars(codec).map((char, i) => parseValue(char, texts[i]!, undefined));
    expect(Array.from(codec.encode(values))).toEqual([0, 1, 0, 2, ...new Array(7).fill(255), 253, 0x61, 0, 0, 0, 4, 0x40, 4, 0, 0, 0, 0, 0, 0]);
  });
});
