import { describe, expect, test } from "bun:test";
import { jsonReply, textReply, type HttpRequest } from "../../src/http/index.ts";
import { py, startTestHttp, until } from "./helpers.ts";

type Resp = { status: string; headers: Record<string, string>; body: string };

const echoHandler = (req: HttpRequest) => textReply(200, `${req.method} ${req.target} ${req.body.length} from ${req.peer.port}`);

describe("HTTP/1.1 connections", () => {
  test("keep-alive: three requests on one connection are all answered on it", async () => {
    await using h = startTestHttp(echoHandler);
    const out = await py<{ port: number; rs: Resp[] }>(
      String.raw`
s, f = connect(int(sys.argv[1]))
rs = []
for p in ["/a", "/b", "/c"]:
    s.sendall(("GET %s HTTP/1.1\r\nHost: x\r\n\r\n" % p).encode())
    rs.append(read_response(f))
print(json.dumps({"port": s.getsockname()[1], "rs": rs}))`,
      [h.port],
    );
    expect(out.rs.map((r) => [r.status, r.body])).toEqual(["/a", "/b", "/c"].map((p) => ["HTTP/1.1 200 OK", `GET ${p} 0 from ${out.port}\n`]));
    expect(out.rs[0]!.headers["content-length"]).toBe(String(`GET /a 0 from ${out.port}\n`.length));
    expect(out.rs[0]!.headers["connection"]).toBeUndefined();
    expect(h.server.counters.connectionsAccepted).toBe(1);
    await until(() => h.server.connections() === 0, 5000, "the peer's close");
  });

  test("pipelined requests are answered in order although later handlers finish first", async () => {
    const delays: Record<string, number> = { "/1": 80, "/2": 40, "/3": 0, "/4": 20 };
    await using h = startTestHttp(async (req) => {
      await Bun.sleep(delays[req.path] ?? 0);
      return textReply(200, `${req.path} ${req.text()}`);
    });
    const rs = await py<(Resp | null)[]>(
      String.raw`
s, f = connect(int(sys.argv[1]))
reqs = b"GET /1 HTTP/1.1\r\nHost: x\r\n\r\n" + b"POST /2 HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nbody" + b"GET /3 HTTP/1.1\r\nHost: x\r\n\r\n" + b"GET /4 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
s.sendall(reqs)
rs = [read_response(f) for _ in range(4)]
rs.append(read_response(f))
print(json.dumps(rs))`,
      [h.port],
    );
    expect(rs.map((r) => r && r.body)).toEqual(["/1 \n", "/2 body\n", "/3 \n", "/4 \n", null]);
    expect(rs[3]?.headers["connection"]).toBe("close");
  });

  test("HEAD gets the GET's Content-Length and no body: the next response on the connection parses cleanly", async () => {
    await using h = startTestHttp((req) => textReply(200, `a body of some length for ${req.method}`));
    const rs = await py<Resp[]>(
      String.raw`
s, f = connect(int(sys.argv[1]))
s.sendall(b"HEAD / HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n")
print(json.dumps([read_response(f, head_only=True), read_response(f)]))`,
      [h.port],
    );
    expect(rs[0]!.headers["content-length"]).toBe(String("a body of some length for HEAD\n".length));
    expect([rs[1]!.status, rs[1]!.body]).toEqual(["HTTP/1.1 200 OK", "a body of some length for GET\n"]);
  });

  test("HTTP/1.0: closed after the reply unless it asks for keep-alive, which it then gets", async () => {
    await using h = startTestHttp(echoHandler);
    const out = await py<{ plain: Resp; eof: boolean; ka: Resp[] }>(
      String.raw`
s, f = connect(int(sys.argv[1]))
s.sendall(b"GET /x HTTP/1.0\r\n\r\n")
plain = read_response(f)
eof = f.read(1) == b""
s, f = connect(int(sys.argv[1]))
ka = []
for _ in range(2):
    s.sendall(b"GET /y HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
    ka.append(read_response(f))
print(json.dumps({"plain": plain, "eof": eof, "ka": ka}))`,
      [h.port],
    );
    expect([out.plain.headers["connection"], out.eof]).toEqual(["close", true]);
    expect(out.ka.map((r) => [r.status, r.headers["connection"]])).toEqual([
      ["HTTP/1.1 200 OK", "keep-alive"],
      ["HTTP/1.1 200 OK", "keep-alive"],
    ]);
  });

  test("Bun's fetch: JSON in and out, query and decoded path; IPv6 on ::1", async () => {
    const handler = (req: HttpRequest) =>
      req.method === "POST" ? jsonReply(201, { got: req.json(), q: req.query.get("q"), path: req.path, decoded: req.decodedPath, peer: req.peer.address }) : textReply(404, "not found");
    await using h = startTestHttp(handler);
    const r = await fetch(`http://127.0.0.1:${h.port}/a%20b/%C3%A9?q=1%2B1`, { method: "POST", body: JSON.stringify({ n: [1, 2] }) });
    expect([r.status, r.headers.get("content-type"), await r.json()]).toEqual([201, "application/json", { got: { n: [1, 2] }, q: "1+1", path: "/a%20b/%C3%A9", decoded: "/a b/é", peer: "127.0.0.1" }]);
    const bad = await fetch(`http://127.0.0.1:${h.port}/`, { method: "POST", body: "{nope" });
    expect([bad.status, (await bad.text()).startsWith("request body is not JSON")]).toEqual([400, true]);
    await using h6 = startTestHttp(handler, {}, { host: "[::1]" });
    const r6 = await fetch(`http://[::1]:${h6.port}/v6`, { method: "POST", body: "1" });
    expect(((await r6.json()) as { peer: string }).peer).toBe("::1");
    expect(h.log.of("http-handler-error")).toEqual([]);
  });
});

describe("request bodies", () => {
  const digest = (req: HttpRequest) => textReply(200, `${req.body.length} ${Bun.hash(req.body).toString(16)}`);
  const payload = Buffer.alloc(40_000, 0).map((_, i) => (i * 7 + 3) & 0xff);
  const expected = `${payload.length} ${Bun.hash(payload).toString(16)}\n`;

  test("Expect: 100-continue: the 100 comes before the body is sent; a body over the limit gets 413 instead", async () => {
    await using h = startTestHttp(digest, { maxBodyBytes: 50_000 });
    const out = await py<{ interim: string; final: Resp; big: Resp; bigEof: boolean }>(
      String.raw`
port = int(sys.argv[1])
s, f = connect(port)
s.sendall(b"PUT /p HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 10\r\n\r\n")
interim = f.readline().decode().rstrip() + "|" + f.readline().decode().rstrip()
s.sendall(b"0123456789")
final = read_response(f)
s, f = connect(port)
s.sendall(b"PUT /p HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 60000\r\n\r\n")
big = read_response(f)
print(json.dumps({"interim": interim, "final": final, "big": big, "bigEof": f.read(1) == b""}))`,
      [h.port],
    );
    expect(out.interim).toBe("HTTP/1.1 100 Continue|");
    expect(out.final.body).toBe(`10 ${Bun.hash("0123456789").toString(16)}\n`);
    expect([out.big.status, out.big.body, out.big.headers["connection"], out.bigEof]).toEqual(["HTTP/1.1 413 Content Too Large", "request body larger than 50000 bytes\n", "close", true]);
  });

  test("curl -H 'Expect: 100-continue' --data-binary @file: the body goes at once, not after curl's wait", async () => {
    await using h = startTestHttp(digest);
    const file = `${process.env.TMPDIR ?? "/tmp"}/http-100-${process.pid}.bin`;
    await Bun.write(file, payload);
    const t0 = performance.now();
    const curl = Bun.spawn(["curl", "-sS", "-v", "--max-time", "8", "--expect100-timeout", "4", "-H", "Expect: 100-continue", "--data-binary", `@${file}`, `http://127.0.0.1:${h.port}/up`], {
      stdout: "pipe",
      stderr: "pipe",
    });
    const [body, err] = await Promise.all([new Response(curl.stdout).text(), new Response(curl.stderr).text(), curl.exited]);
    const ms = performance.now() - t0;
    await Bun.file(file).delete();
    expect(body).toBe(expected);
    expect(err).toContain("HTTP/1.1 100 Continue");
    // Without our 100, curl would wait its 4 s expect100-timeout before sending.
    expect(ms).toBeLessThan(3000);
  });

  test("chunked bodies are decoded: from python in pieces, and from curl", async () => {
    await using h = startTestHttp(digest);
    const out = await py<Resp>(
      String.raw`
s, f = connect(int(sys.argv[1]))
s.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc")
time.sleep(0.02)
s.sendall(b"\r\n4\r\ndefg\r\n0\r\nX-T: 1\r\n")
time.sleep(0.02)
s.sendall(b"\r\n")
print(json.dumps(read_response(f)))`,
      [h.port],
    );
    expect(out.body).toBe(`7 ${Bun.hash("abcdefg").toString(16)}\n`);
    const file = `${process.env.TMPDIR ?? "/tmp"}/http-chunked-${process.pid}.bin`;
    await Bun.write(file, payload);
    const curl = Bun.spawn(["curl", "-sS", "--max-time", "8", "-H", "Transfer-Encoding: chunked", "--data-binary", `@${file}`, `http://127.0.0.1:${h.port}/`], { stdout: "pipe", stderr: "pipe" });
    const text = await new Response(curl.stdout).text();
    await curl.exited;
    await Bun.file(file).delete();
    expect(text).toBe(expected);
  });
});

describe("handler failures stay in their request", () => {
  test("a throwing or rejecting handler gets 500 and one warn line with the message, no stack; the connection goes on", async () => {
    await using h = startTestHttp((req) => {
      if (req.path === "/throw") throw new Error("boom\n    at fake (frame.ts:1:1)");
      if (req.path === "/reject") return Promise.reject(new TypeError("async boom"));
      return textReply(200, "fine");
    });
    const rs = await py<Resp[]>(
      String.raw`
s, f = connect(int(sys.argv[1]))
out = []
for p in ["/throw", "/ok", "/reject", "/ok"]:
    s.sendall(("GET %s HTTP/1.1\r\nHost: x\r\n\r\n" % p).encode())
    out.append(read_response(f))
print(json.dumps(out))`,
      [h.port],
    );
    expect(rs.map((r) => [r.status, r.body])).toEqual([
      ["HTTP/1.1 500 Internal Server Error", "internal server error\n"],
      ["HTTP/1.1 200 OK", "fine\n"],
      ["HTTP/1.1 500 Internal Server Error", "internal server error\n"],
      ["HTTP/1.1 200 OK", "fine\n"],
    ]);
    const lines = h.log.of("http-handler-error");
    expect(lines.map((l) => [l.level, l.error])).toEqual([
      ["warn", "boom at fake (frame.ts:1:1)"],
      ["warn", "async boom"],
    ]);
    expect(h.server.counters.handlerErrors).toBe(2);
    expect(h.server.counters.connectionsAccepted).toBe(1);
  });

  test("a reply that cannot be sent (a header value with CRLF, a bad status, nothing) is a 500, nothing of it leaks", async () => {
    await using h = startTestHttp((req) => {
      if (req.path === "/split") return { status: 200, headers: { "x-a": "1\r\nSet-Cookie: evil=1" }, body: "x" };
      if (req.path === "/none") return Promise.resolve(undefined as never);
      return { status: req.path === "/s99" ? 99 : 200, body: "y" };
    });
    const rs = await py<Resp[]>(
      String.raw`
s, f = connect(int(sys.argv[1]))
s.sendall(b"".join(b"GET %s HTTP/1.1\r\nHost: x\r\n\r\n" % p for p in [b"/split", b"/s99", b"/none", b"/ok"]))
print(json.dumps([read_response(f) for _ in range(4)]))`,
      [h.port],
    );
    expect(rs.map((r) => [r.status, r.headers["set-cookie"] ?? null, r.body])).toEqual([
      ["HTTP/1.1 500 Internal Server Error", null, "internal server error\n"],
      ["HTTP/1.1 500 Internal Server Error", null, "internal server error\n"],
      ["HTTP/1.1 500 Internal Server Error", null, "internal server error\n"],
      ["HTTP/1.1 200 OK", null, "y"],
    ]);
    expect(h.log.of("http-handler-error").map((l) => l.error)).toEqual(["invalid value for header x-a", "invalid status 99", "the handler returned no reply"]);
  });
});

describe("stop()", () => {
  test("closes idle keep-alive connections at once, lets an in-flight reply finish with Connection: close, and is idempotent", async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let entered!: () => void;
    const inHandler = new Promise<void>((r) => (entered = r));
    const h = startTestHttp(async (req) => {
      if (req.path === "/slow") {
        entered();
        await gate;
      }
      return textReply(200, req.path);
    });
    const script = py<{ idle: string; slow: Resp; slowEof: boolean }>(
      String.raw`
port = int(sys.argv[1])
a, fa = connect(port)
a.sendall(b"GET /first HTTP/1.1\r\nHost: x\r\n\r\n")
read_response(fa)
b, fb = connect(port)
b.sendall(b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
idle = "eof" if fa.read(1) == b"" else "data"
fa.close(); a.close()
slow = read_response(fb)
print(json.dumps({"idle": idle, "slow": slow, "slowEof": fb.read(1) == b""}))`,
      [h.port],
    );
    await inHandler;
    await until(() => h.server.connections() === 2, 5000, "both connections");
    const stopping = h.server.stop();
    expect(h.server.stop()).toBe(stopping);
    // The idle one goes now; the busy one waits for its reply.
    await until(() => h.server.connections() === 1, 1000, "the idle connection to close");
    release();
    await stopping;
    const out = await script;
    expect(out).toEqual({ idle: "eof", slow: { status: "HTTP/1.1 200 OK", headers: expect.objectContaining({ connection: "close" }), body: "/slow\n" }, slowEof: true });
    expect(h.server.connections()).toBe(0);
    // Not listening any more.
    expect(await fetch(`http://127.0.0.1:${h.port}/`).then(() => "answered", () => "refused")).toBe("refused");
  });
});
