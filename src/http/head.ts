/**
 * The request head, one line at a time: the request-line (RFC 9112 section 3) and field lines
 * (section 5), then the rules that need the whole head: Host (section 3.2), message framing
 * (section 6.3), Connection (section 9.3) and Expect (RFC 9110 section 10.1.1). Pure functions
 * on byte ranges; a failure is a value carrying the status to answer with.
 */
import { ABSOLUTE_FORM, AUTHORITY_FORM, BAD_PERCENT, COLON, CR, FIELD_VALUE, HOST_VALUE, HTAB, SP, TARGET, TCHAR } from "./chars.ts";

/** Why a request cannot be served; every one of them ends the connection after its reply. */
export interface ParseFailure {
  readonly kind: "error";
  readonly status: number;
  /** One short line for the reply body and the debug log. */
  readonly reason: string;
}

export const failure = (status: number, reason: string): ParseFailure => ({ kind: "error", status, reason });

/** origin-form "/p?q", absolute-form "http://h/p", authority-form "h:443" (CONNECT), asterisk-form "*" (OPTIONS). */
export type TargetForm = "origin" | "absolute" | "authority" | "asterisk";

/** How the body is delimited (RFC 9112 section 6.3). */
export type BodyFraming = { readonly kind: "none" } | { readonly kind: "length"; readonly length: number } | { readonly kind: "chunked" };

export interface RequestLine {
  readonly method: string;
  readonly target: string;
  readonly form: TargetForm;
  /** The path part of the target, raw (percent-encoded): "" for authority-form, "*" for asterisk-form. */
  readonly path: string;
  /** After "?", without it; "" when absent. */
  readonly query: string;
  /** 0 for HTTP/1.0; 1 for HTTP/1.1 and for 1.x above it, which RFC 9110 section 6.2 says to serve as 1.1. */
  readonly minor: 0 | 1;
}

export interface RequestHead extends RequestLine {
  /** Lowercase names; repeated fields joined with ", " (RFC 9110 section 5.3). */
  readonly headers: Map<string, string>;
  /** The request allows the connection to stay open after the reply (RFC 9112 section 9.3). */
  readonly keepAlive: boolean;
  /** An HTTP/1.1 client waits for "100 Continue" before it sends the body. */
  readonly expectContinue: boolean;
  readonly framing: BodyFraming;
}

/** Bun's Buffer has Node's latin1Slice (untyped): three times faster than toString("latin1") on short lines. */
type Latin1 = Buffer & { latin1Slice(start: number, end: number): string };
export const latin1 = (buf: Buffer, start: number, end: number): string => (buf as Latin1).latin1Slice(start, end);

/**
 * Scans the method at the start of a request-line in buf[start, end). Returns the index of the SP
 * that ends it, -1 when more bytes are needed to tell (`complete` false: the line is still
 * arriving), or a failure. The parser runs it on a partial first line too, so a TLS hello or other
 * garbage is refused at its first byte; on a complete line it gives the same answer.
 */
export function scanMethod(buf: Buffer, start: number, end: number, complete: boolean): number | ParseFailure {
  for (let i = start; i < end; i++) {
    const b = buf[i]!;
    if (b === SP) return i === start ? failure(400, "empty method in the request-line") : i;
    // A CR as the last byte so far may be the start of the line's CRLF.
    if (TCHAR[b] === 0 && !(b === CR && i === end - 1 && !complete)) return failure(400, "invalid byte in the method");
  }
  return complete ? failure(400, "request-line without a target and version (HTTP/0.9 is not served)") : -1;
}

/** A complete request-line (its CRLF removed). */
export function parseRequestLine(buf: Buffer, start: number, end: number): RequestLine | ParseFailure {
  const sp1 = scanMethod(buf, start, end, true);
  if (typeof sp1 !== "number") return sp1;
  let sp2 = -1;
  for (let i = sp1 + 1; i < end; i++) {
    const b = buf[i]!;
    if (b === SP) {
      sp2 = i;
      break;
    }
    if (TARGET[b] === 0) return failure(400, "invalid byte in the request-target");
  }
  if (sp2 < 0) return failure(400, "request-line without a version (HTTP/0.9 is not served)");
  if (sp2 === sp1 + 1) return failure(400, "empty request-target");
  const minor = parseVersion(buf, sp2 + 1, end);
  if (typeof minor !== "number") return minor;
  const method = latin1(buf, start, sp1);
  const target = latin1(buf, sp1 + 1, sp2);
  return splitTarget(method, target, minor);
}

/** HTTP-version = "HTTP/" DIGIT "." DIGIT (RFC 9112 section 2.3), exactly, with nothing after it. */
function parseVersion(buf: Buffer, start: number, end: number): 0 | 1 | ParseFailure {
  const ok =
    end - start === 8 &&
    buf[start] === 0x48 &&
    buf[start + 1] === 0x54 &&
    buf[start + 2] === 0x54 &&
    buf[start + 3] === 0x50 &&
    buf[start + 4] === 0x2f &&
    buf[start + 6] === 0x2e &&
    isDigit(buf[start + 5]!) &&
    isDigit(buf[start + 7]!);
  if (!ok) return failure(400, "malformed HTTP-version in the request-line");
  if (buf[start + 5] !== 0x31) return failure(505, "only HTTP/1.0 and HTTP/1.1 are served");
  return buf[start + 7] === 0x30 ? 0 : 1;
}

const isDigit = (b: number) => b >= 0x30 && b <= 0x39;

/** The form of the target (RFC 9112 section 3.2): each method takes its own. */
function splitTarget(method: string, target: string, minor: 0 | 1): RequestLine | ParseFailure {
  if (BAD_PERCENT.test(target)) return failure(400, "malformed percent-encoding in the request-target");
  if (method === "CONNECT") {
    if (!AUTHORITY_FORM.test(target)) return failure(400, "CONNECT needs an authority-form target (host:port)");
    return { method, target, form: "authority", path: "", query: "", minor };
  }
  if (target === "*") {
    if (method !== "OPTIONS") return failure(400, "the asterisk-form target is only for OPTIONS");
    return { method, target, form: "asterisk", path: "*", query: "", minor };
  }
  let form: TargetForm = "origin";
  let rest = target;
  if (target.charCodeAt(0) !== 0x2f) {
    const m = ABSOLUTE_FORM.exec(target);
    if (!m) return failure(400, "request-target is neither a path nor an absolute URI");
    form = "absolute";
    rest = target.slice(m[0].length);
  }
  const q = rest.indexOf("?");
  const path = q < 0 ? rest : rest.slice(0, q);
  return { method, target, form, path: path === "" ? "/" : path, query: q < 0 ? "" : rest.slice(q + 1), minor };
}

/** Collects field lines, then applies the whole-head rules. One per request head. */
export class HeadBuilder {
  readonly headers = new Map<string, string>();
  private hosts = 0;

  /** A complete field line (its line ending removed). */
  addField(buf: Buffer, start: number, end: number): ParseFailure | null {
    const first = buf[start]!;
    // obs-fold, or whitespace between the request-line and the first field (RFC 9112 sections 5.2, 2.2).
    if (first === SP || first === HTAB) return failure(400, "line folding (obs-fold) is not accepted");
    let colon = -1;
    for (let i = start; i < end; i++) {
      const b = buf[i]!;
      if (b === COLON) {
        colon = i;
        break;
      }
      if (TCHAR[b] === 0) {
        // RFC 9112 section 5.1: whitespace between a field name and its colon MUST get 400.
        return b === SP || b === HTAB ? failure(400, "whitespace before the colon of a header field") : failure(400, "invalid byte in a header field name");
      }
    }
    if (colon < 0) return failure(400, "header field line without a colon");
    if (colon === start) return failure(400, "empty header field name");
    let vs = colon + 1;
    let ve = end;
    while (vs < ve && (buf[vs] === SP || buf[vs] === HTAB)) vs++;
    while (ve > vs && (buf[ve - 1] === SP || buf[ve - 1] === HTAB)) ve--;
    for (let i = vs; i < ve; i++) if (FIELD_VALUE[buf[i]!] === 0) return failure(400, "control byte in a header field value");
    const name = latin1(buf, start, colon).toLowerCase();
    const value = latin1(buf, vs, ve);
    if (name === "host") this.hosts++;
    const had = this.headers.get(name);
    this.headers.set(name, had === undefined ? value : `${had}, ${value}`);
    return null;
  }

  /** The rules that need the whole head; `line` is the request-line. */
  finish(line: RequestLine, maxBodyBytes: number): RequestHead | ParseFailure {
    const h = this.headers;
    // RFC 9112 section 3.2: a 1.1 request without Host, any request with more than one, or an
    // invalid one, gets 400.
    if (this.hosts > 1) return failure(400, "more than one Host header field");
    const host = h.get("host");
    if (host === undefined ? line.minor === 1 : !HOST_VALUE.test(host)) return failure(400, host === undefined ? "missing Host header field" : "invalid Host header field");
    const framing = bodyFraming(h, line.minor, maxBodyBytes);
    if (framing.kind === "error") return framing;
    const conn = h.get("connection");
    const tokens = conn === undefined ? null : conn.toLowerCase();
    // 1.1 stays open unless "close"; 1.0 closes unless "keep-alive" (RFC 9112 section 9.3).
    const keepAlive = line.minor === 1 ? !hasToken(tokens, "close") : hasToken(tokens, "keep-alive") && !hasToken(tokens, "close");
    let expectContinue = false;
    const expect = h.get("expect");
    // RFC 9110 section 10.1.1: an HTTP/1.0 request's expectation MUST be ignored.
    if (expect !== undefined && line.minor === 1) {
      if (expect.toLowerCase() !== "100-continue") return failure(417, "the only expectation served is 100-continue");
      expectContinue = framing.kind !== "none";
    }
    return { ...line, headers: h, keepAlive, expectContinue, framing };
  }
}

/** RFC 9112 section 6.3, for requests: chunked, a length, or no body. */
function bodyFraming(h: Map<string, string>, minor: 0 | 1, maxBodyBytes: number): BodyFraming | ParseFailure {
  const te = h.get("transfer-encoding");
  const cl = h.get("content-length");
  if (te !== undefined) {
    // Section 6.1: Transfer-Encoding in a 1.0 message means faulty framing; section 6.3: with a
    // Content-Length too it may be a smuggling attempt. Both are refused outright.
    if (minor === 0) return failure(400, "Transfer-Encoding in an HTTP/1.0 request");
    if (cl !== undefined) return failure(400, "both Transfer-Encoding and Content-Length");
    const codings = te
      .toLowerCase()
      .split(",")
      .map((s) => s.trim())
      .filter((s) => s !== "");
    const chunkedAt = codings.indexOf("chunked");
    // Section 6.3 rule 4: unless chunked is the final coding (and, section 6.1, applied once),
    // the body's end cannot be known: 400. A known framing with codings we lack: 501 (section 6.1).
    if (chunkedAt < 0 || chunkedAt !== codings.length - 1) return failure(400, "chunked must be the final transfer coding, applied once");
    if (codings.length === 1) return { kind: "chunked" };
    return failure(501, "the only transfer coding served is chunked");
  }
  if (cl === undefined) return { kind: "none" };
  // "Content-Length: 5, 5" from a repeated field is one length (RFC 9110 section 8.6); differing
  // values, signs or anything but digits are refused.
  let length = -1;
  for (const part of cl.split(",")) {
    const v = part.trim();
    if (!/^[0-9]+$/.test(v)) return failure(400, "Content-Length is not a decimal number");
    // More digits than any body we take: refused without converting a huge number.
    const n = v.length > 15 ? Infinity : Number(v);
    if (length >= 0 && n !== length) return failure(400, "differing Content-Length values");
    length = n;
  }
  if (length > maxBodyBytes) return failure(413, `request body larger than ${maxBodyBytes} bytes`);
  return length === 0 ? { kind: "none" } : { kind: "length", length };
}

/** Whether a lowercase comma-separated list holds `token` (RFC 9110 section 5.6.1). */
function hasToken(list: string | null, token: string): boolean {
  if (list === null) return false;
  for (const part of list.split(",")) if (part.trim() === token) return true;
  return false;
}
