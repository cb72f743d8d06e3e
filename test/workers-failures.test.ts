// --workers when workers fail: at start-up, after it (retried with a back-off), or hung; and a
// combination of options that cannot work.
import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { SOURCE_CLI, spawnServer, type ServerProcess } from "./helpers/process.ts";
import { parsePrometheus, sample } from "./helpers/prometheus.ts";
import { python } from "./helpers/python.ts";

const FAILING = resolve(import.meta.dir, "fixtures/failing-worker-fixture.ts");

async function allListening(p: ServerProcess, n: number): Promise<void> {
  for (let w = 1; w <= n; w++) await p.log.waitFor((e) => e.event === "worker-ready" && e.worker === w);
}

describe.concurrent("--workers: failing and hung workers", () => {
  test("a worker that fails at start-up stops the others, and the supervisor exits with the worker's code", async () => {
    const flag = join(mkdtempSync(join(tmpdir(), "tcp-echo-")), "fail");
    writeFileSync(flag, "3");
    const proc = Bun.spawn(["bun", FAILING, "serve", "--port", "0", "--workers", "2", "--log-format", "json"], {
      stderr: "pipe",
      stdout: "ignore",
      env: { ...process.env, FIXTURE_FAIL_FILE: flag },
    });
    const [code, err] = await Promise.all([proc.exited, new Response(proc.stderr).text()]);
    expect(code).toBe(3);
    const events = err.trim().split("\n").map((l) => JSON.parse(l) as { event: string; code?: number; level: string });
    expect(events.find((e) => e.event === "worker-failed")).toMatchObject({ level: "error", code: 3 });
    expect(events.some((e) => e.event === "listening")).toBe(false);
  });

  test("the same failure after start-up is retried with the back-off, and metrics show the worker missing meanwhile", async () => {
    const flag = join(mkdtempSync(join(tmpdir(), "tcp-echo-")), "fail");
    await using p = await spawnServer(["--workers", "2", "--metrics", "127.0.0.1:0"], { cli: ["bun", FAILING], env: { FIXTURE_FAIL_FILE: flag } });
    await allListening(p, 2);
    const m = await p.log.waitFor((e) => e.event === "metrics");
    const victim = p.log.of("worker-start").find((e) => e.worker === 2)!.pid as number;
    writeFileSync(flag, "2");
    process.kill(victim, "SIGKILL");
    // Its replacement exits 2 at once: a warning with a doubled back-off each time, never an exit.
    const failed = await p.log.waitFor((e) => e.event === "worker-exit" && e.worker === 2 && e.code === 2);
    expect(failed).toMatchObject({ level: "warn", restart_in_ms: 500 });
    const fam = parsePrometheus(await (await fetch(`http://127.0.0.1:${m.port}/metrics`)).text());
    expect([sample(fam, "tcp_echo_worker_processes"), sample(fam, "tcp_echo_worker_processes_desired")]).toEqual([1, 2]);
    expect((await fetch(`http://127.0.0.1:${m.port}/readyz`)).status).toBe(200);
    rmSync(flag);
    await p.log.waitFor((e) => e.event === "worker-ready" && e.worker === 2 && e.pid !== victim);
    const after = parsePrometheus(await (await fetch(`http://127.0.0.1:${m.port}/metrics`)).text());
    expect(sample(after, "tcp_echo_worker_processes")).toBe(2);
    expect(p.log.of("worker-failed")).toEqual([]);
    p.proc.kill("SIGTERM");
    expect(await p.exited).toBe(0);
  });

  test("a worker killed while the supervisor asks the workers (a scrape, a ping) does not take the supervisor down: every scrape is answered, and it stops with 0", async () => {
    // Bun's Subprocess.send() can throw a fraction of a millisecond before the worker's `exited`
    // promise resolves: scrapes sent right after the kill aim at that window (narrow: this did not
    // catch the unguarded send here, but it holds the supervisor to answering through a death).
    await using p = await spawnServer(["--workers", "2", "--metrics", "127.0.0.1:0"]);
    await allListening(p, 2);
    const m = await p.log.waitFor((e) => e.event === "metrics");
    const scrape = () => fetch(`http://127.0.0.1:${m.port}/metrics`).then((r) => r.status);
    const statuses: number[] = [];
    for (let round = 0; round < 4; round++) {
      const w = (round % 2) + 1;
      const victim = p.log.of("worker-ready").filter((e) => e.worker === w).at(-1)!.pid as number;
      process.kill(victim, "SIGKILL");
      // Scrapes over the 100 ms after the kill, a few at a time, to land in that window.
      for (const t0 = performance.now(); performance.now() - t0 < 100; ) statuses.push(...(await Promise.all([scrape(), scrape()])));
      await p.log.waitFor((e) => e.event === "worker-exit" && e.pid === victim);
      await p.log.waitFor((e) => e.event === "worker-ready" && e.worker === w && e.pid !== victim);
    }
    expect(statuses.filter((x) => x !== 200)).toEqual([]);
    expect(p.log.of("metrics-error")).toEqual([]);
    p.proc.kill("SIGTERM");
    expect(await p.exited).toBe(0);
  }, 20_000);

  test("a hung worker (SIGSTOP) is found within seconds, /readyz says so meanwhile, and it is killed and replaced", async () => {
    await using p = await spawnServer(["--workers", "2", "--metrics", "127.0.0.1:0"]);
    await allListening(p, 2);
    const m = await p.log.waitFor((e) => e.event === "metrics");
    const url = `http://127.0.0.1:${m.port}`;
    const victim = p.log.of("worker-start").find((e) => e.worker === 1)!.pid as number;
    const stoppedAt = performance.now();
    process.kill(victim, "SIGSTOP");
    // Not ready while it hangs: a share of new connections would go to it.
    let sawNotReady = false;
    while (!p.log.of("worker-hung").length && performance.now() - stoppedAt < 8000) {
      if ((await fetch(`${url}/readyz`)).status === 503) sawNotReady = true;
      await Bun.sleep(100);
    }
    const hung = await p.log.waitFor((e) => e.event === "worker-hung");
    expect(hung).toMatchObject({ level: "error", worker: 1, pid: victim });
    expect(sawNotReady).toBe(true);
    expect(performance.now() - stoppedAt).toBeLessThan(6000);
    expect(await p.log.waitFor((e) => e.event === "worker-exit" && e.pid === victim)).toMatchObject({ signal: "SIGKILL" });
    await p.log.waitFor((e) => e.event === "worker-ready" && e.worker === 1 && e.pid !== victim);
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
    // Every new connection is served again.
    const out = await python(
      `import socket,sys
ok = 0
for _ in range(40):
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=2)
    s.sendall(b"h"); ok += s.recv(1) == b"h"; s.close()
print(ok)`,
      [p.port],
    );
    expect(out.trim()).toBe("40");
    p.proc.kill("SIGTERM");
    expect(await p.exited).toBe(0);
  }, 30_000);

  test("--workers with --no-reuse-port is bad input", async () => {
    const proc = Bun.spawn([...SOURCE_CLI, "serve", "--workers", "2", "--no-reuse-port"], { stderr: "pipe" });
    expect(await proc.exited).toBe(2);
    expect((await new Response(proc.stderr).text()).trim()).toBe("tcp-echo: --workers 2 needs SO_REUSEPORT: drop --no-reuse-port (see tcp-echo serve --help)");
  });
});
