import { describe, expect, test } from "bun:test";
import { spawnServer } from "./helpers/process.ts";
import { python } from "./helpers/python.ts";

// Raw requests from python3, each on its own connection: the status line (or "closed" when the
// server drops the connection) and the size of the whole response.
const RAW = String.raw`
import json, socket, sys
port = int(sys.argv[1])
cases = json.loads(sys.argv[2])
out = []
for req in cases:
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    try:
        s.sendall(req.encode("latin-1"))
        s.shutdown(socket.SHUT_WR)
        data = b""
        while True:
            d = s.recv(65536)
            if not d: break
            data += d
    except (ConnectionResetError, BrokenPipeError):
        data = data if "data" in dir() else b""
    s.close()
    line = data.split(b"\r\n", 1)[0].decode("latin-1") if data else "closed"
    out.append({"status": line, "size": len(data), "html": b"<html" in data.lower() or b"/src/" in data})
print(json.dumps(out))
`;

const HOSTILE: Record<string, string> = {
  "malformed Host": "GET /metrics HTTP/1.1\r\nHost: [::1\r\n\r\n",
  "Host with a space": "GET /metrics HTTP/1.1\r\nHost: a b\r\n\r\n",
  CONNECT: "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n",
  "asterisk-form": "OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n",
  "huge header": `GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(100_000)}\r\n\r\n`,
  "bad method": "FROB /metrics HTTP/1.1\r\nHost: x\r\n\r\n",
  "method with a control byte": "GE\x01T /metrics HTTP/1.1\r\nHost: x\r\n\r\n",
  "POST with a body": "POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc",
  "negative Content-Length": "GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
  "two Content-Lengths": "GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
  "non-numeric Content-Length": "GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
  "bad chunk": "POST /metrics HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
  "HTTP/0.9 line": "GET /metrics\r\n\r\n",
  "garbage": "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",
};

describe("the metrics port answers hostile requests with one short line and no source code", () => {
  test(`${Object.keys(HOSTILE).join(", ")}: a short 4xx/5xx or a dropped connection; a clean SIGTERM still exits 0; every log line is one JSON object`, async () => {
    await using p = await spawnServer(["--metrics", "127.0.0.1:0"], { env: { NODE_ENV: "development" } });
    const m = await p.log.waitFor((e) => e.event === "metrics");
    const results = JSON.parse(await python(RAW, [m.port as number, JSON.stringify(Object.values(HOSTILE))])) as { status: string; size: number; html: boolean }[];
    const names = Object.keys(HOSTILE);
    results.forEach((r, i) => {
      const what = { request: names[i], status: r.status };
      expect({ ...what, ok: r.status === "closed" || /^HTTP\/1\.[01] [45]\d\d /.test(r.status) }).toEqual({ ...what, ok: true });
      expect({ ...what, html: r.html }).toEqual({ ...what, html: false });
      expect(r.size).toBeLessThan(1024);
    });
    // The server still works, then stops cleanly.
    expect((await fetch(`http://127.0.0.1:${m.port}/healthz`)).status).toBe(200);
    p.proc.kill("SIGTERM");
    expect(await p.exited).toBe(0);
    expect(p.log.of("stopped")).toHaveLength(1);
    expect(p.stray).toEqual([]);
  });
});
