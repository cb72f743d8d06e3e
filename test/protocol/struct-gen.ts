// Seeded generators of struct formats and values for the differential tests. The same seed gives
// the same cases, so a failure message that prints the seed and format reproduces exactly
// (STRUCT_SEED=<seed> bun test test/protocol).

import type { StructValue } from "../../src/protocol/struct/index.ts";

export type Rng = () => number;

/** mulberry32: small, fast, and good enough to spread cases; returns [0, 1). */
export function makeRng(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const SEED = Number(process.env.STRUCT_SEED ?? 20240611);

export function int(rng: Rng, lo: number, hi: number): number {
  return lo + Math.floor(rng() * (hi - lo + 1));
}

export function pick<T>(rng: Rng, items: readonly T[]): T {
  return items[Math.floor(rng() * items.length)]!;
}

export function randomBytes(rng: Rng, length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = int(rng, 0, 255);
  return out;
}

export const PREFIXES = ["", "@", "=", "<", ">", "!"] as const;
const STANDARD_CHARS = "xcbB?hHiIlLqQefdsp";
const NATIVE_CHARS = STANDARD_CHARS + "nNP";
const SPACES = [" ", "  ", "\t", "\n", "\r", "\x0b", "\x0c"];

/**
 * A random valid format: 1-8 runs of every char the prefix allows, counts 0-12 (none for most
 * runs), `s`/`p` lengths up to 20 (`0p` is left out: CPython itself mishandles it), whitespace
 * between runs and after the prefix but never between a count and its char.
 */
export function randomFormat(rng: Rng): string {
  const prefix = pick(rng, PREFIXES);
  const chars = prefix === "" || prefix === "@" ? NATIVE_CHARS : STANDARD_CHARS;
  let out = prefix;
  const runs = int(rng, 1, 8);
  for (let r = 0; r < runs; r++) {
    if (rng() < 0.3) out += pick(rng, SPACES);
    const ch = pick(rng, chars.split(""));
    let count = "";
    if (ch === "s" || ch === "p") count = String(int(rng, ch === "p" ? 1 : 0, 20));
    else if (rng() < 0.35) count = String(int(rng, 0, 12));
    if (count === "1" && rng() < 0.5) count = "01";
    out += count + ch;
  }
  if (rng() < 0.2) out += pick(rng, SPACES);
  return out;
}

/** Byte size under `prefix` for the integer chars whose size depends on it. */
export function intSize(ch: string, native: boolean): number {
  switch (ch) {
    case "b": case "B": return 1;
    case "h": case "H": return 2;
    case "i": case "I": return 4;
    case "l": case "L": return native ? 8 : 4;
    default: return 8;
  }
}

function randomInt(rng: Rng, ch: string, size: number): number | bigint {
  const bits = BigInt(size * 8);
  const signed = "bhilqn".includes(ch) || ch === "P";
  const min = ch === "P" ? -(1n << 63n) : signed ? -(1n << (bits - 1n)) : 0n;
  const max = ch === "P" ? (1n << 64n) - 1n : signed ? (1n << (bits - 1n)) - 1n : (1n << bits) - 1n;
  const edges = [min, max, 0n, 1n, min + 1n, max - 1n, ...(signed ? [-1n] : [])];
  let v: bigint;
  if (rng() < 0.4) v = pick(rng, edges);
  else {
    // A random value with a random magnitude, so small and large ones both show up.
    const width = BigInt(int(rng, 1, size * 8));
    v = BigInt(Math.floor(rng() * 2 ** 32)) * (1n << 32n) + BigInt(Math.floor(rng() * 2 ** 32));
    v %= 1n << width;
    if (signed && rng() < 0.5) v = -v;
    if (v < min) v = min;
    if (v > max) v = max;
  }
  return size === 8 ? v : Number(v);
}

/** A double with uniformly random bits: every exponent, subnormals, NaN payloads, infinities. */
export function randomDouble(rng: Rng): number {
  const view = new DataView(new ArrayBuffer(8));
  view.setUint32(0, Math.floor(rng() * 2 ** 32));
  view.setUint32(4, Math.floor(rng() * 2 ** 32));
  return view.getFloat64(0);
}

const HALF_EDGES = [
  65504, -65504, 65519.99, 6.103515625e-5, 6.1e-5, 5.960464477539063e-8, 5.96e-8, 2 ** -25,
  2 ** -25 * (1 + 2 ** -52), 2 ** -24 * 1.5, 1 + 2 ** -11, 1 + 3 * 2 ** -11, 0.1, 1 / 3, 2048.5,
];
// The midpoint between FLT_MAX and 2**128: it and everything above round to infinity.
const FLOAT_OVERFLOW = 3.4028235677973366e38;
const FLOAT_EDGES = [
  3.4028234663852886e38, 3.4028235e38, -3.4028234663852886e38, 1.401298464324817e-45, 7e-46, 7.006492321624085e-46,
  1.1754943508222875e-38, 1.1754942106924411e-38, 16777217, 0.1, 1 / 3, 1e-40,
];
const DOUBLE_EDGES = [
  5e-324, -5e-324, 2.2250738585072014e-308, 2.225073858507201e-308, 1.7976931348623157e308, 1e16, 1e-5,
  1e-4, 9999999999999998, 123456789012345.0, 0.1, 2 ** 53 + 2, 1e22, 1.5e-7,
];
const SHARED_EDGES = [0, -0, 1, -1, 2, 0.5, NaN, Infinity, -Infinity];

function randomFloat(rng: Rng, ch: string, native: boolean): number {
  const edges = ch === "e" ? HALF_EDGES : ch === "f" ? FLOAT_EDGES : DOUBLE_EDGES;
  const roll = rng();
  if (roll < 0.15) return pick(rng, SHARED_EDGES);
  if (roll < 0.4) return pick(rng, edges);
  // Random magnitudes across (and, for d and native f, beyond) the format's range.
  const maxExp = ch === "e" ? 15 : ch === "f" ? (native ? 200 : 127) : 1023;
  const minExp = ch === "e" ? -26 : ch === "f" ? -151 : -1074;
  if (ch === "d" && rng() < 0.5) return randomDouble(rng);
  const x = (1 + rng()) * 2 ** int(rng, minExp, maxExp - 1);
  const signed = rng() < 0.5 ? -x : x;
  // Keep e and standard f inside their range: overflow has its own tests.
  if (ch === "e" && Math.abs(signed) >= 65520) return Math.sign(signed) * 65504;
  if (ch === "f" && !native && Math.abs(signed) >= FLOAT_OVERFLOW) return Math.sign(signed) * FLOAT_EDGES[0]!;
  return signed;
}

/** A random value the format char accepts (CPython packs it without error). */
export function randomValue(rng: Rng, ch: string, count: number, native: boolean): StructValue {
  switch (ch) {
    case "s": return randomBytes(rng, int(rng, 0, count + 3));
    case "p": return randomBytes(rng, int(rng, 0, count + 2));
    case "c": return randomBytes(rng, 1);
    case "?": return pick<StructValue>(rng, [true, false, true, false, 0, 2, NaN, -0, 5n, new Uint8Array(0), new Uint8Array(1)]);
    case "e": case "f": case "d": return randomFloat(rng, ch, native);
    default: return randomInt(rng, ch, intSize(ch, native));
  }
}
