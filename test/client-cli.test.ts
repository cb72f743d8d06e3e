import { describe, expect, test } from "bun:test";
import { runCli, SOURCE_CLI } from "./helpers/process.ts";
import { serve } from "./helpers/server.ts";
import { pythonPeer } from "./helpers/client-peers.ts";

describe.concurrent("tcp-echo client: output and exit codes", () => {
  test("--count 3 --interval 0 against tcp-echo: three seq lines, the summary, exit 0", async () => {
    await using s = serve();
    const r = await runCli(["client", "--port", String(s.port), "--count", "3", "--interval", "0"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split("\n");
    expect(lines.filter((l) => l.startsWith("seq="))).toHaveLength(3);
    expect(lines.at(-2)).toBe(`--- 127.0.0.1:${s.port} tcp-echo client statistics ---`);
    expect(lines.at(-1)).toMatch(/^3 sent, 3 echoed, 0 mismatched, 0 timed out; rtt min\/avg\/max\/p99 = [\d.]+\/[\d.]+\/[\d.]+\/[\d.]+ ms$/);
  });

  test("--record/--values from the command line reach CPython's struct.unpack exactly", async () => {
    await using peer = await pythonPeer("recorder", "! I 2s Q 2h f");
    const r = await runCli(["client", "--port", String(peer.port), "--record", "! I 2s Q 2h f", "--values", "1,ab,2,3,3,2.5"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("seq=1 record 22 B sent (1, b'ab', 2, 3, 3, 2.5)");
    expect(r.stdout).toContain("records: 1 sent, none echoed");
    expect(JSON.parse(await peer.output())).toEqual([{ hex: "00000001616200000000000000020003000340200000", repr: "(1, b'ab', 2, 3, 3, 2.5)" }]);
  });

  test("a corrupted echo: exit 1, the mismatch on its seq line", async () => {
    await using peer = await pythonPeer("corrupt");
    const r = await runCli(["client", "--port", String(peer.port), "--message", "ping"]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^seq=1 5 B from 127\.0\.0\.1:\d+ time=[\d.]+ ms b'Ping\\n' MISMATCH: sent 5 B b'ping\\n'$/m);
    expect(r.stdout).toContain("1 sent, 1 echoed, 1 mismatched, 0 timed out");
  });

  test("no echo within --timeout: exit 1 and a line saying what timed out", async () => {
    await using peer = await pythonPeer("silent");
    const r = await runCli(["client", "--port", String(peer.port), "--timeout", "0.3"]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("seq=1 timed out after 0.3 s waiting for the echo: 0 of 6 B back");
    expect(r.stderr).toBe("");
  });

  test("a refused connection: exit 1, one line on stderr", async () => {
    await using peer = await pythonPeer("refuse");
    const r = await runCli(["client", "--port", String(peer.port)]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe(`tcp-echo: connect to 127.0.0.1:${peer.port} failed: ECONNREFUSED: Connection refused\n`);
  });

  test("a connect that times out: exit 1, one line on stderr", async () => {
    await using peer = await pythonPeer("blackhole");
    const r = await runCli(["client", "--port", String(peer.port), "--connect-timeout", "0.3"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`tcp-echo: connect to 127.0.0.1:${peer.port} timed out after 0.3 s\n`);
  });

  test("TCP_ECHO_* variables set options, flags win over them", async () => {
    await using s = serve();
    const r = await runCli(["client", "--port", String(s.port), "--count", "2"], {
      env: { TCP_ECHO_COUNT: "5", TCP_ECHO_MESSAGE: "ping", TCP_ECHO_INTERVAL: "0", TCP_ECHO_SYN_RETRIES: "2" },
    });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(", TCP_SYNCNT 2, ");
    expect(r.stdout).toMatch(/^seq=2 5 B from .* b'ping\\n'$/m);
    expect(r.stdout).toContain("2 sent, 2 echoed");
  });

  test("SIGINT ends the run after the current round trip, with the summary, like ping", async () => {
    await using s = serve();
    const proc = Bun.spawn([...SOURCE_CLI, "client", "--port", String(s.port), "--count", "1000", "--interval", "0.1"], {
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
    });
    const killer = setTimeout(() => proc.kill("SIGKILL"), 15_000);
    const reader = proc.stdout.getReader();
    let out = "";
    while (!out.includes("seq=2 ")) {
      const { value, done } = await reader.read();
      if (done) break;
      out += new TextDecoder().decode(value);
    }
    proc.kill("SIGINT");
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      out += new TextDecoder().decode(value);
    }
    const code = await proc.exited;
    clearTimeout(killer);
    expect(code).toBe(0);
    expect(out).toContain("half-close: FIN sent; 0 B came back before the server's FIN");
    expect(out).toMatch(/\n\d+ sent, \d+ echoed, 0 mismatched, 0 timed out; rtt /);
  });
});

