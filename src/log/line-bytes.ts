/**
 * One log line written straight into the sink's bytes, piece by piece: numbers as digits, ASCII as
 * bytes, no string per piece or per line. For the lines every connection writes at info (open and
 * close): built as strings, each was a tree of about fifteen concatenations that the sink then
 * flattened, joined and encoded again at its flush (bun --cpu-prof, connect16 at info: the join
 * alone 2.0 % of the server's samples, the two lines' formatting 5.6 %).
 *
 * The caller reserves room first (LogSink.begin, Logger.startLine): every method writes without
 * checking, so a bound must count 6 bytes per character of text (JSON's \u0001) and 3 per
 * character of UTF-8.
 */
export class LineBytes {
  buf: Buffer = EMPTY;
  pos = 0;
  /** How message text is written: false as the pretty format shows it, true inside a JSON string. */
  json = false;

  /** Text known to be plain ASCII with nothing to escape in either format (constants, digits). */
  ascii(s: string): void {
    const b = this.buf;
    let p = this.pos;
    for (let i = 0; i < s.length; i++) b[p++] = s.charCodeAt(i);
    this.pos = p;
  }

  /** A non-negative integer, in decimal. */
  uint(n: number): void {
    if (n > 0x7fffffff) return this.ascii(String(n));
    let digits = 1;
    for (let x = n; x >= 10; x = (x / 10) | 0) digits++;
    const b = this.buf;
    let p = this.pos + digits;
    this.pos = p;
    let x = n | 0;
    do {
      b[--p] = 48 + (x % 10);
      x = (x / 10) | 0;
    } while (x > 0);
  }

  /**
   * x.toFixed(1) without its string: toFixed was 1.5 % of a connect16 server's samples at info
   * (once per close line). Rounding the product x * 10 is exact except where the product lands on
   * a half exactly, where it may have been rounded onto it (1.15 * 10 === 11.5, while 1.15 is
   * 1.1499... and toFixed says 1.1): those, negatives and large values go to toFixed itself.
   */
  fixed1(x: number): void {
    const t = x * 10;
    if (!(t >= 0 && t < 0x7fffffff) || t - Math.floor(t) === 0.5) return this.ascii(x.toFixed(1));
    const n = Math.round(t);
    this.uint((n / 10) | 0);
    this.buf[this.pos++] = 46;
    this.buf[this.pos++] = 48 + (n % 10);
  }

  /** A number as JSON.stringify and String() write it. */
  number(n: number): void {
    if (Number.isInteger(n) && n >= 0) this.uint(n);
    else this.ascii(String(n));
  }

  /**
   * Message text: in the pretty format a line break is shown as \n, not obeyed (one event, one
   * line), as the string formatter does; in JSON, escaped as JSON.stringify escapes it.
   */
  say(s: string): void {
    if (isPlain(s)) return this.ascii(s);
    if (this.json) this.utf8(JSON.stringify(s).slice(1, -1));
    else this.utf8(s.includes("\n") || s.includes("\r") ? s.replace(/\r?\n|\r/g, "\\n") : s);
  }

  /** A JSON string value, quotes included (JSON.stringify's text). */
  jsonString(s: string): void {
    const b = this.buf;
    b[this.pos++] = 34;
    if (isPlain(s)) this.ascii(s);
    else this.utf8(JSON.stringify(s).slice(1, -1));
    b[this.pos++] = 34;
  }

  /** Any text, as UTF-8. */
  utf8(s: string): void {
    this.pos += this.buf.write(s, this.pos, "utf8");
  }
}

const EMPTY = Buffer.alloc(0);

/** Printable ASCII without `"` or `\`: the same bytes in both formats, nothing to escape. */
function isPlain(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === 34 || c === 92) return false;
  }
  return true;
}
