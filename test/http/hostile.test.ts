import { describe, expect, test } from "bun:test";
import { textReply, type HttpRequest } from "../../src/http/index.ts";
import { py, startTestHttp } from "./helpers.ts";

// What the metrics port answers: GET/HEAD on /metrics; the rest is the handler's 404/405.
const metricsLike = (req: HttpRequest) => {
  if (req.method !== "GET" && req.method !== "HEAD") return textReply(405, "method not allowed", { allow: "GET, HEAD" });
  return req.path === "/metrics" ? textReply(200, "metrics") : textReply(404, "not found");
};

// [request, expected status, whether the client half-closes after sending]
const HOSTILE: Record<string, [string, number, boolean]> = {
  "malformed Host": ["GET /metrics HTTP/1.1\r\nHost: [::1\r\n\r\n", 400, true],
  "Host with a space": ["GET /metrics HTTP/1.1\r\nHost: a b\r\n\r\n", 400, true],
  CONNECT: ["CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n", 405, true],
  "asterisk-form": ["OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n", 405, true],
  "huge header": [`GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(100_000)}\r\n\r\n`, 431, true],
  "bad method": ["FROB /metrics HTTP/1.1\r\nHost: x\r\n\r\n", 405, true],
  "method with a control byte": ["GE\x01T /metrics HTTP/1.1\r\nHost: x\r\n\r\n", 400, true],
  "POST with a body": ["POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc", 405, true],
  "negative Content-Length": ["GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", 400, true],
  "two Content-Lengths": ["GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab", 400, true],
  "non-numeric Content-Length": ["GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n", 400, true],
  "bad chunk": ["POST /metrics HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400, true],
  "Transfer-Encoding with Content-Length": ["POST /metrics HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n", 400, true],
  "HTTP/0.9 line": ["GET /metrics\r\n\r\n", 400, true],
  "HTTP/2 preface": ["PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 505, true],
  "NUL in a header value": ["GET /metrics HTTP/1.1\r\nHost: x\r\nX: a\x00b\r\n\r\n", 400, true],
  "a head cut short by the FIN": ["GET /metrics HTTP/1.1\r\nHost: x\r\n", 400, true],
  "garbage (a TLS ClientHello)": ["\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 400, true],
  // No FIN: refused at its first bytes, not after the 5 s header timeout.
  "garbage without a FIN": ["\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 400, false],
  "a path traversal is just a path": ["GET /../../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n", 404, true],
};

const RAW = String.raw`
cases = json.loads(sys.argv[2])
out = []
for req, fin in cases:
    t0 = time.monotonic()
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=4)
    try:
        s.sendall(req.encode("latin-1"))
        if fin:
            s.shutdown(socket.SHUT_WR)
    except (ConnectionResetError, BrokenPipeError):
        pass
    data, how = read_all(s)
    s.close()
    text = data.decode("latin-1")
    head, _, body = text.partition("\r\n\r\n")
    out.append({"status": text.split("\r\n", 1)[0] if data else how, "how": how, "size": len(data), "body": body, "ms": (time.monotonic() - t0) * 1000})
print(json.dumps(out))
`;

describe("hostile requests get one short line, never a crash", () => {
  test(`${Object.keys(HOSTILE).join(", ")}: each its exact status, a one-line text body, a clean close`, async () => {
    await using h = startTestHttp(metricsLike);
    const names = Object.keys(HOSTILE);
    const cases = Object.values(HOSTILE).map(([req, , fin]) => [req, fin]);
    const results = await py<{ status: string; how: string; size: number; body: string; ms: number }[]>(RAW, [h.port, JSON.stringify(cases)]);
    const got = results.map((r, i) => ({ request: names[i], status: r.status.split(" ")[1], how: r.how, oneLine: /^[^\n]*\n$/.test(r.body), short: r.size < 1024 }));
    const want = names.map((name) => ({ request: name, status: String(HOSTILE[name]![1]), how: "eof", oneLine: true, short: true }));
    expect(got).toEqual(want);
    expect(results[names.indexOf("garbage without a FIN")]!.ms).toBeLessThan(2000);
    // Still serving, and the log has no handler error (these are protocol errors, answered by the server).
    const r = await fetch(`http://127.0.0.1:${h.port}/metrics`);
    expect([r.status, await r.text()]).toEqual([200, "metrics\n"]);
    expect(h.log.of("http-handler-error")).toEqual([]);
    const parserRefusals = Object.values(HOSTILE).filter(([, status]) => status !== 404 && status !== 405).length;
    expect(h.server.counters.badRequests).toBe(parserRefusals);
  });
});
