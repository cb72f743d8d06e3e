import { describe, expect, test } from "bun:test";
import { serve } from "./helpers/server.ts";
import { python, pythonCmd } from "./helpers/python.ts";
import { connect } from "./helpers/client.ts";
import { until } from "./helpers/wait.ts";
import { lineReader } from "./helpers/lines.ts";

// python3 peers that send without reading until told, then read everything back and compare it
// with what they sent: byte-exact echo across the pauses.
const PEERS = String.raw`
import hashlib, json, socket, sys, time
port, n, hold = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
socks, sent = [], []
for i in range(n):
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096); s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 65536)
    s.connect(("127.0.0.1", port)); s.setblocking(False); socks.append(s); sent.append(hashlib.sha256())
counts = [0] * n
t0 = time.time()
while time.time() - t0 < hold:
    for i, s in enumerate(socks):
        chunk = bytes([i]) * 65536
        try:
            k = s.send(chunk); sent[i].update(chunk[:k]); counts[i] += k
        except BlockingIOError: pass
    time.sleep(0.001)
print(json.dumps({"phase": "held", "sent": sum(counts)}), flush=True)
sys.stdin.readline()
ok = 0
for i, s in enumerate(socks):
    s.setblocking(True); s.shutdown(socket.SHUT_WR)
    got, h = 0, hashlib.sha256()
    while True:
        d = s.recv(1 << 20)
        if not d: break
        got += len(d); h.update(d)
    ok += got == counts[i] and h.digest() == sent[i].digest()
print(json.dumps({"phase": "done", "ok": ok}), flush=True)
`;

describe("--max-memory: a process-wide budget for bytes held for echo", () => {
  test("16 peers that send and do not read: the budget pauses them, a reading peer is still served, and every byte is echoed once they read", async () => {
    const budget = 4 * 1024 * 1024;
    // Small kernel buffers both ways: what the kernels would hold on top (150 MB with autotuning,
    // measured) adds nothing to the test but time to echo and hash it.
    await using s = serve({ maxMemory: budget, maxBuffer: 1024 * 1024, recvBuf: 64 * 1024, sendBuf: 64 * 1024, timeout: 0 }, "warn");
    const proc = Bun.spawn([...pythonCmd(), "-c", PEERS, String(s.port), "16", "1"], { stdin: "pipe", stdout: "pipe" });
    const lines = lineReader(proc.stdout);
    let max = 0;
    const sampler = setInterval(() => (max = Math.max(max, s.handle.stats().heldBytes)), 20);
    const held = JSON.parse((await lines.next())!) as { sent: number };
    clearInterval(sampler);
    const stats = s.handle.stats();
    expect(stats.budgetPauses).toBeGreaterThan(0);
    // Over the budget by at most what Bun had already read when each connection paused.
    expect(max).toBeGreaterThan(budget / 2);
    expect(max).toBeLessThan(budget + 16 * 1024 * 1024);
    expect(held.sent).toBeGreaterThan(budget);
    // Meanwhile someone who reads gets their echo at once.
    const c = await connect(s.port);
    await c.writeAll(new TextEncoder().encode("still served"));
    await c.waitBytes(12, 2000);
    c.socket.end();
    proc.stdin.write("go\n");
    proc.stdin.flush();
    const rest = await lines.rest();
    expect(JSON.parse(rest.trim())).toEqual({ phase: "done", ok: 16 });
    await proc.exited;
    await until(() => s.handle.stats().open === 0, "every connection has closed");
    expect(s.handle.stats().heldBytes).toBe(0);
  }, 30_000);
});
