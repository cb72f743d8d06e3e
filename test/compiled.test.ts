// The standalone executable behaves as `bun run src/index.ts` does: FFI, signals, exit codes.
import { beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { lineReader } from "./helpers/lines.ts";
import { ROOT, runCli, spawnServer } from "./helpers/process.ts";
import { python } from "./helpers/python.ts";
import { parsePrometheus, sample } from "./helpers/prometheus.ts";
import pkg from "../package.json" with { type: "json" };

const exe = join(mkdtempSync(join(tmpdir(), "tcp-echo-")), "tcp-echo");

beforeAll(async () => {
  const build = Bun.spawn(["bun", "run", join(ROOT, "build.ts"), exe], { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
  if ((await build.exited) !== 0) throw new Error(`build failed: ${await new Response(build.stderr).text()}`);
}, 120_000);

describe.concurrent("compiled executable", () => {
  test("--version", async () => {
    expect(await runCli(["--version"], { cli: [exe] })).toMatchObject({ code: 0, stdout: `${pkg.version}\n` });
  });

  test("serves, echoes to a python3 peer, reports options read back, stops on SIGTERM with exit 0", async () => {
    await using p = await spawnServer(["--backlog", "33", "--recv-buf", "64k"], { cli: [exe] });
    expect(p.log.events.find((e) => e.option === "backlog")).toMatchObject({ asked: 33, effective: 33 });
    expect(p.log.events.find((e) => e.option === "SO_RCVBUF")).toMatchObject({ effective: 131072 });
    const out = await python(
      `
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"data\\n" * 1000); s.shutdown(socket.SHUT_WR)
got = b""
while True:
    d = s.recv(4096)
    if not d: break
    got += d
print(got == b"data\\n" * 1000)
`,
      [p.port],
    );
    expect(out.trim()).toBe("True");
    expect(await p.log.waitFor((e) => e.event === "close")).toMatchObject({ reason: "peer-closed", bytes_in: 5000, bytes_out: 5000 });
    p.proc.kill("SIGTERM");
    expect(await p.exited).toBe(0);
  });

  test("the status page and its scripts are inside the executable: the files served equal the sources", async () => {
    await using p = await spawnServer(["--api", "127.0.0.1:0"], { cli: [exe] });
    const api = (await p.log.waitFor((e) => e.event === "api")).port as number;
    const files: [string, string][] = [
      ["/", "src/status/page/index.html"],
      ["/ui/app.js", "src/status/page/app.js"],
      ["/ui/app.css", "src/status/page/app.css"],
      ["/ui/uplot.js", "node_modules/uplot/dist/uPlot.iife.min.js"],
      ["/ui/uplot.css", "node_modules/uplot/dist/uPlot.min.css"],
    ];
    for (const [path, file] of files) {
      const res = await fetch(`http://127.0.0.1:${api}${path}`);
      expect(res.status).toBe(200);
      expect(await res.text()).toBe(readFileSync(join(ROOT, file), "utf8"));
    }
  });

  test("--workers 2 runs from the executable too: both workers serve, SIGTERM stops all with exit 0", async () => {
    await using p = await spawnServer(["--workers", "2"], { cli: [exe] });
    for (const w of [1, 2]) await p.log.waitFor((e) => e.event === "worker-ready" && e.worker === w);
    // One start-up report for the service, not one per worker; ps shows the workers as such.
    expect(p.log.of("listening").map((e) => e.worker)).toEqual([undefined]);
    const pids = p.log.of("worker-start").map((e) => e.pid as number);
    for (const pid of pids) expect(readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").slice(1, -1)).toEqual(["__worker"]);
    const out = await python(`import socket,sys\ns=socket.create_connection(("127.0.0.1",int(sys.argv[1])))\ns.sendall(b"w")\nprint(s.recv(1))`, [p.port]);
    expect(out.trim()).toBe("b'w'");
    p.proc.kill("SIGTERM");
    expect(await p.exited).toBe(0);
    expect(p.log.of("worker-exit").map((e) => e.code)).toEqual([0, 0]);
  });

  test("a worker that cannot be spawned at start-up (EMFILE) stops the others: exit 1, one error line, nobody left", async () => {
    // With very few descriptors the supervisor starts but runs out while spawning its workers
    // (each spawn needs a socketpair and a pipe). Which limit does it depends on the runtime, so a
    // range is tried: each run must either start cleanly or fail as a whole, and one must fail
    // after a first worker was already started.
    let partial = false;
    for (let n = 8; n <= 16 && !partial; n++) {
      const proc = Bun.spawn(["prlimit", `--nofile=${n}:${n}`, exe, "serve", "--port", "0", "--workers", "2", "--log-format", "json"], { stderr: "pipe", stdout: "ignore" });
      const lines: { event: string; pid?: number; level: string; msg: string }[] = [];
      // The start-up report ("listening") comes once every worker listens: started cleanly.
      const listening = Promise.withResolvers<"running">();
      const pump = (async () => {
        const out = lineReader(proc.stderr);
        for (let line = await out.next(); line !== null; line = await out.next()) {
          lines.push(JSON.parse(line));
          if (lines.at(-1)!.event === "listening") listening.resolve("running");
        }
      })();
      const stuck = setTimeout(() => proc.kill("SIGKILL"), 20_000);
      const outcome = await Promise.race([proc.exited, listening.promise]);
      if (outcome === "running") {
        proc.kill("SIGTERM");
        expect(await proc.exited).toBe(0);
        clearTimeout(stuck);
        continue;
      }
      clearTimeout(stuck);
      await pump;
      expect(outcome).toBe(1);
      const failed = lines.find((l) => l.event === "worker-failed")!;
      expect(failed.msg).toContain("could not be spawned (EMFILE");
      const started = lines.filter((l) => l.event === "worker-start").map((l) => l.pid!);
      for (const pid of started) expect(existsSync(`/proc/${pid}`)).toBe(false);
      if (started.length > 0) partial = true;
    }
    expect(partial).toBe(true);
  }, 60_000);

  test("a worker that cannot be respawned (the executable was removed) is retried with the back-off until it can", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tcp-echo-"));
    const copy = join(dir, "tcp-echo");
    copyFileSync(exe, copy);
    chmodSync(copy, 0o755);
    await using p = await spawnServer(["--workers", "2", "--metrics", "127.0.0.1:0"], { cli: [copy] });
    for (const w of [1, 2]) await p.log.waitFor((e) => e.event === "worker-ready" && e.worker === w);
    const m = await p.log.waitFor((e) => e.event === "metrics");
    rmSync(copy);
    const victim = p.log.of("worker-start").find((e) => e.worker === 1)!.pid as number;
    process.kill(victim, "SIGKILL");
    const first = await p.log.waitFor((e) => e.event === "worker-exit" && e.worker === 1 && e.pid === null);
    expect(first).toMatchObject({ level: "warn", code: 1 });
    expect(first.msg).toContain("could not be spawned (ENOENT");
    const fam = parsePrometheus(await (await fetch(`http://127.0.0.1:${m.port}/metrics`)).text());
    expect([sample(fam, "tcp_echo_worker_processes"), sample(fam, "tcp_echo_worker_processes_desired")]).toEqual([1, 2]);
    copyFileSync(exe, copy);
    chmodSync(copy, 0o755);
    await p.log.waitFor((e) => e.event === "worker-ready" && e.worker === 1 && e.pid !== victim, 20_000);
    p.proc.kill("SIGTERM");
    expect(await p.exited).toBe(0);
  }, 30_000);

  test("bad input exits 2 with one line; address in use exits 1", async () => {
    const bad = await runCli(["serve", "--timeout", "x"], { cli: [exe] });
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim().split("\n")).toEqual([`tcp-echo: --timeout: "x" is not a duration (like 5.5, 5.5s, 500ms, 2m, 1h) in 0..2147483.647 s (see tcp-echo serve --help)`]);
    await using p = await spawnServer(["--no-reuse-port"], { cli: [exe] });
    const busy = await runCli(["serve", "--port", String(p.port), "--no-reuse-port"], { cli: [exe] });
    expect(busy.code).toBe(1);
    expect(busy.stderr).toContain("EADDRINUSE: Address already in use");
  });
});
