// Formats CPython rejects must fail to compile with a StructFormatError that names the offending
// character and its position; formats it accepts in surprising ways must compile the same way.

import { beforeAll, describe, expect, test } from "bun:test";
import { StructFormatError, calcsize, compileStruct } from "../../src/protocol/struct/index.ts";
import { runPython, type PyCalcsizeResult } from "./struct-python.ts";

// [what it shows, format, position, char]
const REJECTED: readonly (readonly [string, string, number, string])[] = [
  ["an unknown char", "! I y", 4, "y"],
  ["an unknown char right after the prefix", "<Z", 1, "Z"],
  ["n under a standard prefix", "<n", 1, "n"],
  ["N under network order", "!N", 1, "N"],
  ["P under '='", "=hP", 2, "P"],
  ["a count without a char at the end", "<2h3", 3, "3"],
  ["a lone count", "12", 0, "1"],
  ["whitespace between a count and its char", "2 h", 1, " "],
  ["a tab between a count and its char", "<h3\ti", 3, "\t"],
  ["a byte-order char after the first position", "<h>h", 2, ">"],
  ["a byte-order char after leading whitespace", " <h", 1, "<"],
  ["a second prefix", "@@h", 1, "@"],
  ["a sign before a count", "-1h", 0, "-"],
  ["an embedded NUL", "h\0h", 1, "\0"],
  ["a non-ASCII space", "\u2003h", 0, "\u2003"],
  ["a non-ASCII char after valid items", "hh\u00e9", 2, "\u00e9"],
  ["a control char that is not whitespace", "h\x1c", 1, "\x1c"],
  ["a size beyond any buffer", "99999999999999999999h", 20, "h"],
];

// [what it shows, format]: CPython accepts all of these.
const ACCEPTED: readonly (readonly [string, string])[] = [
  ["a zero count still aligns ('b0i' is 4 bytes)", "b0i"],
  ["no trailing padding after the last item", "ib"],
  ["no alignment under '='", "=bi"],
  ["whitespace after the prefix", "< h"],
  ["vertical tab and form feed as whitespace", "\x0bh\x0ci"],
  ["leading zeros in a count", "02h00q"],
  ["a lone prefix", "<"],
  ["an empty format", ""],
  ["pads only", "x3x"],
  ["a zero-length string", "@b0sI"],
];

let rejectedByPython: PyCalcsizeResult[] = [];
let acceptedByPython: PyCalcsizeResult[] = [];

beforeAll(() => {
  const results = runPython([...REJECTED, ...ACCEPTED].map(([, fmt]) => ({ kind: "calcsize" as const, fmt })));
  rejectedByPython = results.slice(0, REJECTED.length) as PyCalcsizeResult[];
  acceptedByPython = results.slice(REJECTED.length) as PyCalcsizeResult[];
});

describe("rejected formats", () => {
  test.each(REJECTED.map((row, n) => [...row, n] as const))(
    "%s (%j) throws StructFormatError at the offending char",
    (_what, format, position, char, n) => {
      expect(rejectedByPython[n]!.error).toBeDefined();
      let caught: unknown;
      try {
        compileStruct(format);
      } catch (e) {
        caught = e;
      }
      expect(caught).toBeInstanceOf(StructFormatError);
      const error = caught as StructFormatError;
      expect({ position: error.position, char: error.char }).toEqual({ position, char });
      expect(error.message).toContain(`at position ${position} in struct format`);
      expect(() => calcsize(format)).toThrow(StructFormatError);
    },
  );

  test("the message names the char, its position and the format", () => {
    expect(() => compileStruct("! I y")).toThrow("bad char 'y' at position 4 in struct format '! I y'");
    expect(() => compileStruct("<2h3")).toThrow("repeat count '3' given without format specifier at position 3");
    expect(() => compileStruct("h\0")).toThrow("embedded null character at position 1 in struct format 'h\\x00'");
  });
});

describe("accepted formats", () => {
  test.each(ACCEPTED.map((row, n) => [...row, n] as const))("%s (%j) has CPython's size and field count", (_what, format, n) => {
    const py = acceptedByPython[n]!;
    const codec = compileStruct(format);
    expect({ size: codec.size, fields: codec.fieldCount }).toEqual({ size: py.size!, fields: py.fields! });
  });
});
