// ALPN protocol lists (RFC 7301 §3.1): what the user types ("h2,http/1.1") and what Bun's
// ALPNProtocols takes, the wire format (each name prefixed by its length in one byte). Bun 1.4.5
// throws on an array and takes "h2,http/1.1" as one odd 11-byte name that no client matches
// (measured: experiments/tls/FINDINGS.md §e), so the encoding is ours.

/** Thrown for a list that cannot be sent: empty, a name of 0 or more than 255 bytes, non-ASCII. */
export class AlpnListError extends Error {
  override readonly name = "AlpnListError";
}

/** "h2, http/1.1" to ["h2", "http/1.1"], checked: RFC 7301 names are 1..255 bytes; we accept printable ASCII. */
export function parseAlpnList(text: string): string[] {
  const names = text.split(",").map((n) => n.trim());
  if (names.length === 0 || names.every((n) => n === "")) throw new AlpnListError("an empty protocol list");
  for (const n of names) {
    if (n === "") throw new AlpnListError(`an empty protocol name in ${JSON.stringify(text)}`);
    if (!/^[\x21-\x7e]+$/.test(n)) throw new AlpnListError(`${JSON.stringify(n)} is not a protocol name (printable ASCII, no spaces)`);
    if (n.length > 255) throw new AlpnListError(`${JSON.stringify(n.slice(0, 20))}... is ${n.length} bytes (at most 255)`);
  }
  const seen = new Set<string>();
  for (const n of names) {
    if (seen.has(n)) throw new AlpnListError(`${JSON.stringify(n)} is listed twice`);
    seen.add(n);
  }
  return names;
}

/** ["h2", "http/1.1"] to "\x02h2\x08http/1.1" (a latin1 string: Bun takes it as the bytes). */
export function alpnWire(names: readonly string[]): string {
  return names.map((n) => String.fromCharCode(n.length) + n).join("");
}
