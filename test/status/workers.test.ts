// --workers N: the supervisor's status page shows every worker's connections and closes, merged
// over IPC (as /metrics merges their counters), with ids that name the worker.
import { expect, test } from "bun:test";
import { pythonCmd } from "../helpers/python.ts";
import { spawnServer } from "../helpers/process.ts";
import { openEvents } from "./sse.ts";

type Row = { id: string; peer: string; bytes_in: number };

test("--workers 2: /connections pages all workers' connections (ids w1.N, w2.N), /events lists their closes, the page is read-only", async () => {
  await using p = await spawnServer(["--workers", "2", "--timeout", "0", "--metrics", "127.0.0.1:0"]);
  const m = await p.log.waitFor((e) => e.event === "metrics");
  await p.log.waitFor((e) => e.event === "worker-ready" && e.worker === 2);
  const base = `http://127.0.0.1:${m.port}`;
  const { reader } = await openEvents(`${base}/events`);
  try {
    // 24 connections, connection i sending i+1 bytes; the kernel spreads them over both workers
    // (SO_REUSEPORT hashes each 4-tuple). Then the first 4 are reset, the rest held.
    const script = String.raw`
import socket, struct, sys, time
socks = []
for i in range(24):
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
    s.sendall(b"x" * (i + 1)); s.recv(100); socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks), flush=True)
sys.stdin.readline()
for s in socks[:4]:
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)); s.close()
print("reset", flush=True)
sys.stdin.readline()
`;
    const proc = Bun.spawn([...pythonCmd(), "-c", script, String(p.port)], { stdin: "pipe", stdout: "pipe", stderr: "inherit" });
    const out = proc.stdout.pipeThrough(new TextDecoderStream()).getReader();
    const line = async () => {
      let text = "";
      while (!text.endsWith("\n")) text += (await out.read()).value ?? "";
      return text.trim();
    };
    const ports = (await line()).split(" ").map(Number);
    try {
      const res = await fetch(`${base}/connections?sort=bytes_in&order=desc&limit=10`);
      expect(res.headers.get("x-total-count")).toBe("24");
      const rows = (await res.json()) as Row[];
      expect(rows.map((r) => r.bytes_in)).toEqual([24, 23, 22, 21, 20, 19, 18, 17, 16, 15]);
      const all = (await (await fetch(`${base}/connections?sort=id&limit=100`)).json()) as Row[];
      expect(all.map((r) => Number(r.peer.split(":")[1])).sort()).toEqual([...ports].sort());
      for (const r of all) expect(r.id).toMatch(/^w[12]\.\d+@main$/);
      expect(new Set(all.map((r) => r.id.slice(0, 2))).size).toBe(2);
      // Sorted by id: worker 1's connections first, each worker's in opening order.
      const w = all.map((r) => r.id.slice(0, 2));
      expect(w).toEqual([...w].sort());
      // The filter sees the worker's tag: "w2." finds worker 2's connections and only them.
      const w2 = await fetch(`${base}/connections?filter=w2.&limit=100`);
      expect(Number(w2.headers.get("x-total-count"))).toBe(all.filter((r) => r.id.startsWith("w2.")).length);
      for (const r of (await w2.json()) as Row[]) expect(r.id).toStartWith("w2.");
      // /status is the last second's sample: wait for the one after the connections opened.
      type Status = { read_only: boolean; workers: number; listeners: { name: string; open: number }[] };
      let status: Status;
      const t0 = performance.now();
      do status = (await (await fetch(`${base}/status`)).json()) as Status;
      while (status.listeners[0]?.open !== 24 && performance.now() - t0 < 5000 && (await Bun.sleep(100), true));
      expect(status).toMatchObject({ read_only: true, workers: 2, listeners: [{ name: "main", open: 24 }] });

      proc.stdin.write("\n");
      await proc.stdin.flush();
      expect(await line()).toBe("reset");
      const resetPorts = new Set(ports.slice(0, 4).map((x) => `127.0.0.1:${x}`));
      const seen = new Map<string, { id: string; reason: string }>();
      await reader.next((msg) => {
        for (const c of JSON.parse(msg.data).closes as { id: string; peer: string; reason: string }[]) if (resetPorts.has(c.peer)) seen.set(c.peer, c);
        return seen.size === 4;
      }, 10_000);
      for (const c of seen.values()) expect(c).toMatchObject({ reason: "reset", id: expect.stringMatching(/^w[12]\.\d+@main$/) });
    } finally {
      proc.kill();
    }
  } finally {
    reader.close();
  }
}, 30_000);
