// The two ways a struct codec refuses: a format it cannot compile, and values it cannot pack.
// Messages follow CPython's wording so a user who knows Python's `struct` recognises them; format
// errors add the character and its position, which CPython leaves out ("bad char in struct format").

/** Quotes like Python's repr of a str, so control characters in a format stay visible. */
export function quote(text: string): string {
  let out = "'";
  for (const ch of text) {
    const code = ch.codePointAt(0)!;
    if (ch === "'" || ch === "\\") out += "\\" + ch;
    else if (ch === "\t") out += "\\t";
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (code < 0x20 || code === 0x7f) out += "\\x" + code.toString(16).padStart(2, "0");
    else out += ch;
  }
  return out + "'";
}

/** A format string that CPython's `struct` would also reject. */
export class StructFormatError extends Error {
  override readonly name = "StructFormatError";
  /** 0-based index (UTF-16 code units) of the offending character in the format. */
  readonly position: number;
  /** The offending character: the bad one, the NUL, or the first digit of a dangling count. */
  readonly char: string;
  readonly format: string;

  /** `problem` names the character; position and format are appended. */
  constructor(problem: string, format: string, position: number, char: string) {
    super(`${problem} at position ${position} in struct format ${quote(format)}`);
    this.position = position;
    this.char = char;
    this.format = format;
  }
}

/** Values that do not fit the format: wrong count, wrong type or out of range (struct.error). */
export class StructValueError extends Error {
  override readonly name = "StructValueError";
}
