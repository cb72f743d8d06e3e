// The float formats' test inputs and checks, shared by struct-half-formats.test.ts and
// struct-float-formats.test.ts (one file each, so that their two CPython runs go side by side).
import { compileStruct } from "../../src/protocol/struct/index.ts";
import { hex } from "./struct-python.ts";

/** The neighbouring doubles of a positive finite x (one ulp down and up). */
export function neighbours(x: number): [number, number] {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const bits = view.getBigUint64(0);
  view.setBigUint64(0, bits - 1n);
  const down = view.getFloat64(0);
  view.setBigUint64(0, bits + 1n);
  return [down, view.getFloat64(0)];
}

/** Each value encoded alone with `format`: hex, or the error message. */
export function packEach(format: string, inputs: readonly number[]): string[] {
  const codec = compileStruct(format);
  return inputs.map((x) => {
    try {
      return hex(codec.encode([x]));
    } catch (e) {
      return `error: ${(e as Error).message}`;
    }
  });
}

/** The inputs on which ours and CPython's answers differ, one line each. */
export function differences(format: string, inputs: readonly number[], ours: string[], theirs: string[]): string[] {
  return inputs.flatMap((x, i) => (ours[i] === theirs[i] ? [] : [`${format} ${x}: ours ${ours[i]}, CPython ${theirs[i]}`]));
}
