// The float formats against CPython at every rounding boundary: all 65536 halves decoded, and the
// doubles on, next to and exactly between adjacent halves and floats encoded.

import { beforeAll, expect, test } from "bun:test";
import { compileStruct, formatChars, reprValues } from "../../src/protocol/struct/index.ts";
import { SEED, makeRng } from "./struct-gen.ts";
import { doubleHex, fromHex, hex, runPython, type PyUnpacked } from "./struct-python.ts";

const halfCodec = compileStruct("<e");

function halfValue(bits: number): number {
  return halfCodec.decode(new Uint8Array([bits & 0xff, bits >> 8]))[0] as number;
}

/** The neighbouring doubles of a positive finite x (one ulp down and up). */
function neighbours(x: number): [number, number] {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const bits = view.getBigUint64(0);
  view.setBigUint64(0, bits - 1n);
  const down = view.getFloat64(0);
  view.setBigUint64(0, bits + 1n);
  return [down, view.getFloat64(0)];
}

// Every positive finite half, the midpoint to the next one (2**16 past the largest), and the
// doubles one ulp either side of that midpoint; then the same negated.
function halfEncodeInputs(): number[] {
  const out: number[] = [];
  for (let bits = 0; bits < 0x7c00; bits++) {
    const value = halfValue(bits);
    const next = bits === 0x7bff ? 65536 : halfValue(bits + 1);
    const mid = (value + next) / 2;
    out.push(value, mid, ...neighbours(mid));
  }
  return [...out, ...out.map((x) => -x), 2 ** -26, 2 ** -30, 1e-300, 5e-324];
}

// Random floats, their midpoints to the next float, and the doubles next to those midpoints,
// up to and past the overflow threshold.
function floatEncodeInputs(): number[] {
  const rng = makeRng(SEED + 5);
  const view = new DataView(new ArrayBuffer(4));
  const out: number[] = [];
  for (let n = 0; n < 20000; n++) {
    const bits = Math.floor(rng() * 0x7f800000);
    view.setUint32(0, bits);
    const value = view.getFloat32(0);
    view.setUint32(0, bits + 1);
    const next = bits + 1 === 0x7f800000 ? 2 ** 128 : view.getFloat32(0);
    const mid = (value + next) / 2;
    const sign = rng() < 0.5 ? -1 : 1;
    out.push(sign * value, sign * mid, ...neighbours(mid).map((x) => sign * x));
  }
  const flt_max = 3.4028234663852886e38;
  const threshold = (flt_max + 2 ** 128) / 2;
  return [...out, flt_max, threshold, ...neighbours(threshold), 2 ** 128, 1e300, -1e300, 1e-46, 7e-46, 5e-324];
}

const allHalves = new Uint8Array(65536 * 2);
for (let bits = 0; bits < 65536; bits++) allHalves.set([bits & 0xff, bits >> 8], bits * 2);
const halfInputs = halfEncodeInputs();
const floatInputs = floatEncodeInputs();
let python: unknown[] = [];

// Some 330,000 values through CPython: seconds alone, much longer on a machine loaded by other work.
beforeAll(() => {
  python = runPython([
    { kind: "unpack", fmt: "<65536e", data: hex(allHalves) },
    { kind: "packEach", fmt: "<e", values: halfInputs.map((x) => ["f", doubleHex(x)] as const) },
    { kind: "packEach", fmt: ">f", values: floatInputs.map((x) => ["f", doubleHex(x)] as const) },
    { kind: "packEach", fmt: "@f", values: floatInputs.map((x) => ["f", doubleHex(x)] as const) },
  ]);
}, 120_000);

function packEach(format: string, inputs: readonly number[]): string[] {
  const codec = compileStruct(format);
  return inputs.map((x) => {
    try {
      return hex(codec.encode([x]));
    } catch (e) {
      return `error: ${(e as Error).message}`;
    }
  });
}

function differences(format: string, inputs: readonly number[], ours: string[], theirs: string[]): string[] {
  return inputs.flatMap((x, i) => (ours[i] === theirs[i] ? [] : [`${format} ${x}: ours ${ours[i]}, CPython ${theirs[i]}`]));
}

test("all 65536 half bit patterns decode to CPython's values (subnormals, both zeros, inf, NaN)", () => {
  const codec = compileStruct("<65536e");
  const expected = python[0] as PyUnpacked;
  expect(reprValues(codec.decode(allHalves), formatChars(codec))).toBe(expected.repr!);
});

test("e rounds every half boundary to even and refuses what rounds past 65504, like CPython", () => {
  const ours = packEach("<e", halfInputs);
  expect(differences("<e", halfInputs, ours, python[1] as string[])).toEqual([]);
  expect(ours.filter((o) => o.startsWith("error")).length).toBeGreaterThan(0);
});

test("standard f rounds like a C cast and refuses what rounds to infinity, like CPython", () => {
  const ours = packEach(">f", floatInputs);
  expect(differences(">f", floatInputs, ours, python[2] as string[])).toEqual([]);
  expect(ours.filter((o) => o.startsWith("error")).length).toBeGreaterThan(0);
});

test("native f turns what would overflow into infinity instead of refusing it, like CPython 3.11", () => {
  const ours = packEach("@f", floatInputs);
  expect(differences("@f", floatInputs, ours, python[3] as string[])).toEqual([]);
  expect(ours).toContain("0000807f");
  expect(fromHex("0000807f")).toEqual(compileStruct("@f").encode([1e300]));
});
