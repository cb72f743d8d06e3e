// The half-precision format against CPython at every rounding boundary: all 65536 halves decoded,
// and the doubles on, next to and exactly between adjacent halves encoded.

import { beforeAll, expect, test } from "bun:test";
import { compileStruct, formatChars, reprValues } from "../../src/protocol/struct/index.ts";
import { differences, neighbours, packEach } from "./struct-floats.ts";
import { doubleHex, hex, runPython, type PyUnpacked } from "./struct-python.ts";

const halfCodec = compileStruct("<e");

function halfValue(bits: number): number {
  return halfCodec.decode(new Uint8Array([bits & 0xff, bits >> 8]))[0] as number;
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

const allHalves = new Uint8Array(65536 * 2);
for (let bits = 0; bits < 65536; bits++) allHalves.set([bits & 0xff, bits >> 8], bits * 2);
const halfInputs = halfEncodeInputs();
let python: unknown[] = [];

// Some 250,000 values through CPython: seconds alone, much longer on a machine loaded by other work.
beforeAll(() => {
  python = runPython([
    { kind: "unpack", fmt: "<65536e", data: hex(allHalves) },
    { kind: "packEach", fmt: "<e", values: halfInputs.map((x) => ["f", doubleHex(x)] as const) },
  ]);
}, 120_000);

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
