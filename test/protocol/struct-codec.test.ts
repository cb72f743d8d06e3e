// The codec's contract with its callers, beyond matching CPython: copies out, bounds, zero-filling.

import { describe, expect, test } from "bun:test";
import { StructFormatError, calcsize, compileStruct } from "../../src/protocol/struct/index.ts";

describe("compileStruct", () => {
  test("exposes the format, CPython's size and the tuple length", () => {
    const codec = compileStruct("@bxhq3s4x");
    expect({ format: codec.format, size: codec.size, fieldCount: codec.fieldCount }).toEqual({
      format: "@bxhq3s4x",
      size: 23,
      fieldCount: 4,
    });
    expect(calcsize("@bxhq3s4x")).toBe(23);
  });

  test("throws StructFormatError for a bad format", () => {
    expect(() => compileStruct("<q!")).toThrow(StructFormatError);
  });
});

describe("decode", () => {
  test("returns byte fields as copies that survive reuse of the source buffer", () => {
    const codec = compileStruct("<c3s4p");
    const source = new Uint8Array([0x41, 0x61, 0x62, 0x63, 0x02, 0x78, 0x79, 0x7a]);
    const values = codec.decode(source);
    source.fill(0);
    expect(values).toEqual([new Uint8Array([0x41]), new Uint8Array([0x61, 0x62, 0x63]), new Uint8Array([0x78, 0x79])]);
  });

  test("reads at an offset of a subarray, not at the start of its buffer", () => {
    const buffer = new Uint8Array([9, 9, 9, 1, 0, 2, 0]);
    expect(compileStruct("<2h").decode(buffer.subarray(2), 1)).toEqual([1, 2]);
  });

  test("refuses to read past the end of its input even when the buffer behind it goes on", () => {
    const buffer = new Uint8Array(16);
    expect(() => compileStruct("<q").decode(buffer.subarray(0, 7))).toThrow(RangeError);
    expect(() => compileStruct("<h").decode(buffer.subarray(0, 4), 3)).toThrow(RangeError);
    expect(() => compileStruct("<h").decode(buffer, -1)).toThrow(RangeError);
  });

  test("reads the same values after switching between buffers", () => {
    const codec = compileStruct(">I");
    const a = new Uint8Array([0, 0, 0, 1]);
    const b = new Uint8Array([0, 0, 0, 2]);
    expect([codec.decode(a), codec.decode(b), codec.decode(a)]).toEqual([[1], [2], [1]]);
  });
});

describe("encodeInto", () => {
  test("zero-fills pads, alignment gaps and short strings over old data", () => {
    const target = new Uint8Array(16).fill(0xee);
    compileStruct("@bxi4s").encodeInto([1, 2, new Uint8Array([0x61])], target, 1);
    expect(Array.from(target)).toEqual([0xee, 1, 0, 0, 0, 2, 0, 0, 0, 0x61, 0, 0, 0, 0xee, 0xee, 0xee]);
  });

  test("encode returns exactly size bytes", () => {
    expect(compileStruct("<hxq").encode([1, 2n]).length).toBe(11);
  });
});

describe("'0p', which CPython 3.11 mishandles", () => {
  // CPython raises SystemError unpacking it and packs a 0xff length byte into whatever follows
  // (struct.pack('0px', b'') == b'\xff'). Here it is an empty field that stays in its 0 bytes.
  test("decodes to empty bytes and encodes nothing outside its field", () => {
    const codec = compileStruct("0px");
    expect(codec.decode(new Uint8Array([7]))).toEqual([new Uint8Array(0)]);
    expect(Array.from(codec.encode([new Uint8Array([1, 2])]))).toEqual([0]);
  });
});
