// IEEE 754 binary16 ('e' format) <-> double, without relying on Float16Array (not in every engine
// we run on). Encoding rounds half to even and reports overflow the way CPython's PyFloat_Pack2
// does: anything that rounds to 2**16 or beyond is too large, it never saturates to infinity.

/** Round a non-negative double below 2**52 to an integer, ties to even. */
function roundHalfEven(q: number): number {
  const floor = Math.floor(q);
  const rest = q - floor;
  if (rest > 0.5 || (rest === 0.5 && floor % 2 === 1)) return floor + 1;
  return floor;
}

/** floor(log2(a)) for a finite a > 0; Math.log2 alone can be one off next to powers of two. */
function exponentOf(a: number): number {
  let e = Math.floor(Math.log2(a));
  if (2 ** e > a) e--;
  else if (2 ** (e + 1) <= a) e++;
  return e;
}

/** The 16 bits of `x` as a half, or -1 when `x` is finite but too large for one. */
export function doubleToHalfBits(x: number): number {
  // JS cannot observe a NaN's sign, so NaN packs as CPython's positive quiet NaN.
  if (Number.isNaN(x)) return 0x7e00;
  const sign = x < 0 || Object.is(x, -0) ? 0x8000 : 0;
  const a = Math.abs(x);
  if (a === Infinity) return sign | 0x7c00;
  if (a < 2 ** -14) {
    // Subnormal: units of 2**-24. The scaling is exact, and a result of 1024 is exactly the
    // encoding of the smallest normal, so rounding up across the boundary needs no special case.
    return sign | roundHalfEven(a * 2 ** 24);
  }
  const e = exponentOf(a);
  if (e > 15) return -1;
  // Significand in units of its last place: [1024, 2048]; 2048 carries into the exponent.
  const bits = ((e + 15) << 10) + roundHalfEven(a * 2 ** (10 - e)) - 1024;
  if (bits >= 0x7c00) return -1;
  return sign | bits;
}

/** The double a half's 16 bits stand for (every half is exactly representable). */
export function halfBitsToDouble(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 0x1f) return fraction === 0 ? sign * Infinity : NaN;
  return sign * (fraction + 1024) * 2 ** (exponent - 25);
}
