/** Byte classes of the HTTP/1.1 grammar, as 256-entry tables: one indexed load per byte. */

export const SP = 0x20;
export const HTAB = 0x09;
export const CR = 0x0d;
export const LF = 0x0a;
export const COLON = 0x3a;

function table(test: (b: number) => boolean): Uint8Array {
  const t = new Uint8Array(256);
  for (let b = 0; b < 256; b++) t[b] = test(b) ? 1 : 0;
  return t;
}

const isAlnum = (b: number) => (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a);

/** tchar (RFC 9110 section 5.6.2): what methods and field names are made of. */
export const TCHAR = table((b) => isAlnum(b) || "!#$%&'*+-.^_`|~".includes(String.fromCharCode(b)));

/**
 * field-vchar / SP / HTAB (RFC 9110 section 5.5): VCHAR and obs-text. Every other control byte
 * (NUL, CR, LF, DEL...) is refused: section 5.5 makes CR, LF and NUL fatal and lets a recipient
 * refuse the other controls, and a value we keep is one a handler may log or echo back.
 */
export const FIELD_VALUE = table((b) => b === SP || b === HTAB || (b >= 0x21 && b <= 0x7e) || b >= 0x80);

/**
 * What a request-target may hold: the visible ASCII of RFC 3986 minus "#" (a fragment is never
 * sent, RFC 9112 section 3.2). Looser than pchar on purpose: clients send "|", "{" or '"' raw.
 */
export const TARGET = table((b) => b >= 0x21 && b <= 0x7e && b !== 0x23);

export const HEX_VALUE = (() => {
  const t = new Int8Array(256).fill(-1);
  for (let d = 0; d < 10; d++) t[0x30 + d] = d;
  for (let d = 0; d < 6; d++) {
    t[0x41 + d] = 10 + d;
    t[0x61 + d] = 10 + d;
  }
  return t;
})();

/**
 * uri-host [":" port] (RFC 9112 section 3.2 refers to RFC 3986 section 3.2.2): a bracketed IPv6
 * literal, or a reg-name (which covers IPv4 and the empty Host a client sends when the target
 * has no authority). IPvFuture literals are refused.
 */
export const HOST_VALUE = /^(?:\[[0-9A-Fa-f:.]+\]|(?:[A-Za-z0-9\-._~!$&'()*+,;=]|%[0-9A-Fa-f]{2})*)(?::[0-9]{0,5})?$/;

/** authority-form (RFC 9112 section 3.2.3): uri-host ":" port, the port required. */
export const AUTHORITY_FORM = /^(?:\[[0-9A-Fa-f:.]+\]|(?:[A-Za-z0-9\-._~!$&'()*+,;=]|%[0-9A-Fa-f]{2})+):[0-9]{1,5}$/;

/** absolute-form (RFC 9112 section 3.2.2) with an authority: scheme "://" authority, then the path. */
export const ABSOLUTE_FORM = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?]*/;

/** "%" must be followed by two hex digits everywhere in a target (RFC 3986 section 2.1). */
export const BAD_PERCENT = /%(?![0-9A-Fa-f]{2})/;
