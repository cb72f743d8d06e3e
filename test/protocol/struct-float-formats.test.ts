// The single-precision formats against CPython at every rounding boundary: random floats, the
// doubles exactly between adjacent floats and next to those midpoints, up to and past overflow.

import { beforeAll, expect, test } from "bun:test";
import { compileStruct } from "../../src/protocol/struct/index.ts";
import { SEED, makeRng } from "./struct-gen.ts";
import { differences, neighbours, packEach } from "./struct-floats.ts";
import { doubleHex, fromHex, runPython } from "./struct-python.ts";

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

const floatInputs = floatEncodeInputs();
let python: unknown[] = [];

// Some 80,000 values through CPython, twice: seconds alone, longer on a loaded machine.
beforeAll(() => {
  python = runPython([
    { kind: "packEach", fmt: ">f", values: floatInputs.map((x) => ["f", doubleHex(x)] as const) },
    { kind: "packEach", fmt: "@f", values: floatInputs.map((x) => ["f", doubleHex(x)] as const) },
  ]);
}, 120_000);

test("standard f rounds like a C cast and refuses what rounds to infinity, like CPython", () => {
  const ours = packEach(">f", floatInputs);
  expect(differences(">f", floatInputs, ours, python[0] as string[])).toEqual([]);
  expect(ours.filter((o) => o.startsWith("error")).length).toBeGreaterThan(0);
});

test("native f turns what would overflow into infinity instead of refusing it, like CPython 3.11", () => {
  const ours = packEach("@f", floatInputs);
  expect(differences("@f", floatInputs, ours, python[1] as string[])).toEqual([]);
  expect(ours).toContain("0000807f");
  expect(fromHex("0000807f")).toEqual(compileStruct("@f").encode([1e300]));
});
