import { describe, expect, test } from "bun:test";
import { SSE_HEADERS, sseComment, sseEvent, textReply, type HttpRequest, type StreamSink } from "../../src/http/index.ts";
import { py, spawnPy, startTestHttp, until } from "./helpers.ts";

/** A handler whose streams the test drives: each opened sink is handed over. */
function streams() {
  const opened: StreamSink[] = [];
  const closed: string[] = [];
  const handler = (req: HttpRequest) =>
    req.path === "/events"
      ? {
          status: 200,
          headers: SSE_HEADERS,
          stream: (sink: StreamSink) => {
            opened.push(sink);
            return () => closed.push(`cleanup ${opened.indexOf(sink)}`);
          },
        }
      : textReply(200, `plain ${req.path}`);
  return { opened, closed, handler };
}

describe("streaming replies (Server-Sent Events)", () => {
  test("a fetch reader gets each event as it is written, and the end; the stream's cleanup runs once", async () => {
    const s = streams();
    await using h = startTestHttp(s.handler);
    const r = await fetch(`http://127.0.0.1:${h.port}/events`);
    expect([r.status, r.headers.get("content-type"), r.headers.get("transfer-encoding")]).toEqual([200, "text/event-stream; charset=utf-8", "chunked"]);
    const reader = r.body!.getReader();
    const dec = new TextDecoder();
    await until(() => s.opened.length === 1);
    const sink = s.opened[0]!;
    for (const n of [1, 2, 3]) {
      expect(sink.write(sseEvent({ event: "tick", id: String(n), data: `line ${n}\nsecond` }))).toBe(true);
      // Each read returns the event just written: nothing waits for the end of the body.
      const { value } = await reader.read();
      expect(dec.decode(value)).toBe(`event: tick\nid: ${n}\ndata: line ${n}\ndata: second\n\n`);
    }
    sink.end();
    expect((await reader.read()).done).toBe(true);
    expect([sink.closed, sink.write("late"), s.closed]).toEqual([true, false, ["cleanup 0"]]);
  });

  test("HTTP/1.1 framing is chunked and the connection is reused after the stream; HTTP/1.0 gets a close-delimited body", async () => {
    const s = streams();
    await using h = startTestHttp(s.handler);
    const proc = await spawnPy(
      String.raw`
port = int(sys.argv[1])
s, f = connect(port)
s.sendall(b"GET /events HTTP/1.1\r\nHost: x\r\n\r\nGET /next HTTP/1.1\r\nHost: x\r\n\r\n")
# Through the same buffered reader as the next response, which may come in the same segment.
raw = b""
while not raw.endswith(b"\r\n0\r\n\r\n"):
    line = f.readline()
    if not line:
        break
    raw += line
nxt = read_response(f)
t, tf = connect(port)
t.sendall(b"GET /events HTTP/1.0\r\n\r\n")
old, how = read_all(t)
print(json.dumps({"raw": raw.decode(), "next": nxt["body"], "old": old.decode(), "how": how}))`,
      [h.port],
    );
    await until(() => s.opened.length === 1);
    s.opened[0]!.write("data: a\n\n");
    s.opened[0]!.write(new TextEncoder().encode("data: é\n\n"));
    s.opened[0]!.write("");
    s.opened[0]!.end();
    await until(() => s.opened.length === 2);
    s.opened[1]!.write("data: old\n\n");
    s.opened[1]!.end();
    const out = JSON.parse(await new Response(proc.stdout).text()) as { raw: string; next: string; old: string; how: string };
    const [head, body] = out.raw.split("\r\n\r\n", 2).length === 2 ? [out.raw.slice(0, out.raw.indexOf("\r\n\r\n")), out.raw.slice(out.raw.indexOf("\r\n\r\n") + 4)] : ["", ""];
    expect(head).toContain("\r\ntransfer-encoding: chunked");
    expect(head).not.toContain("content-length");
    expect(head).not.toContain("connection: close");
    expect(body).toBe("9\r\ndata: a\n\n\r\na\r\ndata: é\n\n\r\n0\r\n\r\n");
    expect(out.next).toBe("plain /next\n");
    const oldHead = out.old.slice(0, out.old.indexOf("\r\n\r\n"));
    expect(oldHead).toContain("\r\nconnection: close");
    expect(oldHead).not.toContain("transfer-encoding");
    expect([out.old.slice(oldHead.length + 4), out.how]).toEqual(["data: old\n\n", "eof"]);
  });

  test("a client that does not read is cut once maxUnsentBytes wait; write() says false, onClose runs", async () => {
    const s = streams();
    await using h = startTestHttp(s.handler, { maxUnsentBytes: 256 * 1024 });
    const proc = await spawnPy(
      String.raw`
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.connect(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"GET /events HTTP/1.1\r\nHost: x\r\n\r\n")
time.sleep(10)
`,
      [h.port],
    );
    await until(() => s.opened.length === 1);
    const sink = s.opened[0]!;
    let onClose = 0;
    sink.onClose(() => onClose++);
    const event = `data: ${"x".repeat(64 * 1024)}\n\n`;
    let writes = 0;
    // The kernel's buffers take a few MB; then our queue fills to the bound.
    while (writes < 10_000 && sink.write(event)) writes++;
    expect([sink.closed, onClose, s.closed, h.server.counters.streamsOverflowed]).toEqual([true, 1, ["cleanup 0"], 1]);
    expect(writes).toBeGreaterThan(4);
    expect(writes).toBeLessThan(10_000);
    await until(() => h.server.connections() === 0, 2000, "the slow client's connection to close");
    proc.kill();
    await proc.exited;
    expect(h.log.of("http-stream-overflow")).toHaveLength(1);
  });

  test("the peer going away closes the stream: onClose runs and write() says false", async () => {
    const s = streams();
    await using h = startTestHttp(s.handler);
    const ctl = new AbortController();
    const r = await fetch(`http://127.0.0.1:${h.port}/events`, { signal: ctl.signal });
    await until(() => s.opened.length === 1);
    const gone = new Promise<void>((resolve) => s.opened[0]!.onClose(resolve));
    ctl.abort();
    await r.body?.cancel().catch(() => {});
    await gone;
    expect([s.opened[0]!.write("x"), s.closed]).toEqual([false, ["cleanup 0"]]);
  });

  test("stop() ends open streams cleanly (last chunk) and resolves", async () => {
    const s = streams();
    const h = startTestHttp(s.handler);
    const r = await fetch(`http://127.0.0.1:${h.port}/events`);
    await until(() => s.opened.length === 1);
    s.opened[0]!.write("data: before stop\n\n");
    await h.server.stop();
    // The whole body, ended by the terminating chunk: text() would reject on a cut body.
    expect(await r.text()).toBe("data: before stop\n\n");
    expect(s.closed).toEqual(["cleanup 0"]);
    expect(h.server.connections()).toBe(0);
  });

  test("a stream callback that throws: the body is cut short (reset), one warn line, the server goes on", async () => {
    await using h = startTestHttp((req) =>
      req.path === "/bad"
        ? {
            status: 200,
            stream: (sink: StreamSink) => {
              sink.write("partial");
              throw new Error("stream setup failed");
            },
          }
        : textReply(200, "fine"),
    );
    const out = await py<{ status: string; how: string }>(
      String.raw`
s, f = connect(int(sys.argv[1]))
s.sendall(b"GET /bad HTTP/1.1\r\nHost: x\r\n\r\n")
data, how = read_all(s)
print(json.dumps({"status": data.split(b"\r\n", 1)[0].decode(), "how": how}))`,
      [h.port],
    );
    expect(out).toEqual({ status: "HTTP/1.1 200 OK", how: "reset" });
    expect(h.log.of("http-handler-error").map((l) => l.error)).toEqual(["stream setup failed"]);
    expect(await (await fetch(`http://127.0.0.1:${h.port}/`)).text()).toBe("fine\n");
  });
});

describe("SSE framing", () => {
  test("data lines split on every line break; event and id refuse line breaks that would forge fields", () => {
    expect(sseEvent({ data: "a\r\nb\rc\nd", retry: 1500.7 })).toBe("retry: 1500\ndata: a\ndata: b\ndata: c\ndata: d\n\n");
    expect(sseEvent({ data: "" })).toBe("data: \n\n");
    expect(() => sseEvent({ data: "x", event: "a\ndata: forged" })).toThrow(RangeError);
    expect(() => sseEvent({ data: "x", id: "1\r2" })).toThrow(RangeError);
    expect(sseComment("keep\nalive")).toBe(": keep alive\n\n");
  });
});
