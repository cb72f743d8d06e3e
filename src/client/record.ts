// The binary record a client sends after each message (`--record FORMAT --values V,V,...`), packed
// exactly as CPython's struct.pack(FORMAT, *values) would.
import { compileStruct, formatChars, parseValue, reprValues, StructValueError, valueCount, type StructCodec, type StructValue } from "../protocol/struct/index.ts";

export interface PackedRecord {
  readonly format: string;
  readonly values: readonly StructValue[];
  /** The format char of each value, so the record prints as Python would print the tuple. */
  readonly chars: readonly string[];
  readonly bytes: Uint8Array;
}

/** Byte size of each value-carrying field, in tuple order (what parseValue needs for `l`/`L`). */
function fieldSizes(codec: StructCodec): number[] {
  const sizes: number[] = [];
  // s and p carry one value whose size is their count; every other value is one item wide.
  for (const item of codec.items) for (let k = valueCount(item); k > 0; k--) sizes.push(item.char === "s" || item.char === "p" ? item.count : item.itemSize);
  return sizes;
}

/**
 * Packs the comma-separated `valuesText` (one text per field; empty for a format without fields)
 * with `format`. Throws StructFormatError for a format CPython would reject, StructValueError
 * naming the field and its text for a wrong count or a bad value.
 */
export function packRecord(format: string, valuesText: string): PackedRecord {
  const codec = compileStruct(format);
  const chars = formatChars(codec);
  const texts = chars.length === 0 && valuesText === "" ? [] : valuesText.split(",");
  if (texts.length !== chars.length) {
    throw new StructValueError(
      `${texts.length} value${texts.length === 1 ? "" : "s"} given, but ${JSON.stringify(format)} has ${chars.length} field${chars.length === 1 ? "" : "s"} (${chars.join(" ") || "none"})`,
    );
  }
  const sizes = fieldSizes(codec);
  const values = texts.map((text, i) => {
    try {
      return parseValue(chars[i]!, text, sizes[i]);
    } catch (e) {
      throw new StructValueError(`field ${i + 1} ${JSON.stringify(text)}: ${(e as Error).message}`);
    }
  });
  try {
    return { format, values, chars, bytes: codec.encode(values) };
  } catch (e) {
    if (!(e instanceof StructValueError)) throw e;
    throw new StructValueError(`${culprit(format, codec, texts, values)}${e.message}`);
  }
}

/**
 * The whole-record encode does not say which value failed; packing each field alone under the same
 * byte-order prefix finds it, so the message names the value the user typed.
 */
function culprit(format: string, codec: StructCodec, texts: readonly string[], values: readonly StructValue[]): string {
  const prefix = "@=<>!".includes(format[0] ?? "") ? format[0]! : "";
  let i = 0;
  for (const item of codec.items) {
    const n = valueCount(item);
    if (n === 0) continue;
    // Each value alone: a whole s/p field ("4s"), or one of the repeated chars ("h").
    const runs = n === 1 && item.count !== 1 ? [`${item.count}${item.char}`] : Array(n).fill(item.char);
    for (const one of runs) {
      try {
        compileStruct(prefix + one).encode([values[i]!]);
      } catch {
        return `field ${i + 1} ${JSON.stringify(texts[i])}: `;
      }
      i++;
    }
  }
  return "";
}

/** Python's repr of the record's tuple: (1, b'ab', 2, 3, 3, 2.5). */
export function recordRepr(r: PackedRecord): string {
  return reprValues(r.values, r.chars);
}
