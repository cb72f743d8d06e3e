// Differential tests against CPython's struct module: random formats and values (seeded), packed
// and unpacked by both sides in a single python3 run.

import { beforeAll, describe, expect, test } from "bun:test";
import {
  compileStruct,
  formatChars,
  reprValues,
  type StructCodec,
  type StructValue,
} from "../../src/protocol/struct/index.ts";
import { PREFIXES, SEED, int, makeRng, pick, randomBytes, randomFormat, randomValue } from "./struct-gen.ts";
import {
  fromHex,
  hex,
  runPython,
  toPython,
  type PyCalcsizeResult,
  type PyJob,
  type PyPackResult,
  type PyUnpacked,
} from "./struct-python.ts";

const RECORD_CASES = 3000;
const RANDOM_BYTES_CASES = 2000;
const FUZZ_CASES = 3000;

interface RecordCase {
  readonly format: string;
  readonly codec: StructCodec;
  readonly values: StructValue[];
  readonly ours: Uint8Array;
}

function makeRecordCases(): RecordCase[] {
  const rng = makeRng(SEED);
  const cases: RecordCase[] = [];
  for (let n = 0; n < RECORD_CASES; n++) {
    const format = randomFormat(rng);
    const codec = compileStruct(format);
    const native = !"=<>!".includes(format[0] ?? "");
    const values: StructValue[] = [];
    for (const item of codec.items) {
      if (item.char === "x") continue;
      const repeats = item.char === "s" || item.char === "p" ? 1 : item.count;
      for (let k = 0; k < repeats; k++) values.push(randomValue(rng, item.char, item.count, native));
    }
    cases.push({ format, codec, values, ours: codec.encode(values) });
  }
  return cases;
}

function makeRandomBytesCases(): { format: string; data: Uint8Array }[] {
  const rng = makeRng(SEED + 1);
  return Array.from({ length: RANDOM_BYTES_CASES }, () => {
    const format = randomFormat(rng);
    return { format, data: randomBytes(rng, compileStruct(format).size) };
  });
}

// Strings over format chars, prefixes in any position, digits, whitespace and bad chars: CPython
// decides which are formats.
function makeFuzzFormats(): string[] {
  const rng = makeRng(SEED + 2);
  const alphabet = [..."xcbB?hHiIlLqQnNefdspP", ..."@=<>!", ..."0123456789", " ", "\t", "\n", "\x0b", "y", "Z", "+", "-", "."];
  return Array.from({ length: FUZZ_CASES }, () => {
    let out = rng() < 0.5 ? pick(rng, PREFIXES) : "";
    const length = int(rng, 0, 7);
    for (let i = 0; i < length; i++) out += pick(rng, alphabet);
    return out;
  });
}

function hasNaN(values: readonly StructValue[]): boolean {
  return values.some((v) => typeof v === "number" && Number.isNaN(v));
}

function pyRepr(unpacked: PyUnpacked | undefined): string {
  if (unpacked === undefined) return "<missing>";
  return unpacked.repr ?? `<${unpacked.error.type}: ${unpacked.error.message}>`;
}

const records = makeRecordCases();
const randomData = makeRandomBytesCases();
const fuzzFormats = makeFuzzFormats();
let packResults: PyPackResult[] = [];
let unpackResults: PyUnpacked[] = [];
let calcsizeResults: PyCalcsizeResult[] = [];

beforeAll(() => {
  const jobs: PyJob[] = [
    ...records.map((c): PyJob => {
      const chars = formatChars(c.codec);
      return { kind: "pack", fmt: c.format, values: c.values.map((v, i) => toPython(v, chars[i])), ours: hex(c.ours) };
    }),
    ...randomData.map((c): PyJob => ({ kind: "unpack", fmt: c.format, data: hex(c.data) })),
    ...fuzzFormats.map((fmt): PyJob => ({ kind: "calcsize", fmt })),
  ];
  const results = runPython(jobs);
  packResults = results.slice(0, records.length) as PyPackResult[];
  unpackResults = results.slice(records.length, records.length + randomData.length) as PyUnpacked[];
  calcsizeResults = results.slice(records.length + randomData.length) as PyCalcsizeResult[];
});

const where = (format: string) => `seed ${SEED}, format ${JSON.stringify(format)}`;

describe(`struct codec vs CPython (seed ${SEED})`, () => {
  test("decoding bytes CPython packed gives CPython's unpack repr, size and field count", () => {
    const mismatches: string[] = [];
    records.forEach((c, n) => {
      const py = packResults[n]!;
      if (py.packed === undefined) {
        mismatches.push(`${where(c.format)}: CPython refused generated values: ${py.error?.message}`);
        return;
      }
      const packed = fromHex(py.packed);
      const ours = reprValues(c.codec.decode(packed), formatChars(c.codec));
      const expected = pyRepr(py.unpacked);
      if (c.codec.size !== packed.length) mismatches.push(`${where(c.format)}: size ${c.codec.size}, CPython ${packed.length}`);
      if (ours !== expected) mismatches.push(`${where(c.format)}: decoded ${ours}, CPython ${expected}`);
      const fields = c.codec.decode(packed).length;
      if (fields !== c.codec.fieldCount) mismatches.push(`${where(c.format)}: fieldCount ${c.codec.fieldCount}, decoded ${fields}`);
    });
    expect(mismatches).toEqual([]);
  });

  test("encoding gives CPython's packed bytes, and CPython unpacks them to the same tuple", () => {
    const mismatches: string[] = [];
    records.forEach((c, n) => {
      const py = packResults[n]!;
      if (py.packed === undefined) return; // reported by the decoding test
      // A NaN's payload and sign are not observable in JS; for those records compare what
      // CPython reads back (repr 'nan') instead of the bits.
      if (!hasNaN(c.values) && hex(c.ours) !== py.packed) {
        mismatches.push(`${where(c.format)}: packed ${hex(c.ours)}, CPython ${py.packed}`);
      }
      if (pyRepr(py.oursUnpacked) !== pyRepr(py.unpacked)) {
        mismatches.push(`${where(c.format)}: CPython reads ours as ${pyRepr(py.oursUnpacked)}, its own as ${pyRepr(py.unpacked)}`);
      }
    });
    expect(mismatches).toEqual([]);
  });

  test("decoding at an offset inside a larger shared buffer reads only the record", () => {
    const rng = makeRng(SEED + 3);
    const mismatches: string[] = [];
    records.forEach((c, n) => {
      const packed = packResults[n]!.packed;
      if (packed === undefined) return;
      const record = fromHex(packed);
      // Garbage before and after, and a subarray that does not start at the buffer's start.
      const before = int(rng, 0, 9);
      const lead = int(rng, 0, 9);
      const big = randomBytes(rng, before + lead + record.length + 9);
      big.set(record, before + lead);
      const view = big.subarray(before);
      const got = reprValues(c.codec.decode(view, lead), formatChars(c.codec));
      const expected = reprValues(c.codec.decode(record), formatChars(c.codec));
      if (got !== expected) mismatches.push(`${where(c.format)}: at offset ${lead} of a subarray: ${got}, alone: ${expected}`);
    });
    expect(mismatches).toEqual([]);
  });

  test("encodeInto writes the record at an offset and leaves the neighbouring bytes alone", () => {
    const rng = makeRng(SEED + 4);
    const mismatches: string[] = [];
    for (const c of records) {
      const before = int(rng, 0, 9);
      const lead = int(rng, 0, 9);
      const big = randomBytes(rng, before + lead + c.codec.size + 9);
      const expected = new Uint8Array(big);
      expected.set(c.ours, before + lead);
      c.codec.encodeInto(c.values, big.subarray(before), lead);
      if (hex(big) !== hex(expected)) mismatches.push(`${where(c.format)}: ${hex(big)}, expected ${hex(expected)}`);
    }
    expect(mismatches).toEqual([]);
  });

  test("decoding random bytes (NaN payloads, odd bool bytes, overlong p lengths) matches CPython's repr", () => {
    const mismatches: string[] = [];
    randomData.forEach((c, n) => {
      const codec = compileStruct(c.format);
      const ours = reprValues(codec.decode(c.data), formatChars(codec));
      const expected = pyRepr(unpackResults[n]);
      if (ours !== expected) mismatches.push(`${where(c.format)}, data ${hex(c.data)}: ${ours}, CPython ${expected}`);
    });
    expect(mismatches).toEqual([]);
  });

  test("a fuzzed string compiles exactly when CPython accepts it, with the same size and field count", () => {
    const mismatches: string[] = [];
    let accepted = 0;
    fuzzFormats.forEach((format, n) => {
      const py = calcsizeResults[n]!;
      let codec: StructCodec | undefined;
      let ourError: unknown;
      try {
        codec = compileStruct(format);
      } catch (e) {
        ourError = e;
      }
      if (py.error !== undefined) {
        if (codec) mismatches.push(`${where(format)}: compiled, CPython: ${py.error.message}`);
        return;
      }
      accepted++;
      if (!codec) mismatches.push(`${where(format)}: rejected (${String(ourError)}), CPython size ${py.size}`);
      else if (codec.size !== py.size) mismatches.push(`${where(format)}: size ${codec.size}, CPython ${py.size}`);
      else if (py.fields != null && codec.fieldCount !== py.fields) {
        mismatches.push(`${where(format)}: fieldCount ${codec.fieldCount}, CPython ${py.fields}`);
      }
    });
    expect(mismatches).toEqual([]);
    // Both outcomes must be well represented, or this test proves little.
    expect(accepted).toBeGreaterThan(FUZZ_CASES / 5);
    expect(accepted).toBeLessThan(FUZZ_CASES * 0.8);
  });
});
