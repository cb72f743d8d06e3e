// Python's repr() of bytes, byte for byte (Objects/bytesobject.c: PyBytes_Repr). Used for payload
// previews in logs and for decoded record fields: every control byte and every byte >= 0x7f is
// escaped, so no payload can put a newline or a terminal escape into a log line.

const HEX = "0123456789abcdef";

/**
 * `b'...'` for `bytes[start, end)`. Python picks double quotes only when the bytes contain a single
 * quote and no double quote.
 */
export function bytesRepr(bytes: Uint8Array, start = 0, end = bytes.length): string {
  let hasSingle = false;
  let hasDouble = false;
  for (let i = start; i < end; i++) {
    const b = bytes[i]!;
    if (b === 0x27) hasSingle = true;
    else if (b === 0x22) hasDouble = true;
  }
  const quote = hasSingle && !hasDouble ? 0x22 : 0x27;
  let out = quote === 0x22 ? 'b"' : "b'";
  for (let i = start; i < end; i++) {
    const b = bytes[i]!;
    if (b === quote || b === 0x5c) out += "\\" + String.fromCharCode(b);
    else if (b === 0x09) out += "\\t";
    else if (b === 0x0a) out += "\\n";
    else if (b === 0x0d) out += "\\r";
    else if (b < 0x20 || b >= 0x7f) out += "\\x" + HEX[b >> 4] + HEX[b & 15];
    else out += String.fromCharCode(b);
  }
  return out + (quote === 0x22 ? '"' : "'");
}

/** A log preview: the repr of at most `limit` leading bytes, marked when it was cut. */
export function previewRepr(bytes: Uint8Array, limit = 64): string {
  if (bytes.length <= limit) return bytesRepr(bytes);
  return `${bytesRepr(bytes, 0, limit)}...`;
}
