import { compileStruct } from "../src/protocol/struct/index.ts";
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { CLIENT_DEFAULTS, messageBytes, packRecord, runClient, summarizeRtts, type ClientOptions } from "../src/client/index.ts";
import { closeFd, connectSocket, ConnectTimeoutError, readClientSocketOptions, setClientNoDelay, SyscallError } from "../src/net/index.ts";
import { serve } from "./helpers/server.ts";
import { pythonPeer } from "./helpers/client-peers.ts";

function options(port: number, o: Partial<ClientOptions> = {}): ClientOptions {
  return { ...CLIENT_DEFAULTS, port, message: messageBytes("hello"), interval: 0, ...o };
}

async function run(o: ClientOptions) {
  const lines: string[] = [];
  const result = await runClient(o, (l) => lines.push(l));
  return { result, lines };
}

const RECORD = packRecord("! I 2s Q 2h f", "1,ab,2,3,3,2.5");

// In-process server and client with timing checks: one at a time (a burst of concurrent starts
// in the same process delayed an echo by 0.9 s, measured).
describe("client against tcp-echo", () => {
  for (const format of ["!Q", "!I"]) {
    test(`a plain message to a --record ${format} server times out with a hint about records`, async () => {
      await using s = serve({ record: { codec: compileStruct(format), mode: "interleaved" } });
      // The first echo must come within the timeout: 1 s leaves room for a loaded machine.
      const { result, lines } = await run(options(s.port, { count: 2, timeout: 1 }));
      expect(result).toMatchObject({ ok: false, echoed: 1, timedOut: 1 });
      const line = lines.find((l) => l.startsWith("seq=2 timed out"))!;
      expect(line).toContain("takes the bytes after each line as a record and does not echo them: send one with --record and --values");
    });
  }

  test("an idle timeout that ends the run says when the server's FIN came, against the last byte each way", async () => {
    // The second message goes out after the server's FIN (0.6 s idle) and before its reset (one
    // more timeout later, at 1.2 s): 0.3 s of room either side on a loaded machine.
    await using s = serve({ timeout: 0.6 });
    const { result, lines } = await run(options(s.port, { count: 3, interval: 0.9 }));
    expect(result).toMatchObject({ ok: false, sent: 2, echoed: 1 });
    expect(lines).toContain(`seq=2 connection closed by 127.0.0.1:${s.port} while waiting for the echo`);
    expect(lines).toContain("half-close: FIN sent after the server's own; 0 B came back");
    const end = lines.find((l) => l.startsWith("the server's FIN came"))!;
    const m = /^the server's FIN came (\d+\.\d{3}) s after the last byte it sent, (\d+\.\d{3}) s after our last byte; we sent again (\d+\.\d{3}) s after it$/.exec(end);
    expect(m).not.toBeNull();
    // The server's idle timeout: 0.6 s after the echo, as the client's callbacks see it on a
    // loaded machine (either may run late): 50 ms less, 0.3 s more.
    expect(Number(m![1])).toBeGreaterThanOrEqual(0.55);
    expect(Number(m![1])).toBeLessThan(0.9);
    expect(Number(m![3])).toBeGreaterThan(0);
    // Our second message went out the interval after our first (its echo came in between).
    expect(Number(m![2]) + Number(m![3])).toBeGreaterThanOrEqual(0.89);
  });

  test("three round trips: every echo matches byte for byte, with RTTs and a ping-like summary", async () => {
    await using s = serve();
    const { result, lines } = await run(options(s.port, { count: 3 }));
    expect(result).toMatchObject({ ok: true, sent: 3, echoed: 3, mismatched: 0, timedOut: 0, fin: true, records: null, interrupted: false });
    expect(result.tail).toHaveLength(0);
    expect(result.rtts).toHaveLength(3);
    const p = s.port;
    expect(lines[0]).toMatch(new RegExp(`^connected to 127\\.0\\.0\\.1:${p} in \\d+\\.\\d\\d ms \\(local 127\\.0\\.0\\.1:${result.local.port}\\)$`));
    expect(lines[1]).toMatch(/^socket: TCP_NODELAY off, TCP_SYNCNT \d+ \(kernel default\), SO_RCVBUF \d+, SO_SNDBUF \d+$/);
    // Each seq line shows its round trip; the summary is min/avg/max/p99 of those very times.
    const times = [1, 2, 3].map((seq) => {
      const m = new RegExp(`^seq=${seq} 6 B from 127\\.0\\.0\\.1:${p} time=(\\d+\\.\\d{3}) ms b'hello\\\\n'$`).exec(lines[1 + seq]!);
      expect(m).not.toBeNull();
      expect(Number(m![1])).toBeCloseTo(result.rtts[seq - 1]!, 3);
      return result.rtts[seq - 1]!;
    });
    expect(lines.slice(5)).toEqual([
      "half-close: FIN sent; 0 B came back before the server's FIN",
      expect.stringMatching(/^the server's FIN came \d+\.\d{3} s after the last byte it sent, \d+\.\d{3} s after our last byte, \d+\.\d{3} s after our FIN$/),
      `--- 127.0.0.1:${p} tcp-echo client statistics ---`,
      expect.stringMatching(/^3 sent, 3 echoed, 0 mismatched, 0 timed out; rtt min\/avg\/max\/p99 = [\d.]+\/[\d.]+\/[\d.]+\/[\d.]+ ms$/),
    ]);
    const shown = /= ([\d.]+)\/([\d.]+)\/([\d.]+)\/([\d.]+) ms$/.exec(lines[8]!)!.slice(1).map(Number);
    const expected = [Math.min(...times), (times[0]! + times[1]! + times[2]!) / 3, Math.max(...times), Math.max(...times)];
    shown.forEach((v, i) => expect(Math.abs(v - expected[i]!)).toBeLessThanOrEqual(0.0005 + 1e-9));
    const close = await s.log.waitFor((e) => e.event === "close");
    expect(close).toMatchObject({ reason: "peer-closed", bytes_in: 18, bytes_out: 18 });
  });

  test("records go out after each echo; a server that echoes everything sends them back", async () => {
    await using s = serve();
    const { result, lines } = await run(options(s.port, { count: 3, record: RECORD }));
    expect(result).toMatchObject({ ok: true, sent: 3, echoed: 3, mismatched: 0, recordsSent: 3, records: "echoed" });
    // The first two came back before the next message's echo; the last one after our FIN.
    expect(Buffer.from(result.tail).equals(Buffer.from(RECORD.bytes))).toBe(true);
    expect(lines).toContain("seq=2 record 22 B sent (1, b'ab', 2, 3, 3, 2.5)");
    expect(lines).toContain("records: 3 sent, echoed back (a plain echo server, or tcp-echo with stream framing)");
    const close = await s.log.waitFor((e) => e.event === "close");
    expect(close).toMatchObject({ bytes_in: 3 * (6 + 22), bytes_out: 3 * (6 + 22) });
  });

  test("against tcp-echo --record (interleaved): lines echoed, each record decoded in the server's log, none echoed", async () => {
    const { compileStruct } = await import("../src/protocol/struct/index.ts");
    await using s = serve({ record: { codec: compileStruct("! I 2s Q 2h f"), mode: "interleaved" } });
    // Nagle stays on (the client's default) and quick-ack auto keeps the exchange from stalling.
    const { result, lines } = await run(options(s.port, { count: 5, record: RECORD }));
    expect(result).toMatchObject({ ok: true, sent: 5, echoed: 5, mismatched: 0, recordsSent: 5, records: "not-echoed" });
    expect(lines).toContain("records: 5 sent, none echoed (tcp-echo with interleaved framing decodes them)");
    await s.log.waitFor((e) => e.event === "record" && e.seq === 5);
    expect(s.log.of("record").map((e) => e.repr)).toEqual(Array(5).fill("(1, b'ab', 2, 3, 3, 2.5)"));
    expect(await s.log.waitFor((e) => e.event === "close")).toMatchObject({ bytes_in: 5 * (6 + 22), bytes_out: 5 * 6 });
  });

  test("socket options are set before connect and read back after Bun adopts the socket", async () => {
    await using s = serve();
    const asked = await run(options(s.port, { synRetries: 3, recvBuf: 64 * 1024, sendBuf: 64 * 1024 }));
    // Bun turns TCP_NODELAY on when it adopts a socket; the client turns it back off (Nagle on).
    expect(asked.result.socket).toEqual({ nodelay: false, synRetries: 3, recvBuf: 2 * 64 * 1024, sendBuf: 2 * 64 * 1024 });
    expect(asked.lines[1]).toBe("socket: TCP_NODELAY off, TCP_SYNCNT 3, SO_RCVBUF 131072 (asked 65536), SO_SNDBUF 131072 (asked 65536)");
    const defaults = await run(options(s.port, { nodelay: true }));
    const kernelSynRetries = Number(readFileSync("/proc/sys/net/ipv4/tcp_syn_retries", "utf8").trim());
    expect(defaults.result.socket).toMatchObject({ nodelay: true, synRetries: kernelSynRetries });
  });

  test("option writes and reads stay true once hot (a ptr() to a small typed array goes stale at JIT tier-up)", async () => {
    await using s = serve();
    const { fd } = await connectSocket({ host: "127.0.0.1", port: s.port, synRetries: 2, recvBuf: null, sendBuf: null, timeout: 5 });
    try {
      let wrong = 0;
      for (let i = 0; i < 20_000; i++) {
        setClientNoDelay(fd, i % 2 === 0);
        const o = readClientSocketOptions(fd);
        if (o.nodelay !== (i % 2 === 0) || o.synRetries !== 2) wrong++;
      }
      expect(wrong).toBe(0);
    } finally {
      closeFd(fd);
    }
  });
});

describe.concurrent("round-trip statistics", () => {
  test("min/avg/max/p99 of known samples, sorted as numbers, not as text", () => {
    const samples = [10, 9, 100, 0.5, 30.25];
    expect(summarizeRtts(samples)).toEqual({ min: 0.5, avg: 29.95, max: 100, p99: 100 });
    expect(samples).toEqual([10, 9, 100, 0.5, 30.25]); // the caller's list is left as it was
    expect(summarizeRtts([4.2])).toEqual({ min: 4.2, avg: 4.2, max: 4.2, p99: 4.2 });
    expect(summarizeRtts([])).toBeNull();
  });

  test("p99 is the nearest rank: the 149th of 150 samples, the 99th of 100", () => {
    // 1..n in a scrambled order (7 is coprime to both sizes).
    const scrambled = (n: number) => Array.from({ length: n }, (_, i) => ((i * 7) % n) + 1);
    expect(summarizeRtts(scrambled(150))).toEqual({ min: 1, avg: 75.5, max: 150, p99: 149 });
    expect(summarizeRtts(scrambled(100))).toEqual({ min: 1, avg: 50.5, max: 100, p99: 99 });
  });
});

describe.concurrent("client against python3 peers", () => {
  test("a plain python3 echo server: echoes match, records come back inline and after the FIN", async () => {
    await using peer = await pythonPeer("echo");
    const { result } = await run(options(peer.port, { count: 3, record: RECORD }));
    expect(result).toMatchObject({ ok: true, sent: 3, echoed: 3, mismatched: 0, timedOut: 0, records: "echoed", fin: true });
  });

  test("records reach CPython exactly as struct.pack makes them, and are not echoed in interleaved framing", async () => {
    await using peer = await pythonPeer("recorder", "! I 2s Q 2h f");
    const { result, lines } = await run(options(peer.port, { count: 2, record: RECORD }));
    expect(result).toMatchObject({ ok: true, sent: 2, echoed: 2, mismatched: 0, records: "not-echoed", fin: true });
    expect(result.tail).toHaveLength(0);
    expect(lines).toContain("records: 2 sent, none echoed (tcp-echo with interleaved framing decodes them)");
    const seen = JSON.parse(await peer.output()) as { hex: string; repr: string }[];
    const record = { hex: "000000016162000000000000000200030003" + "40200000", repr: "(1, b'ab', 2, 3, 3, 2.5)" };
    expect(seen).toEqual([record, record]);
  });

  test("a server that changes one byte: the reply is reported as a mismatch", async () => {
    await using peer = await pythonPeer("corrupt");
    const { result, lines } = await run(options(peer.port, { count: 2 }));
    expect(result).toMatchObject({ ok: false, sent: 2, echoed: 2, mismatched: 1, timedOut: 0 });
    expect(lines.find((l) => l.startsWith("seq=1 "))).toMatch(/ b'Hello\\n' MISMATCH: sent 6 B b'hello\\n'$/);
    expect(lines.find((l) => l.startsWith("seq=2 "))).not.toContain("MISMATCH");
  });

  test("a server that sends more than it got: the extra bytes make a mismatch", async () => {
    await using peer = await pythonPeer("extra");
    const { result, lines } = await run(options(peer.port));
    expect(result).toMatchObject({ ok: false, echoed: 1, mismatched: 1 });
    expect(lines.find((l) => l.startsWith("seq=1 "))).toMatch(/^seq=1 7 B .* b'hello\\n!' MISMATCH/);
  });

  test("a server that never echoes: the wait ends at --timeout and says what timed out", async () => {
    await using peer = await pythonPeer("silent");
    const started = performance.now();
    // 1 s: the peer must answer our FIN within it, on a loaded machine too.
    const { result, lines } = await run(options(peer.port, { count: 3, timeout: 1 }));
    expect(performance.now() - started).toBeLessThan(5000);
    // The stream is out of step after a lost echo, so the run stops there.
    expect(result).toMatchObject({ ok: false, sent: 1, echoed: 0, timedOut: 1, fin: true, stats: null });
    expect(lines).toContain("seq=1 timed out after 1 s waiting for the echo: 0 of 6 B back");
    expect(lines.at(-1)).toBe("1 sent, 0 echoed, 0 mismatched, 1 timed out");
  });

  test("a server that closes instead of echoing: one line saying so", async () => {
    await using peer = await pythonPeer("close");
    const { result, lines } = await run(options(peer.port, { count: 2 }));
    expect(result).toMatchObject({ ok: false, sent: 1, echoed: 0, fin: true });
    expect(lines).toContain(`seq=1 connection closed by 127.0.0.1:${peer.port} while waiting for the echo`);
  });

  test("a server that resets the connection: the error is named and no FIN is claimed", async () => {
    await using peer = await pythonPeer("reset");
    const { result, lines } = await run(options(peer.port));
    expect(result).toMatchObject({ ok: false, sent: 1, echoed: 0, fin: false });
    expect(lines).toContainEqual(expect.stringMatching(/^seq=1 connection failed \(ECONNRESET\b.*\) while waiting for the echo$/));
    expect(lines).toContainEqual(expect.stringMatching(/^half-close: not sent, the connection was already closed \(ECONNRESET\b.*\); 0 B came back$/));
  });

  test("a server that never answers our FIN: the wait for it ends at --timeout, and the run fails", async () => {
    await using peer = await pythonPeer("hold");
    // 1 s: the echo must come within it, on a loaded machine too.
    const { result, lines } = await run(options(peer.port, { timeout: 1 }));
    expect(result).toMatchObject({ ok: false, sent: 1, echoed: 1, mismatched: 0, timedOut: 0, fin: false });
    expect(lines).toContain("half-close: FIN sent; timed out after 1 s waiting for the server's FIN (0 B came back)");
  });

  test("a refused connection throws ECONNREFUSED with the address", async () => {
    await using peer = await pythonPeer("refuse");
    const err = await runClient(options(peer.port), () => {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SyscallError);
    expect((err as SyscallError).message).toBe(`connect to 127.0.0.1:${peer.port} failed: ECONNREFUSED: Connection refused`);
  });

  test("--connect-timeout bounds a connect whose SYNs go unanswered", async () => {
    await using peer = await pythonPeer("blackhole");
    const started = performance.now();
    const err = await runClient(options(peer.port, { connectTimeout: 0.3 }), () => {}).catch((e: unknown) => e);
    const elapsed = performance.now() - started;
    expect(err).toBeInstanceOf(ConnectTimeoutError);
    expect((err as Error).message).toBe(`connect to 127.0.0.1:${peer.port} timed out after 0.3 s`);
    expect(elapsed).toBeGreaterThanOrEqual(290);
    expect(elapsed).toBeLessThan(2500);
  });

  test("--syn-retries 1: the kernel gives up after one SYN retransmit (1 s + 2 s)", async () => {
    await using peer = await pythonPeer("blackhole");
    const started = performance.now();
    const err = await runClient(options(peer.port, { synRetries: 1, connectTimeout: 30 }), () => {}).catch((e: unknown) => e);
    const elapsed = performance.now() - started;
    expect((err as SyscallError).code).toBe("ETIMEDOUT");
    expect((err as Error).message).toBe(`connect to 127.0.0.1:${peer.port} failed: ETIMEDOUT: Connection timed out`);
    // RTO 1 s, doubled once: about 3 s, far below the default 6 retries (127 s).
    expect(elapsed).toBeGreaterThan(2000);
    expect(elapsed).toBeLessThan(10_000);
  }, 20_000);

  test("aborting stops after the current round trip; the half-close and summary still happen", async () => {
    await using s = serve();
    const controller = new AbortController();
    const lines: string[] = [];
    const result = await runClient(options(s.port, { count: 1000, interval: 0.05, signal: controller.signal }), (l) => {
      lines.push(l);
      if (l.startsWith("seq=2 ")) controller.abort();
    });
    expect(result).toMatchObject({ ok: true, sent: 2, echoed: 2, interrupted: true, fin: true });
    expect(lines.at(-1)).toMatch(/^2 sent, 2 echoed, 0 mismatched, 0 timed out; rtt /);
  });
});
