// Faults only an endpoint can make: a listener that refuses connections (enabled false), and one
// that keeps listening without accepting (the accept queue fills; with --backlog 1 the third
// connect waits on SYN retransmissions). python3 is the client: its connect() is the kernel's.
import { describe, expect, test } from "bun:test";
import { connect } from "../helpers/client.ts";
import { python } from "../helpers/python.ts";
import { serve } from "../helpers/server.ts";

describe("listener states", () => {
  test("enabled false: connect fails with ECONNREFUSED within 10 ms; enabled again, it connects within 100 ms on the same port", async () => {
    await using s = serve({ timeout: 0 });
    s.handle.control.update("main", { enabled: false }, "test");
    // 20 attempts, the median timed: one attempt can lose the CPU to other work for longer than
    // the bound, but a listener that still accepted or dropped SYNs would fail every attempt.
    const refused = await python(
      `
import socket, sys, time
ms = []
for i in range(20):
    t = time.perf_counter()
    try:
        socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=2); print("connected"); sys.exit(0)
    except ConnectionRefusedError:
        ms.append((time.perf_counter() - t) * 1000)
ms.sort(); print("refused", len(ms), ms[len(ms) // 2])
`,
      [s.port],
    );
    const [what, n, ms] = refused.trim().split(" ");
    expect(what).toBe("refused");
    expect(Number(n)).toBe(20);
    expect(Number(ms)).toBeLessThan(10);
    const t = performance.now();
    s.handle.control.update("main", { enabled: true }, "test");
    const c = await connect(s.port);
    expect(performance.now() - t).toBeLessThan(100);
    await c.writeAll(new TextEncoder().encode("hi"));
    await c.waitBytes(2);
    c.socket.end();
    expect(s.handle.control.proxy("main").listen).toBe(`127.0.0.1:${s.port}`);
  });

  test("accept paused with --backlog 1: two connects complete into the queue, the third does not within 1 s, and completes once accepting resumes; all three echo", async () => {
    await using s = serve({ timeout: 0, backlog: 1 });
    s.handle.control.update("main", { accepting: false }, "test");
    const proc = Bun.spawn(
      [
        "python3",
        "-c",
        `
import socket, sys, select, time, errno
port = int(sys.argv[1]); socks = []
for i in range(3):
    c = socket.socket(); c.setblocking(False)
    c.connect_ex(("127.0.0.1", port)); socks.append(c); time.sleep(0.05)
def done(c, wait):
    _, w, _ = select.select([], [c], [], wait)
    return bool(w) and c.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0
first = [done(c, 0.5) for c in socks[:2]]
third = done(socks[2], 1.0)
print("before", first, third, flush=True)
sys.stdin.readline()
t = time.perf_counter(); ok = done(socks[2], 8.0)
print("after", ok, round(time.perf_counter() - t, 2), flush=True)
got = []
for c in socks:
    c.setblocking(True); c.settimeout(5); c.sendall(b"e"); got.append(c.recv(1).decode())
print("echo", "".join(got), flush=True)
`,
        String(s.port),
      ],
      { stdin: "pipe", stdout: "pipe", stderr: "inherit" },
    );
    const reader = proc.stdout.getReader();
    let text = "";
    const line = async (prefix: string) => {
      while (!new RegExp(`${prefix}[^\\n]*\\n`).test(text)) text += new TextDecoder().decode((await reader.read()).value);
      return new RegExp(`${prefix}([^\\n]*)\\n`).exec(text)![1]!.trim();
    };
    expect(await line("before")).toBe("[True, True] False");
    // The kernel holds the two: the listener's accept queue (sock_diag) is full, nobody accepted.
    expect(s.handle.stats().accepted).toBe(0);
    s.handle.control.update("main", { accepting: true }, "test");
    proc.stdin.write("go\n");
    await proc.stdin.flush();
    const [ok] = (await line("after")).split(" ");
    expect(ok).toBe("True");
    expect(await line("echo")).toBe("eee");
    expect(await proc.exited).toBe(0);
  }, 20_000);

  test("POST /proxies opens a listener at run time; DELETE ends its connections as a graceful stop (the echo, then FIN) and refuses new ones", async () => {
    await using s = serve({ timeout: 0 });
    const p = s.handle.control.create({ name: "extra", listen: "127.0.0.1:0", upstream: "echo" }, "test");
    const port = Number(p.listen.split(":")[1]);
    const proc = Bun.spawn(
      [
        "python3",
        "-c",
        `
import socket, sys
c = socket.create_connection(("127.0.0.1", int(sys.argv[1]))); c.sendall(b"abc"); assert c.recv(3) == b"abc"
print("open", flush=True); sys.stdin.readline()
got = b""
while True:
    b = c.recv(10)
    if not b: break
    got += b
print("eof", len(got), flush=True)
`,
        String(port),
      ],
      { stdin: "pipe", stdout: "pipe", stderr: "inherit" },
    );
    const reader = proc.stdout.getReader();
    let text = "";
    while (!text.includes("open\n")) text += new TextDecoder().decode((await reader.read()).value);
    s.handle.control.remove("extra", "test");
    proc.stdin.write("go\n");
    await proc.stdin.flush();
    while (!/eof \d+\n/.test(text)) text += new TextDecoder().decode((await reader.read()).value);
    expect(text).toContain("eof 0");
    const close = await s.log.waitFor((e) => e.event === "close" && e.listener === "extra");
    expect(close.reason).toBe("shutdown");
    expect(s.handle.control.proxies().map((x) => x.name)).toEqual(["main"]);
    await expect(Bun.connect({ hostname: "127.0.0.1", port, socket: { data() {} } })).rejects.toThrow();
    // Its counters stay in the totals.
    expect(s.handle.stats().byListener.extra?.accepted).toBe(1);
  });
});
