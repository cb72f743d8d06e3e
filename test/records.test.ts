import { describe, expect, test } from "bun:test";
import { serve, LogCapture } from "./helpers/server.ts";
import { connect } from "./helpers/client.ts";
import { python } from "./helpers/python.ts";
import { runCli } from "./helpers/process.ts";
import { compileStruct } from "../src/protocol/struct/index.ts";
import { createLogger } from "../src/log/logger.ts";
import { RecordFramer, MAX_LINE } from "../src/server/records.ts";
import { ServerStats } from "../src/server/stats.ts";
import type { Connection } from "../src/server/connection.ts";

const FORMAT = "! I 2s Q 2h f";
const codec = compileStruct(FORMAT);
const enc = new TextEncoder();

/** The framer alone (it does no I/O), fed any segmentation; the ranges it says to echo are collected. */
function framerHarness(mode: "interleaved" | "stream") {
  const log = new LogCapture();
  const stats = new ServerStats();
  const framer = new RecordFramer({ codec, mode }, createLogger({ level: "info", format: "json", write: log.write }), stats);
  const echoed: number[] = [];
  const conn = { id: 1, peer: "127.0.0.1:1", tag: "[#1 127.0.0.1:1]", records: framer.newState() } as unknown as Connection;
  const feed = (chunk: Uint8Array) => {
    if (mode === "stream") return framer.stream(conn, chunk);
    const ranges: number[] = [];
    const held = framer.interleaved(conn, chunk, ranges);
    for (let r = 0; r < ranges.length; r += 2) for (let i = ranges[r]!; i < ranges[r + 1]!; i++) echoed.push(chunk[i]!);
    return held;
  };
  return { log, stats, framer, conn, echoed, feed };
}

function concat(parts: Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts));
}

describe("interleaved framing: line echoed, then one record decoded and not echoed", () => {
  const rec1 = codec.encode([1, enc.encode("ab"), 2n, 3, 3, 2.5]);
  const rec2 = codec.encode([4294967295, enc.encode("\x00'"), 18446744073709551615n, -32768, 32767, -0.0]);
  const stream = concat([enc.encode("data\n"), rec1, enc.encode("second line\n"), rec2]);
  const lines = "data\nsecond line\n";
  const reprs = ["(1, b'ab', 2, 3, 3, 2.5)", `(4294967295, b"\\x00'", 18446744073709551615, -32768, 32767, -0.0)`];

  test("at every single split point the same lines are echoed and the same records logged", () => {
    for (let cut = 0; cut <= stream.length; cut++) {
      const h = framerHarness("interleaved");
      h.feed(stream.subarray(0, cut));
      h.feed(stream.subarray(cut));
      expect(new TextDecoder().decode(new Uint8Array(h.echoed))).toBe(lines);
      expect(h.log.of("record").map((e) => e.repr)).toEqual(reprs);
    }
  });

  test("byte by byte, and in 300 random segmentations", () => {
    let seed = 99;
    for (let round = 0; round <= 300; round++) {
      const h = framerHarness("interleaved");
      for (let i = 0; i < stream.length; ) {
        seed = (seed * 1103515245 + 12345) >>> 0;
        const n = round === 0 ? 1 : 1 + (seed % 17);
        h.feed(stream.subarray(i, i + n));
        i += n;
      }
      expect(new TextDecoder().decode(new Uint8Array(h.echoed))).toBe(lines);
      expect(h.log.of("record").map((e) => e.repr)).toEqual(reprs);
      expect(h.stats.records).toBe(2);
    }
  });

  test("a line longer than 1024 bytes is cut at 1024; the next bytes are the record", () => {
    const h = framerHarness("interleaved");
    const long = new Uint8Array(MAX_LINE + 10).fill(0x61);
    h.feed(concat([long.subarray(0, MAX_LINE), rec1]));
    expect(h.echoed.length).toBe(MAX_LINE);
    expect(h.log.of("record").map((e) => e.repr)).toEqual([reprs[0]]);
  });

  test("a read that holds record bytes reports them as not answered (quick-ack must be re-armed)", () => {
    const h = framerHarness("interleaved");
    expect(h.feed(enc.encode("partial"))).toBe(false);
    expect(h.feed(enc.encode(" line\n"))).toBe(false);
    expect(h.feed(rec1.subarray(0, 5))).toBe(true);
  });

  test("json carries values as an array: bytes as hex, 64-bit beyond 2^53 as strings", () => {
    const h = framerHarness("interleaved");
    h.feed(stream);
    expect(h.log.of("record").map((e) => e.values)).toEqual([
      [1, "6162", 2, 3, 3, 2.5],
      // JSON has no negative zero: -0.0 arrives as 0 (the repr field keeps "-0.0").
      [4294967295, "0027", "18446744073709551615", -32768, 32767, 0],
    ]);
    expect(h.log.of("record")[0]).toMatchObject({ conn: 1, seq: 1, format: FORMAT, msg: `[#1 127.0.0.1:1] record #1 ${reprs[0]}` });
  });

  test("a connection that closes inside a record logs how much of it arrived", () => {
    const h = framerHarness("interleaved");
    h.feed(concat([enc.encode("x\n"), rec1.subarray(0, 9)]));
    h.framer.closed(h.conn);
    expect(h.log.of("partial-record")[0]).toMatchObject({ seq: 1, got: 9, size: codec.size });
    expect(h.stats.partialRecords).toBe(1);
  });
});

describe("stream framing: records back to back, each decoded and echoed", () => {
  test("any segmentation decodes the same records", () => {
    const recs = Array.from({ length: 5 }, (_, i) => codec.encode([i, enc.encode("zz"), BigInt(i) ** 3n, -i, i, i / 4]));
    const all = concat(recs);
    for (const step of [1, 3, 7, codec.size, codec.size + 1, all.length]) {
      const h = framerHarness("stream");
      for (let i = 0; i < all.length; i += step) h.feed(all.subarray(i, i + step));
      expect(h.log.of("record").map((e) => e.repr)).toEqual(recs.map((_, i) => `(${i}, b'zz', ${i ** 3}, ${-i}, ${i}, ${(i / 4).toFixed(2).replace(/0$/, "")})`));
    }
  });
});

describe("--record in the server", () => {
  test("the issue's example: data\\n echoed, the record logged as (1, b'ab', 2, 3, 3, 2.5) with the connection id", async () => {
    await using s = serve({ record: { codec, mode: "interleaved" } });
    const out = await python(
      `
import socket, struct, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"data\\n"); print(s.recv(100))
s.sendall(struct.pack('! I 2s Q 2h f', 1, b'ab', 2, 3, 3, 2.5))
s.shutdown(socket.SHUT_WR); print(s.recv(100))
`,
      [s.port],
    );
    expect(out).toBe("b'data\\n'\nb''\n");
    const rec = await s.log.waitFor((e) => e.event === "record");
    expect(rec).toMatchObject({ conn: 1, repr: "(1, b'ab', 2, 3, 3, 2.5)", values: [1, "6162", 2, 3, 3, 2.5] });
    expect(rec.msg).toContain("(1, b'ab', 2, 3, 3, 2.5)");
    expect(await s.log.waitFor((e) => e.event === "close")).toMatchObject({ bytes_in: 5 + codec.size, bytes_out: 5 });
  });

  test("1-byte writes over a real socket: same lines back, same records logged", async () => {
    await using s = serve({ record: { codec, mode: "interleaved" } });
    const c = await connect(s.port);
    const stream = concat([enc.encode("hi\n"), codec.encode([7, enc.encode("ok"), 8n, 9, 10, 1.5]), enc.encode("bye\n")]);
    for (let i = 0; i < stream.length; i++) {
      c.socket.write(stream.subarray(i, i + 1));
      await Bun.sleep(0);
    }
    await c.waitBytes(7);
    expect(new TextDecoder().decode(c.received())).toBe("hi\nbye\n");
    expect((await s.log.waitFor((e) => e.event === "record")).repr).toBe("(7, b'ok', 8, 9, 10, 1.5)");
    c.socket.end();
    expect(s.handle.stats()).toMatchObject({ records: 1 });
  });

  test("stream mode echoes the records and logs each", async () => {
    await using s = serve({ record: { codec, mode: "stream" } });
    const c = await connect(s.port);
    const recs = concat([codec.encode([1, enc.encode("ab"), 2n, 3, 3, 2.5]), codec.encode([2, enc.encode("cd"), 4n, 6, 6, 5])]);
    await c.writeAll(recs);
    await c.waitBytes(recs.length);
    expect(Buffer.compare(c.received(), recs)).toBe(0);
    await s.log.waitFor((e) => e.event === "record" && e.seq === 2);
    expect(s.log.of("record").map((e) => e.repr)).toEqual(["(1, b'ab', 2, 3, 3, 2.5)", "(2, b'cd', 4, 6, 6, 5.0)"]);
    c.socket.end();
  });

  test("a new connection is in quick-ack mode without any setsockopt (so auto need not set it on accept)", async () => {
    await using s = serve({ quickack: "off" }, "debug");
    const c = await connect(s.port);
    expect(await s.log.waitFor((e) => e.event === "options")).toMatchObject({ ack_mode: "quick" });
    c.socket.end();
  });

  test("a Nagle client sending each record in two writes does not stall with quick-ack auto, and does with off", async () => {
    // Each round: a line and its echo, then a record in two writes. Nagle holds the second write
    // until our ACK of the first: a delayed ACK (40 ms) unless quick-ack sends it at once.
    const run = async (quickack: "auto" | "off") => {
      await using s = serve({ record: { codec, mode: "interleaved" }, quickack });
      const out = await python(
        `
import socket, struct, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))   # Nagle left on
rec = struct.pack('! I 2s Q 2h f', 1, b'ab', 2, 3, 3, 2.5)
rounds = []
for i in range(30):
    t0 = time.perf_counter()
    s.sendall(b"data\\n")
    assert s.recv(5) == b"data\\n"
    s.sendall(rec[:11]); s.sendall(rec[11:])
    rounds.append(time.perf_counter() - t0)
print(" ".join(str(r) for r in rounds))
`,
        [s.port],
      );
      await s.log.waitFor((e) => e.event === "record" && e.seq === 30);
      const rounds = out.trim().split(" ").map(Number).sort((a, b) => a - b);
      // The median round: a loaded machine that is slow to run the server now and then does not
      // move it; a delayed ACK in every round does.
      return rounds[15]!;
    };
    const auto = await run("auto");
    const off = await run("off");
    // A round waits for the second record write, which waits for our ACK of the first.
    expect(off).toBeGreaterThan(0.035);
    expect(auto).toBeLessThan(0.02);
  });
});

describe("--record on the command line", () => {
  test("a format Python rejects: exit 2, naming the character and its position", async () => {
    const r = await runCli(["serve", "--record", "! I y"]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toMatch(/^tcp-echo: --record: .*'y'.*position 4/);
  });

  test("--record-mode without --record is bad input", async () => {
    const r = await runCli(["serve", "--record-mode", "stream"]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe("tcp-echo: --record-mode needs --record FORMAT as well (see tcp-echo serve --help)");
  });
});

describe("record lines are bounded per second", () => {
  test("5,000 one-byte records at once: 200 lines, then one suppressed line counting the other 4,800; all 5,000 counted", async () => {
    const { RECORD_LINES_PER_S } = await import("../src/server/records.ts");
    await using s = serve({ record: { codec: compileStruct("B"), mode: "stream" } });
    const c = await connect(s.port);
    await c.writeAll(new Uint8Array(5000).fill(7));
    await c.waitBytes(5000);
    const summary = await s.log.waitFor((e) => e.event === "suppressed", 3000);
    expect(summary).toMatchObject({ level: "info", suppressed_event: "record", count: 5000 - RECORD_LINES_PER_S, per_second: RECORD_LINES_PER_S });
    expect(s.log.of("record")).toHaveLength(RECORD_LINES_PER_S);
    expect(s.handle.stats().records).toBe(5000);
    c.socket.end();
  });
});
