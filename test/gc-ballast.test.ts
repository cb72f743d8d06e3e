// --gc-ballast: a buffer each serving process holds so that JavaScriptCore, which sizes the budget
// between collections from the heap it found live, collects less often while data flows. Counted
// with the runtime's own GC log (BUN_JSC_logGC=1) and /proc, against real sockets.
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { gcBallastBytes, startGcBallast } from "../src/cluster/gc-ballast.ts";
import { createLogger } from "../src/log/index.ts";
import { untouchedBuffer } from "../src/net/index.ts";
import { runCli, spawnServer } from "./helpers/process.ts";
import { python } from "./helpers/python.ts";
import { LogCapture } from "./helpers/server.ts";

const MiB = 1024 * 1024;

/** Streams `mib` MiB through the echo at `port` from a python peer (sender thread, receiver here) and checks every byte. */
async function streamThrough(port: number, mib: number): Promise<void> {
  const out = await python(
    `import socket, sys, threading, hashlib
port, total = int(sys.argv[1]), int(sys.argv[2]) << 20
chunk = bytes((i * 31 + 7) % 256 for i in range(65536))
s = socket.create_connection(("127.0.0.1", port))
def send():
    for _ in range(total // len(chunk)):
        s.sendall(chunk)
    s.shutdown(socket.SHUT_WR)
t = threading.Thread(target=send); t.start()
want, got, h = hashlib.sha256(), 0, hashlib.sha256()
for _ in range(total // len(chunk)): want.update(chunk)
s.settimeout(30)
while True:
    b = s.recv(1 << 20)
    if not b: break
    got += len(b); h.update(b)
t.join()
print(got, h.hexdigest() == want.hexdigest())`,
    [port, mib],
    60_000,
  );
  expect(out.trim()).toBe(`${mib * MiB} True`);
}

function status(pid: number, field: string): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return Number(m![1]) * 1024;
}

describe("--gc-ballast", () => {
  test("the default ballast (8 MiB) makes the runtime collect under half as often while 256 MiB stream through as --gc-ballast 0 does", async () => {
    const collections = async (args: string[]) => {
      await using srv = await spawnServer(args, { env: { BUN_JSC_logGC: "1" } });
      // Collections the allocation budget asked for: what the ballast changes. JSC also collects on
      // a timer, more often the longer the stream takes in wall time; counted too, under CI's
      // parallel load they made 16 eden collections with the ballast against 10-11 on a quiet
      // machine (and 31 without), while the budget-driven ones stay put.
      const eden = () => srv.stray.filter((l) => l.startsWith("Requesting GC because bytes allocated")).length;
      const before = eden();
      await streamThrough(srv.port, 256);
      return eden() - before;
    };
    const without = await collections(["--gc-ballast", "0"]);
    const withDefault = await collections([]);
    console.log(`collections the allocation budget asked for, 256 MiB echoed: ${withDefault} with the default ballast, ${without} without`);
    // Without one, bare Bun's budget is about 5 MB: some 50 collections for 256 MiB read and copied.
    expect(without).toBeGreaterThan(20);
    expect(withDefault).toBeLessThan(without / 2);
  }, 90_000);

  test("the ballast is address space, not memory: 512 MiB of it leaves RSS where --gc-ballast 0 has it, and the mapping is there", async () => {
    const measure = async (ballast: string) => {
      await using srv = await spawnServer(["--gc-ballast", ballast]);
      return { rss: status(srv.proc.pid, "VmRSS"), size: status(srv.proc.pid, "VmSize") };
    };
    const none = await measure("0");
    const big = await measure("512m");
    console.log(`RSS ${none.rss / MiB} MiB without, ${big.rss / MiB} MiB with 512 MiB of ballast; VmSize ${none.size / MiB} / ${big.size / MiB} MiB`);
    expect(Math.abs(big.rss - none.rss)).toBeLessThan(8 * MiB);
    // The runtime's own reservations move VmSize by a few MiB between runs; the ballast adds 512.
    expect(big.size - none.size).toBeGreaterThan(400 * MiB);
  }, 60_000);

  test("an untouched buffer reads as zeroes; a mapping the kernel refuses is a warning at start, not a failure to serve", () => {
    const b = new Uint8Array(untouchedBuffer(4 * MiB));
    expect(b.length).toBe(4 * MiB);
    expect(b[0]).toBe(0);
    expect(b[b.length - 1]).toBe(0);
    // 128 TiB: more than a user address space holds (x86_64 and aarch64 give 47 or 48 bits).
    expect(() => untouchedBuffer(2 ** 47)).toThrow(/mmap of 140737488355328 bytes failed: Cannot allocate memory/);
    const log = new LogCapture();
    startGcBallast(2 ** 47, createLogger({ level: "debug", format: "json", write: log.write }));
    const warned = log.of("gc-ballast");
    expect(warned.map((e) => e.level)).toEqual(["warn"]);
    expect(String(warned[0]!.msg)).toContain("serving without it");
    expect(gcBallastBytes()).toBe(0);
  });

  test("with --workers 2 each worker holds its own", async () => {
    await using srv = await spawnServer(["--workers", "2", "--log-level", "debug", "--gc-ballast", "16m"]);
    const held = async () => srv.log.of("gc-ballast");
    const deadline = Date.now() + 10_000;
    while ((await held()).length < 2 && Date.now() < deadline) await Bun.sleep(50);
    const lines = await held();
    expect(lines.map((e) => [e.worker, e.bytes]).sort()).toEqual([
      [1, 16 * MiB],
      [2, 16 * MiB],
    ]);
  }, 30_000);

  test("a size past 1 GiB or not a size is refused at the edge, naming the option (exit 2)", async () => {
    for (const bad of ["2g", "-1", "lots"]) {
      const r = await runCli(["serve", "--gc-ballast", bad]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain("--gc-ballast");
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
    }
  });
});
