import { describe, expect, test } from "bun:test";
import { textReply } from "../../src/http/index.ts";
import { py, startTestHttp, until } from "./helpers.ts";

type Resp = { status: string; headers: Record<string, string>; body: string };
const ok = () => textReply(200, "ok");

describe("size limits: the reply arrives whole, then a clean close (no reset eats it)", () => {
  test("a 20 KiB head gets 431 at the 16 KiB default", async () => {
    await using h = startTestHttp(ok);
    const out = await py<{ resp: string; how: string }>(
      String.raw`
s, f = connect(int(sys.argv[1]))
s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 20000 + b"\r\n\r\n")
data, how = read_all(s)
print(json.dumps({"resp": data.decode("latin-1"), "how": how}))`,
      [h.port],
    );
    expect(out.how).toBe("eof");
    expect(out.resp).toStartWith("HTTP/1.1 431 Request Header Fields Too Large\r\n");
    expect(out.resp).toContain("\r\nconnection: close\r\n");
    expect(out.resp).toEndWith("\r\n\r\nrequest head larger than 16384 bytes\n");
    expect(h.server.counters.badRequests).toBe(1);
  });

  test("a Content-Length over maxBodyBytes gets 413 even while the client keeps sending the body", async () => {
    await using h = startTestHttp(ok, { maxBodyBytes: 1000 });
    const out = await py<{ resp: string; how: string }>(
      String.raw`
s, f = connect(int(sys.argv[1]))
s.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 300000\r\n\r\n" + b"b" * 300000)
data, how = read_all(s)
print(json.dumps({"resp": data.decode("latin-1"), "how": how}))`,
      [h.port],
    );
    expect([out.how, out.resp.split("\r\n")[0], out.resp.endsWith("request body larger than 1000 bytes\n")]).toEqual(["eof", "HTTP/1.1 413 Content Too Large", true]);
  });
});

describe("timeouts, on the wall clock of an independent peer", () => {
  test("a head trickled one byte per 50 ms is cut by 408 at headerTimeoutMs from the open: traffic does not extend it", async () => {
    await using h = startTestHttp(ok, { headerTimeoutMs: 300 });
    const out = await py<{ resp: string; ms: number; sent: number }>(
      String.raw`
import select
# t0 before the server can start its timer: a peer descheduled after connect() would take it late.
t0 = time.monotonic()
s, f = connect(int(sys.argv[1]))
s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nX-T: ")
sent = 0
data = b""
while time.monotonic() - t0 < 3:
    r, _, _ = select.select([s], [], [], 0.05)
    if r:
        d = s.recv(4096)
        if not d:
            break
        data += d
        continue
    s.sendall(b"a")
    sent += 1
print(json.dumps({"resp": data.decode("latin-1"), "ms": (time.monotonic() - t0) * 1000, "sent": sent}))`,
      [h.port],
    );
    expect(out.resp.split("\r\n")[0]).toBe("HTTP/1.1 408 Request Timeout");
    expect(out.resp).toEndWith("request head not received in time\n");
    expect(out.sent).toBeGreaterThanOrEqual(3);
    expect(out.ms).toBeGreaterThanOrEqual(290);
    expect(out.ms).toBeLessThan(1300);
    expect(h.server.counters.timeouts.header).toBe(1);
  });

  test("a connection that sends nothing is closed silently at headerTimeoutMs", async () => {
    await using h = startTestHttp(ok, { headerTimeoutMs: 300 });
    const out = await py<{ data: string; how: string; ms: number }>(
      String.raw`
# t0 before the server can start its timer: a peer descheduled after connect() would take it late.
t0 = time.monotonic()
s, f = connect(int(sys.argv[1]))
data, how = read_all(s)
print(json.dumps({"data": data.decode("latin-1"), "how": how, "ms": (time.monotonic() - t0) * 1000}))`,
      [h.port],
    );
    expect([out.data, out.how]).toEqual(["", "eof"]);
    expect(out.ms).toBeGreaterThanOrEqual(290);
    expect(out.ms).toBeLessThan(1300);
    expect(h.server.counters.timeouts.header).toBe(1);
  });

  test("a body that does not complete within bodyTimeoutMs gets 408", async () => {
    await using h = startTestHttp(ok, { bodyTimeoutMs: 300 });
    const out = await py<{ resp: string; ms: number }>(
      String.raw`
import select
s, f = connect(int(sys.argv[1]))
# t0 before the server can start its timer: a peer descheduled after connect() would take it late.
t0 = time.monotonic()
s.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc")
data = b""
while time.monotonic() - t0 < 3:
    r, _, _ = select.select([s], [], [], 0.1)
    if not r:
        s.sendall(b"d")
        continue
    d = s.recv(4096)
    if not d:
        break
    data += d
print(json.dumps({"resp": data.decode("latin-1"), "ms": (time.monotonic() - t0) * 1000}))`,
      [h.port],
    );
    expect(out.resp.split("\r\n")[0]).toBe("HTTP/1.1 408 Request Timeout");
    expect(out.resp).toEndWith("request body not received in time\n");
    expect(out.ms).toBeGreaterThanOrEqual(290);
    expect(out.ms).toBeLessThan(1300);
    expect(h.server.counters.timeouts.body).toBe(1);
  });

  test("a keep-alive connection idle for idleTimeoutMs is closed without a reply; before that it is reused", async () => {
    await using h = startTestHttp(ok, { idleTimeoutMs: 400, headerTimeoutMs: 5000 });
    const out = await py<{ second: Resp; data: string; how: string; ms: number }>(
      String.raw`
s, f = connect(int(sys.argv[1]))
s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
read_response(f)
time.sleep(0.2)
# t0 before the server can start its timer: a peer descheduled after connect() would take it late.
t0 = time.monotonic()
s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
second = read_response(f)
data = f.read(1)
print(json.dumps({"second": second, "data": data.decode(), "how": "eof" if data == b"" else "data", "ms": (time.monotonic() - t0) * 1000}))`,
      [h.port],
    );
    expect(out.second.status).toBe("HTTP/1.1 200 OK");
    expect([out.data, out.how]).toEqual(["", "eof"]);
    expect(out.ms).toBeGreaterThanOrEqual(390);
    expect(out.ms).toBeLessThan(1400);
    expect(h.server.counters.timeouts).toEqual({ header: 0, body: 0, idle: 1, send: 0 });
  });

  test("a peer that stops reading a large reply is reset once its unsent bytes made no progress for idleTimeoutMs", async () => {
    const big = new Uint8Array(32 * 1024 * 1024);
    await using h = startTestHttp(() => ({ status: 200, body: big }), { idleTimeoutMs: 300 });
    const peer = py<{ got: number }>(
      String.raw`
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.connect(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
time.sleep(0.8)
got = 0
try:
    while True:
        d = s.recv(1 << 20)
        if not d:
            break
        got += len(d)
except ConnectionResetError:
    pass
print(json.dumps({"got": got}))`,
      [h.port],
    );
    // Not a bound on the timeout (python's start is in it, seconds on a loaded machine): that it fires.
    await until(() => h.server.counters.timeouts.send === 1, 10_000, "the send timeout");
    await until(() => h.server.connections() === 0, 1000, "the reset");
    expect((await peer).got).toBeLessThan(big.length);
  });
});

describe("connection and pipeline bounds", () => {
  test("maxConnections 4: a 5th connection is closed at once while the 4 still get answers; a burst of refusals logs at most one line a second", async () => {
    await using h = startTestHttp(ok, { maxConnections: 4 });
    const out = await py<{ fifth: string; fifthMs: number; four: string[] }>(
      String.raw`
port = int(sys.argv[1])
held = [connect(port) for _ in range(4)]
for s, f in held:
    s.sendall(b"G")
time.sleep(0.1)
def refused():
    # The reset may already be there when connect() returns.
    try:
        s, f = connect(port)
    except ConnectionResetError:
        return "reset:"
    data, how = read_all(s)
    return how + ":" + data.decode("latin-1")
t0 = time.monotonic()
fifth = refused()
fifth_ms = (time.monotonic() - t0) * 1000
for _ in range(30):
    refused()
four = []
for s, f in held:
    s.sendall(b"ET / HTTP/1.1\r\nHost: x\r\n\r\n")
    four.append(read_response(f)["status"])
print(json.dumps({"fifth": fifth, "fifthMs": fifth_ms, "four": four}))`,
      [h.port],
    );
    // Reset before a byte is read: no reply, no wait for any timeout.
    expect(["reset:", "eof:"]).toContain(out.fifth);
    expect(out.fifthMs).toBeLessThan(1000);
    expect(out.four).toEqual(Array(4).fill("HTTP/1.1 200 OK"));
    expect(h.server.counters.connectionsRefused).toBe(31);
    expect(h.server.counters.connectionsAccepted).toBe(4);
    // The first refusal at once, the other 30 in one line with their count.
    const summary = await h.log.waitFor((e) => e.event === "http-refused" && e.refused === 30, 3000);
    expect(summary.level).toBe("warn");
    expect(h.log.of("http-refused").map((e) => e.refused)).toEqual([1, 30]);
  });

  test("maxPipelined 2: forty pipelined requests in one write are all answered, in order", async () => {
    await using h = startTestHttp(async (req) => {
      await Bun.sleep(1);
      return textReply(200, req.path);
    }, { maxPipelined: 2 });
    const bodies = await py<string[]>(
      String.raw`
s, f = connect(int(sys.argv[1]))
s.sendall(b"".join(b"GET /%d HTTP/1.1\r\nHost: x\r\n\r\n" % i for i in range(40)))
print(json.dumps([read_response(f)["body"] for _ in range(40)]))`,
      [h.port],
    );
    expect(bodies).toEqual(Array.from({ length: 40 }, (_, i) => `/${i}\n`));
  });
});
