import { describe, expect, test } from "bun:test";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { DEFAULT_QUEUE_BYTES } from "../src/log/sink.ts";
import { python } from "./helpers/python.ts";

const FLOOD = resolve(import.meta.dir, "fixtures/log-flood-fixture.ts");

describe("the stderr log sink", () => {
  test("a stderr nobody reads: the queue stays bounded, lines are dropped and counted, and the count is logged once a reader drains it", async () => {
    // 100,000 lines of ~230 B = 23 MB, into a 64 KiB pipe that python3 does not read until the
    // writer has reported (Bun's own subprocess pipes read eagerly, so python holds the pipe).
    const out = await python(
      `
import json, subprocess, sys
p = subprocess.Popen(["bun", sys.argv[1]], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**__import__("os").environ, "LINES": "100000", "HOLD_MS": "200"})
held = p.stdout.readline()
err = p.stderr.read()
p.wait()
print(json.dumps({"held": json.loads(held), "code": p.returncode, "err": err.decode()}))
`,
      [FLOOD],
      60_000,
    );
    const { held, code, err } = JSON.parse(out) as { held: { queued: number; dropped: number; rss_growth: number }; code: number; err: string };
    expect(held.queued).toBeLessThanOrEqual(DEFAULT_QUEUE_BYTES);
    expect(held.dropped).toBeGreaterThan(90_000);
    expect(held.rss_growth).toBeLessThan(64 * 1024 * 1024);
    expect(code).toBe(0);
    const lines = err.split("\n").filter((l) => l !== "");
    // Every line is whole (batches never tear a line), in order, and the gap is reported.
    const events = lines.map((l) => JSON.parse(l) as { event: string; i?: number; dropped?: number });
    const kept = events.filter((e) => e.event === "flood").map((e) => e.i!);
    expect(kept).toEqual([...kept].sort((a, b) => a - b));
    const gaps = events.filter((e) => e.event === "log-dropped");
    expect(gaps.length).toBeGreaterThanOrEqual(1);
    expect(gaps.reduce((a, e) => a + e.dropped!, 0) + kept.length).toBe(100_000);
  });

  test("stderr a regular file: 100,000 lines, all of them whole and in order (they leave in batches, not pieces)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tcp-echo-sink-"));
    const path = join(dir, "stderr.log");
    const fd = openSync(path, "w");
    try {
      const proc = Bun.spawn(["bun", FLOOD], { stdout: "pipe", stderr: fd, env: { ...process.env, LINES: "100000" } });
      const [out, code] = await Promise.all([new Response(proc.stdout).text(), proc.exited]);
      expect(code).toBe(0);
      expect(JSON.parse(out).dropped).toBe(0);
      const kept = readFileSync(path, "utf8").split("\n").filter((l) => l !== "").map((l) => JSON.parse(l).i as number);
      expect(kept).toEqual(Array.from({ length: 100_000 }, (_, i) => i));
    } finally {
      closeSync(fd);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("two processes on one stderr pipe (workers) never tear each other's lines", async () => {
    // Each writes 3,000 lines of ~230 B (690 KB, under the sink's 1 MiB queue, so none is dropped)
    // in batches far larger than PIPE_BUF: a piece cut at 4096 bytes instead of at a newline lets
    // the other process's piece land inside a line.
    // python3 hands both the same pipe, as the supervisor's stderr is shared by its workers.
    const out = await python(
      `
import json, os, subprocess, sys
r, w = os.pipe()
ps = [subprocess.Popen(["bun", sys.argv[1]], stdout=subprocess.DEVNULL, stderr=w, env={**os.environ, "LINES": "3000"}) for _ in range(2)]
os.close(w)
data = b""
while True:
    chunk = os.read(r, 65536)
    if not chunk: break
    data += chunk
for p in ps: p.wait()
lines = data.decode().split("\\n")[:-1]
bad = 0
flood = 0
for l in lines:
    try:
        e = json.loads(l)
        flood += e.get("event") == "flood"
    except ValueError:
        bad += 1
print(json.dumps({"lines": len(lines), "torn": bad, "flood": flood}))
`,
      [FLOOD],
      60_000,
    );
    expect(JSON.parse(out)).toEqual({ lines: 6_000, torn: 0, flood: 6_000 });
  });

  test("a reader that keeps up loses nothing", async () => {
    // 8,000 lines of ~230 B: 1.8 MB, more than the 1 MiB queue holds, so a sink that never frees
    // what it wrote would drop. At most 10 lines a millisecond (2.3 MB/s), the reader would have to
    // stall for 0.45 s to fall 1 MiB behind: on a loaded machine that is not keeping up. (50 a
    // millisecond dropped lines under a full parallel test run.)
    const proc = Bun.spawn(["bun", FLOOD], { stdout: "pipe", stderr: "pipe", env: { ...process.env, LINES: "8000", PACE: "10" } });
    const [err, out, code] = await Promise.all([new Response(proc.stderr).text(), new Response(proc.stdout).text(), proc.exited]);
    expect(code).toBe(0);
    expect(JSON.parse(out).dropped).toBe(0);
    const kept = err.split("\n").filter((l) => l !== "").map((l) => JSON.parse(l).i as number);
    expect(kept).toEqual(Array.from({ length: 8000 }, (_, i) => i));
  });
});
