import { describe, expect, test } from "bun:test";
import { RequestParser, type ParseStep, type ParserLimits } from "../../src/http/parser.ts";

const LIMITS: ParserLimits = { maxHeaderBytes: 1024, maxBodyBytes: 256 };

/** Everything the parser said about an input, in a form toEqual can compare. */
interface Outcome {
  messages: Record<string, unknown>[];
  /** "incomplete" (waiting for more), "idle" (clean end), or the failure. */
  end: string | { status: number; reason: string };
}

function drain(p: RequestParser, out: Outcome, pending: { head: Record<string, unknown> | null }): boolean {
  for (;;) {
    const s: ParseStep = p.next();
    if (s.kind === "incomplete") return true;
    if (s.kind === "error") {
      out.end = { status: s.status, reason: s.reason };
      return false;
    }
    if (s.kind === "head") {
      const h = s.head;
      pending.head = {
        method: h.method,
        target: h.target,
        form: h.form,
        path: h.path,
        query: h.query,
        minor: h.minor,
        headers: Object.fromEntries(h.headers),
        keepAlive: h.keepAlive,
        expectContinue: h.expectContinue,
        framing: h.framing.kind,
      };
    } else {
      out.messages.push({ ...pending.head, body: Buffer.from(s.body).toString("latin1") });
      pending.head = null;
    }
  }
}

/** Feeds `input` cut at `cuts` (sorted offsets), then optionally the end of the stream. */
function parse(input: string, cuts: number[] = [], eof = false, limits = LIMITS): Outcome {
  const bytes = Buffer.from(input, "latin1");
  const p = new RequestParser(limits);
  const out: Outcome = { messages: [], end: "incomplete" };
  const pending = { head: null as Record<string, unknown> | null };
  let from = 0;
  for (const cut of [...cuts, bytes.length]) {
    // Copies, so a parser that kept a reference to a caller's chunk and read it later would differ.
    p.push(Uint8Array.from(bytes.subarray(from, cut)));
    from = cut;
    if (!drain(p, out, pending)) return out;
  }
  if (eof) {
    p.finish();
    if (drain(p, out, pending)) out.end = p.phase === "idle" ? "idle" : "incomplete";
  }
  return out;
}

/**
 * The same outcome whole, byte by byte, and cut once at every offset (at every 7th past 1,500
 * bytes, where the quadratic cost shows; byte by byte still crosses every offset).
 */
function expectSplitInvariant(input: string, eof: boolean, limits = LIMITS): Outcome {
  const whole = parse(input, [], eof, limits);
  const n = Buffer.byteLength(input, "latin1");
  const bytewise = parse(input, Array.from({ length: Math.max(0, n - 1) }, (_, i) => i + 1), eof, limits);
  expect(bytewise).toEqual(whole);
  for (let i = 1; i < n; i += i < 1500 ? 1 : 7) {
    const split = parse(input, [i], eof, limits);
    if (!Bun.deepEquals(split, whole)) expect({ cut: i, outcome: split }).toEqual({ cut: i, outcome: whole });
  }
  return whole;
}

const GET = (target = "/", extra = "") => `GET ${target} HTTP/1.1\r\nHost: x\r\n${extra}\r\n`;
const msg = (over: Record<string, unknown>) => ({
  method: "GET",
  target: "/",
  form: "origin",
  path: "/",
  query: "",
  minor: 1,
  headers: { host: "x" },
  keepAlive: true,
  expectContinue: false,
  framing: "none",
  body: "",
  ...over,
});

const GOOD: [string, string, Record<string, unknown>[]][] = [
  ["a minimal HTTP/1.1 GET", GET(), [msg({})]],
  ["a path and query, kept raw", GET("/a%20b/c?x=1&y=%41"), [msg({ target: "/a%20b/c?x=1&y=%41", path: "/a%20b/c", query: "x=1&y=%41" })]],
  ["HTTP/1.0 without Host, closing by default", "GET / HTTP/1.0\r\n\r\n", [msg({ minor: 0, headers: {}, keepAlive: false })]],
  ["HTTP/1.0 with Connection: keep-alive", "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", [msg({ minor: 0, headers: { connection: "Keep-Alive" } })]],
  ["HTTP/1.1 with Connection: close among other tokens", GET("/", "Connection: te, close\r\n"), [msg({ headers: { host: "x", connection: "te, close" }, keepAlive: false })]],
  ["HTTP/1.2 served as 1.1 (RFC 9110 section 6.2)", "GET / HTTP/1.2\r\nHost: x\r\n\r\n", [msg({})]],
  ["absolute-form: the path comes from the URI", GET("http://example.com:8080/a/b?c=d"), [msg({ target: "http://example.com:8080/a/b?c=d", form: "absolute", path: "/a/b", query: "c=d" })]],
  ["absolute-form without a path is /", GET("https://example.com"), [msg({ target: "https://example.com", form: "absolute" })]],
  ["asterisk-form for OPTIONS", "OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n", [msg({ method: "OPTIONS", target: "*", form: "asterisk", path: "*" })]],
  ["authority-form for CONNECT", "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n", [msg({ method: "CONNECT", target: "example.com:443", form: "authority", path: "", headers: { host: "example.com:443" } })]],
  ["an unknown method is a token like any other", "FROB / HTTP/1.1\r\nHost: x\r\n\r\n", [msg({ method: "FROB" })]],
  ["bare LF line endings in the head", "GET / HTTP/1.1\nHost: x\n\n", [msg({})]],
  ["empty lines before the request-line are skipped", "\r\n\r\n" + GET(), [msg({})]],
  ["repeated fields joined with a comma, names lowercased", GET("/", "Accept: a\r\nACCEPT: b\r\n"), [msg({ headers: { host: "x", accept: "a, b" } })]],
  ["optional whitespace around a value is trimmed, inner kept", GET("/", "X-A: \t a  b \t\r\nX-E:\r\n"), [msg({ headers: { host: "x", "x-a": "a  b", "x-e": "" } })]],
  ["obs-text in a value is kept byte for byte", GET("/", "X-L: caf\xe9\r\n"), [msg({ headers: { host: "x", "x-l": "caf\xe9" } })]],
  ["an empty Host on HTTP/1.1", "GET / HTTP/1.1\r\nHost:\r\n\r\n", [msg({ headers: { host: "" } })]],
  ["an IPv6 Host with a port", "GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n", [msg({ headers: { host: "[::1]:8080" } })]],
  ["a Content-Length body", "POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello", [msg({ method: "POST", target: "/p", path: "/p", headers: { host: "x", "content-length": "5" }, framing: "length", body: "hello" })]],
  ["Content-Length: 0 is no body", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", [msg({ method: "POST", headers: { host: "x", "content-length": "0" } })]],
  ["a repeated equal Content-Length is one length", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc", [msg({ method: "POST", headers: { host: "x", "content-length": "3, 3" }, framing: "length", body: "abc" })]],
  [
    "a chunked body with extensions, upper-case hex and a dropped trailer",
    "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: Chunked\r\n\r\n5;ext=1\r\nhello\r\nB ; n=\"v;\"\r\n world 1234\r\n0\r\nX-Trailer: t\r\n\r\n",
    [msg({ method: "POST", headers: { host: "x", "transfer-encoding": "Chunked" }, framing: "chunked", body: "hello world 1234" })],
  ],
  ["a chunked body with leading zeros in the size", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0003\r\nabc\r\n000\r\n\r\n", [msg({ method: "POST", headers: { host: "x", "transfer-encoding": "chunked" }, framing: "chunked", body: "abc" })]],
  ["Expect: 100-continue with a body", "PUT / HTTP/1.1\r\nHost: x\r\nExpect: 100-Continue\r\nContent-Length: 2\r\n\r\nok", [msg({ method: "PUT", headers: { host: "x", expect: "100-Continue", "content-length": "2" }, expectContinue: true, framing: "length", body: "ok" })]],
  ["Expect: 100-continue without a body asks nothing", GET("/", "Expect: 100-continue\r\n"), [msg({ headers: { host: "x", expect: "100-continue" } })]],
  ["an HTTP/1.0 expectation is ignored (RFC 9110 section 10.1.1)", "GET / HTTP/1.0\r\nExpect: something\r\n\r\n", [msg({ minor: 0, headers: { expect: "something" }, keepAlive: false })]],
  ["two pipelined requests", GET("/1") + "POST /2 HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\nZ" + GET("/3"), [
    msg({ target: "/1", path: "/1" }),
    msg({ method: "POST", target: "/2", path: "/2", headers: { host: "x", "content-length": "1" }, framing: "length", body: "Z" }),
    msg({ target: "/3", path: "/3" }),
  ]],
];

describe("the parser reads good requests exactly, however the bytes are split", () => {
  for (const [name, input, messages] of GOOD) {
    test(name, () => {
      expect(expectSplitInvariant(input, true)).toEqual({ messages, end: "idle" });
    });
  }
});

const e = (status: number, reason: string) => ({ status, reason });
const POST = (headers: string, body = "") => `POST / HTTP/1.1\r\nHost: x\r\n${headers}\r\n${body}`;
const CHUNKED = (body: string) => POST("Transfer-Encoding: chunked\r\n", body);

const BAD: [string, string, { status: number; reason: string }][] = [
  ["a control byte in the method", "GE\x01T / HTTP/1.1\r\nHost: x\r\n\r\n", e(400, "invalid byte in the method")],
  ["a TLS ClientHello", "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", e(400, "invalid byte in the method")],
  ["a line starting with a space", " GET / HTTP/1.1\r\n\r\n", e(400, "empty method in the request-line")],
  ["a bare CR inside the request-line", "GET\r/ HTTP/1.1\r\n\r\n", e(400, "invalid byte in the method")],
  ["HTTP/0.9: no version", "GET /metrics\r\n\r\n", e(400, "request-line without a version (HTTP/0.9 is not served)")],
  ["a method alone", "GET\r\n\r\n", e(400, "request-line without a target and version (HTTP/0.9 is not served)")],
  ["HTTP/2.0", "GET / HTTP/2.0\r\nHost: x\r\n\r\n", e(505, "only HTTP/1.0 and HTTP/1.1 are served")],
  ["HTTP/0.9 spelled out", "GET / HTTP/0.9\r\n\r\n", e(505, "only HTTP/1.0 and HTTP/1.1 are served")],
  ["a lowercase version", "GET / http/1.1\r\nHost: x\r\n\r\n", e(400, "malformed HTTP-version in the request-line")],
  ["a space after the version", "GET / HTTP/1.1 \r\nHost: x\r\n\r\n", e(400, "malformed HTTP-version in the request-line")],
  ["two spaces before the target", "GET  / HTTP/1.1\r\nHost: x\r\n\r\n", e(400, "empty request-target")],
  ["a fragment in the target", GET("/a#b"), e(400, "invalid byte in the request-target")],
  ["DEL in the target", GET("/a\x7f"), e(400, "invalid byte in the request-target")],
  ["obs-text in the target", GET("/caf\xe9"), e(400, "invalid byte in the request-target")],
  ["a broken percent-encoding", GET("/a%zz"), e(400, "malformed percent-encoding in the request-target")],
  ["a relative target", GET("a/b"), e(400, "request-target is neither a path nor an absolute URI")],
  ["CONNECT without a port", "CONNECT example.com HTTP/1.1\r\nHost: x\r\n\r\n", e(400, "CONNECT needs an authority-form target (host:port)")],
  ["asterisk-form with GET", GET("*"), e(400, "the asterisk-form target is only for OPTIONS")],
  ["HTTP/1.1 without Host", "GET / HTTP/1.1\r\nAccept: */*\r\n\r\n", e(400, "missing Host header field")],
  ["two Host lines, even equal", "GET / HTTP/1.1\r\nHost: x\r\nHost: x\r\n\r\n", e(400, "more than one Host header field")],
  ["a Host with a space", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", e(400, "invalid Host header field")],
  ["an unclosed IPv6 Host", "GET / HTTP/1.1\r\nHost: [::1\r\n\r\n", e(400, "invalid Host header field")],
  ["a Host with a path", "GET / HTTP/1.1\r\nHost: x/y\r\n\r\n", e(400, "invalid Host header field")],
  ["whitespace before the colon", "GET / HTTP/1.1\r\nHost : x\r\n\r\n", e(400, "whitespace before the colon of a header field")],
  ["a field line without a colon", GET("/", "NoColon\r\n"), e(400, "header field line without a colon")],
  ["an empty field name", GET("/", ": v\r\n"), e(400, "empty header field name")],
  ["a NUL in a field name", GET("/", "X\x00: v\r\n"), e(400, "invalid byte in a header field name")],
  ["obs-fold", GET("/", "X-A: a\r\n  b\r\n"), e(400, "line folding (obs-fold) is not accepted")],
  ["whitespace before the first field", "GET / HTTP/1.1\r\n Host: x\r\n\r\n", e(400, "line folding (obs-fold) is not accepted")],
  ["a NUL in a value", GET("/", "X-A: a\x00b\r\n"), e(400, "control byte in a header field value")],
  ["a bare CR in a value", GET("/", "X-A: a\rb\r\n"), e(400, "control byte in a header field value")],
  ["a negative Content-Length", POST("Content-Length: -1\r\n"), e(400, "Content-Length is not a decimal number")],
  ["a non-numeric Content-Length", POST("Content-Length: abc\r\n"), e(400, "Content-Length is not a decimal number")],
  ["a Content-Length with inner space", POST("Content-Length: 1 2\r\n"), e(400, "Content-Length is not a decimal number")],
  ["two differing Content-Lengths", POST("Content-Length: 1\r\nContent-Length: 2\r\n", "ab"), e(400, "differing Content-Length values")],
  ["a Content-Length over the body limit", POST("Content-Length: 257\r\n"), e(413, "request body larger than 256 bytes")],
  ["a Content-Length of 30 digits", POST(`Content-Length: ${"9".repeat(30)}\r\n`), e(413, "request body larger than 256 bytes")],
  ["Transfer-Encoding gzip: no way to find the body's end", POST("Transfer-Encoding: gzip\r\n"), e(400, "chunked must be the final transfer coding, applied once")],
  ["gzip, chunked", POST("Transfer-Encoding: gzip, chunked\r\n"), e(501, "the only transfer coding served is chunked")],
  ["chunked twice", POST("Transfer-Encoding: chunked, chunked\r\n"), e(400, "chunked must be the final transfer coding, applied once")],
  ["chunked, then gzip", POST("Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n"), e(400, "chunked must be the final transfer coding, applied once")],
  ["Transfer-Encoding and Content-Length", POST("Transfer-Encoding: chunked\r\nContent-Length: 3\r\n", "0\r\n\r\n"), e(400, "both Transfer-Encoding and Content-Length")],
  ["Transfer-Encoding in HTTP/1.0", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", e(400, "Transfer-Encoding in an HTTP/1.0 request")],
  ["an expectation other than 100-continue", GET("/", "Expect: 200-ok\r\n"), e(417, "the only expectation served is 100-continue")],
  ["a chunk size that is not hex", CHUNKED("zz\r\n"), e(400, "chunk-size is not a hex number")],
  ["a chunk-size line ended by a bare LF", CHUNKED("3\nabc\r\n0\r\n\r\n"), e(400, "chunk-size line not ended by CRLF")],
  ["a chunk longer than its size", CHUNKED("3\r\nabcd\r\n0\r\n\r\n"), e(400, "chunk data not followed by CRLF")],
  ["a chunk followed by CR and no LF", CHUNKED("3\r\nabc\rX"), e(400, "chunk data not followed by CRLF")],
  ["chunks adding up past the body limit", CHUNKED("100\r\n" + "a".repeat(256) + "\r\n1\r\n"), e(413, "request body larger than 256 bytes")],
  ["a chunk size beyond any integer", CHUNKED("f".repeat(40) + "\r\n"), e(413, "request body larger than 256 bytes")],
  ["a control byte in a chunk extension", CHUNKED("3;a\x01\r\nabc\r\n0\r\n\r\n"), e(400, "control byte in a chunk extension")],
  ["junk after the chunk size", CHUNKED("3 x\r\nabc\r\n0\r\n\r\n"), e(400, "invalid byte after the chunk-size")],
  ["a chunk-size line of 5000 bytes", CHUNKED("3;" + "a".repeat(5000) + "\r\n"), e(400, "chunk-size line too long")],
  ["a trailer without a colon", CHUNKED("0\r\nbadtrailer\r\n\r\n"), e(400, "header field line without a colon")],
  ["a head over the limit", GET("/", `X-Big: ${"a".repeat(1100)}\r\n`), e(431, "request head larger than 1024 bytes")],
  ["a request-line over the limit without any line end", "GET /" + "a".repeat(1100), e(431, "request head larger than 1024 bytes")],
  ["a pipelined second request that is bad, after a good one", GET("/ok") + "BAD\x7f / HTTP/1.1\r\n\r\n", e(400, "invalid byte in the method")],
];

describe("the parser refuses bad requests with one exact status and reason, however the bytes are split", () => {
  for (const [name, input, failure] of BAD) {
    test(name, () => {
      expect(expectSplitInvariant(input, false).end).toEqual(failure);
    });
  }
});

describe("the parser's bounds and stream ends", () => {
  const limits = { maxHeaderBytes: 64, maxBodyBytes: 16 };
  test("a head of exactly maxHeaderBytes is accepted; one byte more is 431", () => {
    const fill = (n: number) => `GET / HTTP/1.1\r\nHost: x\r\nX: ${"a".repeat(n)}\r\n\r\n`;
    const exact = fill(64 - fill(0).length);
    expect(exact.length).toBe(64);
    expect(expectSplitInvariant(exact, true, limits).end).toBe("idle");
    expect(expectSplitInvariant(fill(64 - fill(0).length + 1), true, limits).end).toEqual(e(431, "request head larger than 64 bytes"));
  });

  test("a body of exactly maxBodyBytes is accepted, in chunks too; one byte more is 413", () => {
    expect(parse(POST("Content-Length: 16\r\n", "a".repeat(16)), [], true, limits).end).toBe("idle");
    expect(parse(POST("Content-Length: 17\r\n"), [], false, limits).end).toEqual(e(413, "request body larger than 16 bytes"));
    const chunked = (n: number) => `POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n8\r\n${"b".repeat(8)}\r\n${n.toString(16)}\r\n${"c".repeat(n)}\r\n0\r\n\r\n`;
    expect(parse(chunked(8), [], true, { maxHeaderBytes: 1024, maxBodyBytes: 16 }).messages[0]!.body).toBe("b".repeat(8) + "c".repeat(8));
    expect(parse(chunked(9), [], true, { maxHeaderBytes: 1024, maxBodyBytes: 16 }).end).toEqual(e(413, "request body larger than 16 bytes"));
  });

  test("garbage is refused at its first byte, before any line end arrives", () => {
    const p = new RequestParser(LIMITS);
    p.push(Uint8Array.of(0x16));
    expect(p.next()).toEqual({ kind: "error", status: 400, reason: "invalid byte in the method" });
    // Failed for good: later bytes change nothing.
    p.push(Buffer.from(GET()));
    expect(p.next()).toEqual({ kind: "error", status: 400, reason: "invalid byte in the method" });
    expect(p.phase).toBe("failed");
  });

  test("the end of the stream inside a head or a body is 400; between messages it is a clean end", () => {
    expect(expectSplitInvariant("GET / HTTP/1.1\r\nHost: x\r\n", true).end).toEqual(e(400, "connection closed inside the request head"));
    expect(expectSplitInvariant(POST("Content-Length: 5\r\n", "abc"), true).end).toEqual(e(400, "connection closed inside the request body"));
    expect(expectSplitInvariant(CHUNKED("3\r\nabc\r\n"), true).end).toEqual(e(400, "connection closed inside the request body"));
    expect(expectSplitInvariant(GET(), true)).toEqual({ messages: [msg({})], end: "idle" });
    expect(parse("", [], true)).toEqual({ messages: [], end: "idle" });
  });

  test("phase follows the bytes: idle, head after one byte, body after the head, idle after the body", () => {
    const p = new RequestParser(LIMITS);
    expect(p.phase).toBe("idle");
    p.push(Buffer.from("P"));
    expect([p.next().kind, p.phase]).toEqual(["incomplete", "head"]);
    p.push(Buffer.from("OST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\na"));
    expect([p.next().kind, p.next().kind, p.phase]).toEqual(["head", "incomplete", "body"]);
    p.push(Buffer.from("b"));
    expect([p.next().kind, p.phase, p.buffered]).toEqual(["body", "idle", 0]);
  });
});
