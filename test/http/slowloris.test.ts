import { expect, test } from "bun:test";
import { textReply } from "../../src/http/index.ts";
import { py, startTestHttp } from "./helpers.ts";

// 200 connections, each sending one byte of a head every 100 ms, from one python process; while
// they are open the script asks for a page on a keep-alive connection it opened before the
// attack, and tries one fresh connection. Each attacker records how and when it ended.
const SLOWLORIS = String.raw`
import select
port = int(sys.argv[1])
n = int(sys.argv[2])
ka, kaf = connect(port)
ka.sendall(b"GET /before HTTP/1.1\r\nHost: x\r\n\r\n")
before = read_response(kaf)["status"]
head = b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 10000
socks = []
for i in range(n):
    s = socket.socket()
    s.setblocking(True)
    t = time.monotonic()
    try:
        s.connect(("127.0.0.1", port))
    except ConnectionResetError:
        socks.append({"s": None, "t0": t, "end": t, "how": "reset", "data": b"", "sent": 0})
        continue
    s.setblocking(False)
    socks.append({"s": s, "t0": t, "end": None, "how": None, "data": b"", "sent": 0})
def open_count():
    return sum(1 for c in socks if c["end"] is None)
def poll(timeout):
    live = [c for c in socks if c["end"] is None]
    if not live:
        return
    r, _, _ = select.select([c["s"] for c in live], [], [], timeout)
    for c in live:
        if c["s"] in r:
            try:
                d = c["s"].recv(4096)
            except ConnectionResetError:
                d, c["how"] = b"", "reset"
            if d:
                c["data"] += d
                continue
            c["end"] = time.monotonic()
            c["how"] = c["how"] or "eof"
            c["s"].close()
during = None
start = time.monotonic()
while open_count() > 0 and time.monotonic() - start < 5:
    for c in socks:
        if c["end"] is None:
            try:
                c["s"].send(head[c["sent"]:c["sent"] + 1])
                c["sent"] += 1
            except (BlockingIOError, ConnectionResetError, BrokenPipeError):
                pass
    if during is None and time.monotonic() - start > 0.15:
        # Mid-attack: the established keep-alive connection is answered, a new one is refused.
        ka.sendall(b"GET /during HTTP/1.1\r\nHost: x\r\n\r\n")
        got = read_response(kaf)["status"]
        try:
            fresh = socket.create_connection(("127.0.0.1", port), timeout=2)
            fresh.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            fresh_got = read_all(fresh)
            fresh_result = fresh_got[1] + ":" + fresh_got[0].decode("latin-1")[:12]
        except (ConnectionResetError, BrokenPipeError):
            fresh_result = "reset:"
        during = {"status": got, "open": open_count(), "fresh": fresh_result}
    t_next = time.monotonic() + 0.1
    while time.monotonic() < t_next:
        poll(max(0, t_next - time.monotonic()))
after = socket.create_connection(("127.0.0.1", port), timeout=2)
after.sendall(b"GET /after HTTP/1.1\r\nHost: x\r\n\r\n")
after_status = read_response(after.makefile("rb"))["status"]
print(json.dumps({
    "before": before, "during": during, "after": after_status,
    "attackers": [{"how": c["how"], "ms": ((c["end"] or time.monotonic()) - c["t0"]) * 1000, "sent": c["sent"], "status": c["data"].split(b"\r\n", 1)[0].decode("latin-1")} for c in socks],
}))
`;

test("slowloris: 200 trickling connections are held to the cap and each cut at the header timeout; the server answers throughout", async () => {
  await using h = startTestHttp((req) => textReply(200, req.path), { headerTimeoutMs: 500, maxConnections: 64 });
  let peak = 0;
  const sampler = setInterval(() => (peak = Math.max(peak, h.server.connections())), 5);
  type Out = {
    before: string;
    during: { status: string; open: number; fresh: string };
    after: string;
    attackers: { how: string; ms: number; sent: number; status: string }[];
  };
  const out = await py<Out>(SLOWLORIS, [h.port, 200], 15_000);
  clearInterval(sampler);
  expect([out.before, out.during.status, out.after]).toEqual(["HTTP/1.1 200 OK", "HTTP/1.1 200 OK", "HTTP/1.1 200 OK"]);
  // 63 attackers fit beside the keep-alive connection; all of them were still open mid-attack.
  expect(out.during.open).toBe(63);
  expect(["reset:", "eof:"]).toContain(out.during.fresh);
  expect(peak).toBe(64);
  const accepted = out.attackers.filter((a) => a.status !== "");
  const refused = out.attackers.filter((a) => a.status === "");
  expect([accepted.length, refused.length]).toEqual([63, 137]);
  // Every accepted one was cut by a 408 at the header timeout, although it sent a byte every 100 ms.
  expect(new Set(accepted.map((a) => `${a.status} ${a.how}`))).toEqual(new Set(["HTTP/1.1 408 Request Timeout eof"]));
  for (const a of accepted) {
    expect(a.ms).toBeGreaterThanOrEqual(480);
    expect(a.ms).toBeLessThan(1800);
    expect(a.sent).toBeGreaterThanOrEqual(3);
  }
  // The refused ones ended at once: long before any timeout.
  for (const r of refused) expect(r.ms).toBeLessThan(400);
  expect(h.server.counters.timeouts.header).toBe(63);
  expect(h.server.counters.connectionsRefused).toBe(137 + 1);
});
