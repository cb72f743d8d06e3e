// Python `struct` formats compiled once into DataView decoders and encoders.
//   format.ts       format string -> placed items, calcsize (CPython's rules and errors)
//   fields.ts       per-char readers/writers with CPython's coercions and range checks
//   half.ts         binary16 <-> double for the 'e' format
//   codec.ts        compileStruct: items -> flat field ops -> StructCodec
//   repr.ts         Python repr of values and tuples
//   json.ts         JSON-safe form of values
//   parse-value.ts  textual values (CLI) -> StructValue; formatChars

export { compileStruct } from "./codec.ts";
export { StructFormatError, StructValueError } from "./errors.ts";
export { calcsize, parseFormat, valueCount, type FormatItem, type ParsedFormat } from "./format.ts";
export { jsonValue, jsonValues } from "./json.ts";
export { formatChars, parseValue } from "./parse-value.ts";
export { floatRepr, reprValue, reprValues } from "./repr.ts";
export type { StructCodec, StructValue } from "./types.ts";
