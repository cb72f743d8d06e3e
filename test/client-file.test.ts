// `tcp-echo client --file`: a file or standard input sent once, every byte of the echo checked.
// The client runs as a process (exit codes, standard input as a real pipe) against tcp-echo (the
// library, in this process) and python3 peers that echo wrongly in known ways.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CLIENT_DEFAULTS, messageBytes, runFileClient, STREAM_WINDOW, type ClientOptions } from "../src/client/index.ts";
import { randomBytes } from "./helpers/client.ts";
import { pythonPeer } from "./helpers/client-peers.ts";
import { spawnCorruptEcho } from "./helpers/peers.ts";
import { runCli, SOURCE_CLI } from "./helpers/process.ts";
import { serve, serveListeners } from "./helpers/server.ts";

const dir = mkdtempSync(join(tmpdir(), "tcp-echo-client-file-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
function file(bytes: Uint8Array): string {
  const path = join(dir, `f${++files}.bin`);
  writeFileSync(path, bytes);
  return path;
}

/** "0123456789abcdef" repeated: every byte printable, so a mismatch's context reads plainly. */
function pattern(n: number): Uint8Array {
  const out = new Uint8Array(n);
  const p = new TextEncoder().encode("0123456789abcdef");
  for (let i = 0; i < n; i++) out[i] = p[i & 15]!;
  return out;
}

/** The CLI with `input` written to its standard input through a pipe, then closed. */
async function runWithStdin(args: string[], input: Uint8Array, timeoutMs = 30_000) {
  const proc = Bun.spawn([...SOURCE_CLI, ...args], { stdin: "pipe", stdout: "pipe", stderr: "pipe" });
  const timer = setTimeout(() => proc.kill("SIGKILL"), timeoutMs);
  const feed = (async () => {
    // In slices, so the pipe's back-pressure is real and the client reads while it is fed.
    for (let off = 0; off < input.length; off += 1 << 20) {
      proc.stdin.write(input.subarray(off, off + (1 << 20)));
      await proc.stdin.flush();
    }
    await proc.stdin.end();
  })().catch(() => {});
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited, feed]);
  clearTimeout(timer);
  return { code, stdout, stderr };
}

const SUMMARY = /^(\d+) B sent, (\d+) B back in (\d+\.\d{3}) s(?: \((\d+\.\d{3}) MB\/s\))?: (.*)$/m;

describe("client --file against tcp-echo", () => {
  test("a 50 MB random file over [::1]: identical, exit 0, byte counts and throughput printed", async () => {
    await using s = serveListeners([{ host: "::1" }], {}, "info");
    const data = randomBytes(50_000_000, 7);
    const path = file(data);
    const r = await runCli(["client", "--file", path, `[::1]:${s.port}`], { timeoutMs: 60_000 });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`sending ${path} (50000000 B), then our FIN`);
    expect(r.stdout).toContain("half-close: FIN sent after 50000000 B; the server's FIN came after 50000000 B back");
    const m = SUMMARY.exec(r.stdout)!;
    expect(m).not.toBeNull();
    expect([m[1], m[2], m[5]]).toEqual(["50000000", "50000000", "identical"]);
    // The rate printed is the bytes over the time printed (3 decimals each).
    expect(Math.abs(Number(m[4]) - 50 / Number(m[3]))).toBeLessThanOrEqual(0.01 * Number(m[4]) + 0.01);
    // The server saw exactly the file, both ways.
    expect(await s.log.waitFor((e) => e.event === "close")).toMatchObject({ bytes_in: 50_000_000, bytes_out: 50_000_000 });
  }, 60_000);

  test("standard input through a pipe, larger than the window kept for it: identical, exit 0", async () => {
    await using s = serve({}, "warn");
    const data = randomBytes(STREAM_WINDOW * 2 + 12345, 11);
    const r = await runWithStdin(["client", "--file", "-", `127.0.0.1:${s.port}`], data);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("sending standard input until its end, then our FIN");
    const m = SUMMARY.exec(r.stdout)!;
    expect([m[1], m[2], m[5]]).toEqual([String(data.length), String(data.length), "identical"]);
  }, 60_000);

  test("an empty file: nothing sent, the server's FIN answers ours, identical", async () => {
    await using s = serve({}, "warn");
    const r = await runCli(["client", "--file", file(new Uint8Array(0)), `127.0.0.1:${s.port}`]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^0 B sent, 0 B back in 0\.000 s: identical$/m);
  });
});

describe("client --file against echoes that are wrong", () => {
  // Past the first chunks of every layer (our 256 KiB reads, python's 64 KiB recv), on a letter.
  const K = 3_000_010;
  const flipped = [
    `mismatch at offset ${K}: the first byte back that differs from the byte sent`,
    `  sent from ${K - 8}: b'23456789' b'abcdef01'`,
    `  got  from ${K - 8}: b'23456789' b'Abcdef01'`,
  ];

  test("one byte changed at a known offset: exit 1, that offset and its context, from a file", async () => {
    await using peer = await pythonPeer("flip", String(K));
    const r = await runCli(["client", "--file", file(pattern(5_000_000)), `127.0.0.1:${peer.port}`], { timeoutMs: 30_000 });
    expect(r.code).toBe(1);
    expect(r.stdout.split("\n")).toEqual(expect.arrayContaining(flipped));
    expect(SUMMARY.exec(r.stdout)![5]).toBe(`different from offset ${K}`);
  });

  test("the same from standard input (kept in the window, not read again)", async () => {
    await using peer = await pythonPeer("flip", String(K));
    const r = await runWithStdin(["client", "--file", "-", `127.0.0.1:${peer.port}`], pattern(5_000_000));
    expect(r.code).toBe(1);
    expect(r.stdout.split("\n")).toEqual(expect.arrayContaining(flipped));
  });

  test("a difference in the first byte: no context before it", async () => {
    await using peer = await pythonPeer("flip", "0");
    const r = await runCli(["client", "--file", file(new TextEncoder().encode("hello\n")), `127.0.0.1:${peer.port}`]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("mismatch at offset 0: the first byte back that differs from the byte sent\n  sent from 0: b'hello\\n'\n  got  from 0: b'Hello\\n'\n");
  });

  test("bench/loadgen's corrupt-echo.py (XOR 0x5A in a chunk): the reported byte is the file's byte XOR 0x5A", async () => {
    await using peer = await spawnCorruptEcho(["--every", "3"]);
    const data = randomBytes(50_000_000, 3);
    const o: ClientOptions = { ...CLIENT_DEFAULTS, port: peer.port, message: messageBytes("x"), file: file(data) };
    const lines: string[] = [];
    const r = await runFileClient(o, (l) => lines.push(l));
    expect(r.ok).toBe(false);
    const m = r.mismatch!;
    expect(m).not.toBeNull();
    expect(m.got[0]).toBe(data[m.at]! ^ 0x5a);
    expect(Buffer.from(m.got.subarray(1))).toEqual(Buffer.from(data.subarray(m.at + 1, m.at + m.got.length)));
    expect(Buffer.from(m.sent)).toEqual(Buffer.from(data.subarray(m.at, m.at + 8)));
    expect(Buffer.from(m.before)).toEqual(Buffer.from(data.subarray(m.at - 8, m.at)));
    expect(lines).toContain(`mismatch at offset ${m.at}: the first byte back that differs from the byte sent`);
  }, 60_000);

  test("bytes back that were never sent: the offset where they start", async () => {
    await using peer = await pythonPeer("extra");
    const r = await runCli(["client", "--file", file(new TextEncoder().encode("hello\n")), `127.0.0.1:${peer.port}`]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("mismatch at offset 6: bytes came back that were never sent\n  got  from 0: b'hello\\n' b'!'\n");
  });

  test("a server that closes without echoing: 0 B back, the bytes that never came back, exit 1", async () => {
    await using peer = await pythonPeer("close");
    const r = await runCli(["client", "--file", file(new TextEncoder().encode("hello\n")), `127.0.0.1:${peer.port}`]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^6 B sent, 0 B back in \d+\.\d{3} s(?: \(0\.000 MB\/s\))?: 6 B never came back$/m);
  });

  test("a server that closes early in a large file: it is reported, sending stops, exit 1", async () => {
    await using peer = await pythonPeer("close");
    const r = await runCli(["client", "--file", file(randomBytes(20_000_000, 5)), `127.0.0.1:${peer.port}`], { timeoutMs: 30_000 });
    expect(r.code).toBe(1);
    const m = SUMMARY.exec(r.stdout)!;
    expect(m[2]).toBe("0");
    expect(Number(m[1])).toBeLessThan(20_000_000);
    expect(r.stdout).toMatch(/^connection (closed by 127\.0\.0\.1:\d+|failed \(.*\)) while sending, after \d+ B$/m);
  });

  test("a server that takes the bytes and never answers: the transfer stalls, ends at --timeout and says so", async () => {
    await using peer = await pythonPeer("mute");
    const started = performance.now();
    const r = await runCli(["client", "--file", file(new TextEncoder().encode("hello\n")), "--timeout", "0.3", `127.0.0.1:${peer.port}`]);
    const elapsed = performance.now() - started;
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("no echo for 0.3 s: 0 of 6 B back");
    // Bounded by --timeout, not by a FIN that never comes (the process starts in about 0.3 s).
    expect(elapsed).toBeLessThan(5000);
    expect(SUMMARY.exec(r.stdout)![5]).toBe("the echo stalled (no byte back for 0.3 s)");
  });

  test("a server that echoes but never answers our FIN: all bytes identical, still exit 1", async () => {
    await using peer = await pythonPeer("hold");
    const r = await runCli(["client", "--file", file(new TextEncoder().encode("hello\n")), "--timeout", "0.3", `127.0.0.1:${peer.port}`]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("half-close: FIN sent after 6 B; no FIN from the server within 0.3 s (6 B back)");
    expect(SUMMARY.exec(r.stdout)![5]).toBe("all bytes back and identical, but no FIN from the server");
  });
});
