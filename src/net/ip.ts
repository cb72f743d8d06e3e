// IP address text <-> bytes, on byte ranges so the PROXY v1 parser needs no
// substring. Parsing is strict: what proxy-protocol.txt 2.1 allows and nothing more.

const COLON = 0x3a;
const DOT = 0x2e;

/** Scratch for formatIpv6 and parseIpv6Into: single-threaded, never held across calls. */
const WORDS = new Uint16Array(8);
const V4 = new Uint8Array(4);

function hexDigit(b: number): number {
  if (b >= 0x30 && b <= 0x39) return b - 0x30;
  const l = b | 0x20; // ASCII letters: fold to lower case
  if (l >= 0x61 && l <= 0x66) return l - 0x61 + 10;
  return -1;
}

/**
 * A dotted quad in `text[start, end)` into `out[at..at+4)`; false unless it is exactly four
 * decimal numbers 0..255 with single dots. Section 2.1: "Heading zeroes are not permitted in front
 * of numbers in order to avoid any possible confusion with octal numbers."
 */
export function parseIpv4Into(text: Uint8Array, start: number, end: number, out: Uint8Array, at: number): boolean {
  let i = start;
  for (let part = 0; part < 4; part++) {
    if (part > 0) {
      if (i >= end || text[i] !== DOT) return false;
      i++;
    }
    const first = i;
    let n = 0;
    while (i < end && i - first < 3) {
      const d = text[i]! - 0x30;
      if (d < 0 || d > 9) break;
      n = n * 10 + d;
      i++;
    }
    const digits = i - first;
    if (digits === 0 || n > 255 || (digits > 1 && text[first] === 0x30)) return false;
    out[at + part] = n;
  }
  return i === end;
}

/**
 * IPv6 text in `text[start, end)` into `out[0..16)` (RFC 4291 section 2.2: 1 to 4 hex digits per
 * group, at most one "::" standing for one or more zero groups, an optional dotted-quad tail).
 * False for anything else, including zone ids ("%eth0") and brackets.
 */
export function parseIpv6Into(text: Uint8Array, start: number, end: number, out: Uint8Array): boolean {
  const words = WORDS;
  let count = 0;
  let gap = -1; // index in `words` where "::" stands
  let i = start;
  if (i < end && text[i] === COLON) {
    if (i + 1 >= end || text[i + 1] !== COLON) return false;
    gap = 0;
    i += 2;
    if (i === end) {
      out.fill(0, 0, 16);
      return true;
    }
  }
  for (;;) {
    if (count === 8) return false;
    const first = i;
    let w = 0;
    while (i < end && i - first < 4) {
      const d = hexDigit(text[i]!);
      if (d < 0) break;
      w = (w << 4) | d;
      i++;
    }
    if (i < end && text[i] === DOT) {
      // The dotted-quad tail takes the last two groups.
      if (count > 6) return false;
      const v4 = V4;
      if (!parseIpv4Into(text, first, end, v4, 0)) return false;
      words[count++] = (v4[0]! << 8) | v4[1]!;
      words[count++] = (v4[2]! << 8) | v4[3]!;
      i = end;
      break;
    }
    if (i === first) return false;
    words[count++] = w;
    if (i === end) break;
    if (text[i] !== COLON) return false;
    i++;
    if (i < end && text[i] === COLON) {
      if (gap >= 0) return false;
      gap = count;
      i++;
      if (i === end) break;
    } else if (i === end) {
      return false;
    }
  }
  if (gap < 0 ? count !== 8 : count > 7) return false;
  const zeros = 8 - count;
  let k = 0;
  for (let j = 0; j < count; j++) {
    if (j === gap) k += zeros;
    out[2 * k] = words[j]! >> 8;
    out[2 * k + 1] = words[j]! & 0xff;
    k++;
  }
  // The zero groups "::" stands for.
  if (gap >= 0) out.fill(0, 2 * gap, 2 * (gap + zeros));
  return true;
}

export function formatIpv4(b: Uint8Array, at = 0): string {
  return `${b[at]}.${b[at + 1]}.${b[at + 2]}.${b[at + 3]}`;
}

/**
 * RFC 5952 canonical text of the 16 bytes at `b[at]`: lower-case hex without leading zeros, the
 * longest run of two or more zero groups (the first on a tie) as "::", and IPv4-mapped addresses
 * as "::ffff:a.b.c.d" (section 5), as inet_ntop prints them.
 */
export function formatIpv6(b: Uint8Array, at = 0): string {
  const w = WORDS;
  for (let j = 0; j < 8; j++) w[j] = (b[at + 2 * j]! << 8) | b[at + 2 * j + 1]!;
  if (w[0] === 0 && w[1] === 0 && w[2] === 0 && w[3] === 0 && w[4] === 0 && w[5] === 0xffff) {
    return `::ffff:${formatIpv4(b, at + 12)}`;
  }
  let bestAt = -1;
  let bestLen = 1; // a single zero group is not compressed (RFC 5952 4.2.2)
  for (let j = 0; j < 8; ) {
    if (w[j] !== 0) {
      j++;
      continue;
    }
    let k = j;
    while (k < 8 && w[k] === 0) k++;
    if (k - j > bestLen) {
      bestAt = j;
      bestLen = k - j;
    }
    j = k;
  }
  let out = "";
  for (let j = 0; j < 8; j++) {
    if (j === bestAt) {
      out += "::";
      j += bestLen - 1;
      continue;
    }
    if (out.length > 0 && !out.endsWith(":")) out += ":";
    out += w[j]!.toString(16);
  }
  return out;
}

/** Latin-1 bytes of a string (the encoder's inputs are ASCII); non-Latin-1 code units become 0xff. */
export function asciiBytes(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    out[i] = c < 0x100 ? c : 0xff;
  }
  return out;
}
