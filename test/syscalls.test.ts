// What one connection costs in system calls, counted by strace(1) on the real server: the
// performance issue's budget (one accept4, Bun's own setsockopt, no getpeername unless something
// will show the peer) stays a test rather than a figure in the README.
import { describe, expect, test } from "bun:test";
import { readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { listeners } from "../bench/lib/proc.ts";
import { SOURCE_CLI } from "./helpers/process.ts";
import { python } from "./helpers/python.ts";
import { until } from "./helpers/wait.ts";

const CONNECTIONS = 200;

/** Syscall name -> calls, from `strace -c` output. */
function parseSummary(text: string): Map<string, number> {
  const calls = new Map<string, number>();
  for (const line of text.split("\n")) {
    // "  0.50    0.000123           1       200           getpeername" (errors column optional)
    const f = line.trim().split(/\s+/);
    if (f.length >= 5 && /^\d+(\.\d+)?$/.test(f[0]!) && /^[a-z_0-9]+$/.test(f[f.length - 1]!)) calls.set(f[f.length - 1]!, Number(f[3]));
  }
  return calls;
}

/** Runs the server under `strace -f -c`, makes CONNECTIONS short echo connections, stops it, returns the counts. */
async function countSyscalls(args: string[], level = "warn"): Promise<Map<string, number>> {
  const out = join(tmpdir(), `tcp-echo-strace-${process.pid}-${Math.random().toString(36).slice(2)}.txt`);
  const proc = Bun.spawn(["strace", "-f", "-c", "-o", out, ...SOURCE_CLI, "serve", "--port", "0", "--log-level", level, ...args], { stdout: "ignore", stderr: "pipe" });
  let serverPid = 0;
  try {
    // With --metrics two ports listen: the script echoes on whichever echoes (the HTTP server answers 400).
    const want = args.includes("--metrics") ? 2 : 1;
    let found: { pid: number; port: number }[] = [];
    await until(() => (found = listeners(proc.pid)).length >= want, "the server listens", 20_000);
    serverPid = found[0]!.pid;
    const ports = found.map((l) => l.port);
    const got = await python(
      `
import socket, sys
n, ports = int(sys.argv[1]), [int(p) for p in sys.argv[2].split(",")]
def echoes(p):
    with socket.create_connection(("127.0.0.1", p)) as s:
        s.sendall(b"ping\\r\\n\\r\\n")
        return s.recv(100) == b"ping\\r\\n\\r\\n"
port = [p for p in ports if echoes(p)][0]
ok = 0
for i in range(n):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"x" * 64)
    buf = b""
    while len(buf) < 64:
        b = s.recv(64 - len(buf))
        if not b: break
        buf += b
    ok += buf == b"x" * 64
    s.close()
print(ok)
`,
      [CONNECTIONS, ports.join(",")],
      30_000,
    );
    expect(Number(got)).toBe(CONNECTIONS);
  } finally {
    // strace ignores SIGTERM: the server gets it, and strace writes its summary once it has exited.
    if (serverPid > 0) process.kill(serverPid, "SIGTERM");
    const timer = setTimeout(() => proc.kill("SIGKILL"), 15_000);
    await proc.exited;
    clearTimeout(timer);
  }
  const calls = parseSummary(readFileSync(out, "utf8"));
  rmSync(out, { force: true });
  return calls;
}

describe("system calls per connection (strace)", () => {
  test("without a status page no connection reads its peer's address (no getpeername), and accept costs one accept4 and Bun's two setsockopt", async () => {
    const calls = await countSyscalls([]);
    expect(calls.get("accept4") ?? 0).toBeGreaterThanOrEqual(CONNECTIONS);
    expect(calls.get("getpeername") ?? 0).toBe(0);
    // Bun sets TCP_NODELAY (and one more option) on each accepted socket; the listener's own options come once.
    expect(calls.get("setsockopt") ?? 0).toBeLessThanOrEqual(2 * CONNECTIONS + 20);
  }, 60_000);

  test("with --metrics the recent closes name every peer: the address is read at open, one getpeername each (not Bun's two)", async () => {
    const calls = await countSyscalls(["--metrics", "127.0.0.1:0"]);
    expect(calls.get("getpeername") ?? 0).toBeGreaterThanOrEqual(CONNECTIONS);
    // The probe connections that find the echo port (the HTTP one answers 400) may add a few.
    expect(calls.get("getpeername") ?? 0).toBeLessThanOrEqual(CONNECTIONS + 4);
  }, 60_000);

  test("at info the open and close lines name the peer from one getpeername per connection", async () => {
    const calls = await countSyscalls([], "info");
    expect(calls.get("getpeername") ?? 0).toBeGreaterThanOrEqual(CONNECTIONS);
    expect(calls.get("getpeername") ?? 0).toBeLessThanOrEqual(CONNECTIONS + 4);
  }, 60_000);
});
