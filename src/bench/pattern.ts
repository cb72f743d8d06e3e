// The bytes every connection sends, generated once, and the check of what comes back.
//
// Each connection (and each new socket of it) sends one endless stream: the pseudo-random pattern
// of prime length PERIOD, read cyclically from a start chosen by (connection, cycle). So messages on
// one connection differ from each other (a prime period never lines up with a message size), two
// connections' streams differ, and a byte from an earlier socket or another connection is caught.
// The buffer holds PERIOD + MAX_SPAN bytes (its tail repeats the head), so any span of up to
// MAX_SPAN bytes from any offset is contiguous: sends are `write(buffer, offset, length)` and checks
// are `compare` on ranges, with no copy and no allocation.

/** Largest prime below 2^20. */
export const PERIOD = 1_048_573;
/** Longest single write, and longest contiguous compare. */
export const MAX_SPAN = 256 * 1024;

function generate(): Buffer {
  const buf = Buffer.allocUnsafe(PERIOD + MAX_SPAN);
  // xorshift32: deterministic, so a mismatch reproduces run to run.
  let x = 0x2545f491;
  for (let i = 0; i < PERIOD; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    buf[i] = x & 0xff;
  }
  buf.copyWithin(PERIOD, 0, MAX_SPAN);
  return buf;
}

let shared: Buffer | null = null;

/** The pattern buffer, built on first use (about 1.3 MB, a few milliseconds) and shared by all runs. */
export function patternBuffer(): Buffer {
  return (shared ??= generate());
}

/** Where the stream of `conn`'s `cycle`-th socket starts: a 32-bit mix of both, mod PERIOD. */
export function startOffset(conn: number, cycle: number): number {
  let h = Math.imul(conn ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul((cycle + 0x632be5ab) | 0, 0xc2b2ae35);
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  return (h >>> 0) % PERIOD;
}

/** `offset` moved on by `n` bytes, wrapped into 0..PERIOD-1. */
export function advance(offset: number, n: number): number {
  const o = offset + n;
  return o < PERIOD ? o : o % PERIOD;
}

/** True when `chunk` equals the stream from `offset` on. */
export function matches(pattern: Buffer, chunk: Uint8Array, offset: number): boolean {
  const n = chunk.length;
  let i = 0;
  let off = offset;
  while (i < n) {
    const m = Math.min(n - i, pattern.length - off);
    if (pattern.compare(chunk, i, i + m, off, off + m) !== 0) return false;
    i += m;
    off = advance(off, m);
  }
  return true;
}
