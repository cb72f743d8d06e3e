// The standalone executable behaves as `bun run src/index.ts` does: FFI, signals, exit codes.
import { beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT, runCli, spawnServer } from "./helpers/process.ts";
import { python } from "./helpers/python.ts";
import pkg from "../package.json" with { type: "json" };

const exe = join(mkdtempSync(join(tmpdir(), "tcp-echo-")), "tcp-echo");

beforeAll(async () => {
  const build = Bun.spawn(["bun", "run", join(ROOT, "build.ts"), exe], { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
  if ((await build.exited) !== 0) throw new Error(`build failed: ${await new Response(build.stderr).text()}`);
}, 120_000);

describe("compiled executable", () => {
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

  test("--workers 2 runs from the executable too: both workers serve, SIGTERM stops all with exit 0", async () => {
    await using p = await spawnServer(["--workers", "2"], { cli: [exe] });
    for (const w of [1, 2]) await p.log.waitFor((e) => e.event === "listening" && e.worker === w);
    const out = await python(`import socket,sys\ns=socket.create_connection(("127.0.0.1",int(sys.argv[1])))\ns.sendall(b"w")\nprint(s.recv(1))`, [p.port]);
    expect(out.trim()).toBe("b'w'");
    p.proc.kill("SIGTERM");
    expect(await p.exited).toBe(0);
    expect(p.log.of("worker-exit").map((e) => e.code)).toEqual([0, 0]);
  });

  test("bad input exits 2 with one line; address in use exits 1", async () => {
    const bad = await runCli(["serve", "--timeout", "x"], { cli: [exe] });
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim().split("\n")).toEqual([`tcp-echo: --timeout: "x" is not a number of seconds >= 0 (see tcp-echo --help)`]);
    await using p = await spawnServer(["--no-reuse-port"], { cli: [exe] });
    const busy = await runCli(["serve", "--port", String(p.port), "--no-reuse-port"], { cli: [exe] });
    expect(busy.code).toBe(1);
    expect(busy.stderr).toContain("EADDRINUSE: Address already in use");
  });
});
