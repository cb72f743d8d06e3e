// Compiles a parsed format into a flat list of field ops, so decode and encode are a loop over
// precomputed offsets and closures: no format parsing and no per-field allocation beyond the
// values themselves.

import { StructValueError } from "./errors.ts";
import { fieldCodec, type FieldReader, type FieldWriter } from "./fields.ts";
import { parseFormat, valueCount } from "./format.ts";
import type { StructCodec, StructValue } from "./types.ts";

interface FieldOp {
  /** Byte offset of the first value in the record. */
  readonly offset: number;
  /** Values this op produces: the repeat count, or 1 for `s` and `p`. */
  readonly count: number;
  readonly stride: number;
  readonly read: FieldReader;
  readonly write: FieldWriter;
}

/**
 * A DataView and a Uint8Array over a whole buffer, remembered for the last buffer seen. Records are
 * usually decoded out of one reused receive buffer, so this saves two allocations per record;
 * covering the whole buffer lets any subarray of it share the views.
 */
class BufferViews {
  private buffer: ArrayBufferLike | undefined;
  view: DataView = new DataView(new ArrayBuffer(0));
  u8: Uint8Array = new Uint8Array(0);

  of(buffer: ArrayBufferLike): this {
    if (buffer !== this.buffer) {
      this.buffer = buffer;
      this.view = new DataView(buffer);
      this.u8 = new Uint8Array(buffer);
    }
    return this;
  }
}

/** Compiles `format` once; throws StructFormatError where CPython's struct.Struct() would raise. */
export function compileStruct(format: string): StructCodec {
  const parsed = parseFormat(format);
  const { size, fieldCount, items } = parsed;
  const ops: FieldOp[] = [];
  for (const item of items) {
    const count = valueCount(item);
    if (count === 0) continue;
    const { read, write } = fieldCodec(item.char, item.count, item.itemSize, parsed.native, parsed.littleEndian);
    ops.push({ offset: item.offset, count, stride: item.itemSize, read, write });
  }

  const decodeViews = new BufferViews();
  const encodeViews = new BufferViews();

  function writeFields(values: readonly StructValue[], view: DataView, u8: Uint8Array, base: number): void {
    let next = 0;
    for (const op of ops) {
      let at = base + op.offset;
      for (let k = 0; k < op.count; k++, at += op.stride) op.write(view, u8, at, values[next++]!);
    }
  }

  return {
    format,
    size,
    fieldCount,
    items,

    decode(bytes: Uint8Array, offset = 0): StructValue[] {
      // The views span the whole underlying buffer, so a short input would not fail by itself:
      // it would quietly read the neighbouring bytes.
      if (offset < 0 || offset + size > bytes.length) {
        throw new RangeError(
          `decode requires a buffer of at least ${offset + size} bytes for unpacking ${size} bytes at offset ${offset} (actual buffer size is ${bytes.length})`,
        );
      }
      const { view, u8 } = decodeViews.of(bytes.buffer);
      const base = bytes.byteOffset + offset;
      const out: StructValue[] = [];
      for (const op of ops) {
        let at = base + op.offset;
        for (let k = 0; k < op.count; k++, at += op.stride) out.push(op.read(view, u8, at));
      }
      return out;
    },

    encode(values: readonly StructValue[]): Uint8Array {
      if (values.length !== fieldCount) {
        throw new StructValueError(`pack expected ${fieldCount} items for packing (got ${values.length})`);
      }
      const out = new Uint8Array(size);
      writeFields(values, new DataView(out.buffer), out, 0);
      return out;
    },

    encodeInto(values: readonly StructValue[], target: Uint8Array, offset = 0): void {
      if (values.length !== fieldCount) {
        throw new StructValueError(`pack_into expected ${fieldCount} items for packing (got ${values.length})`);
      }
      if (offset < 0 || offset + size > target.length) {
        throw new StructValueError(
          `pack_into requires a buffer of at least ${offset + size} bytes for packing ${size} bytes at offset ${offset} (actual buffer size is ${target.length})`,
        );
      }
      // Pads, alignment gaps and short strings are zeros, as after CPython's memset.
      target.fill(0, offset, offset + size);
      const { view, u8 } = encodeViews.of(target.buffer);
      writeFields(values, view, u8, target.byteOffset + offset);
    },
  };
}
