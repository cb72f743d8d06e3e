import { describe, expect, test } from "bun:test";
import { serve } from "./helpers/server.ts";
import { connect } from "./helpers/client.ts";
import { bytesRepr, previewRepr } from "../src/protocol/repr.ts";
import { createLogger } from "../src/log/logger.ts";
import { python } from "./helpers/python.ts";

describe("connection logs", () => {
  test("info: open and close carry the id and peer; close has bytes, duration and reason", async () => {
    await using s = serve();
    const c = await connect(s.port);
    await c.writeAll(new TextEncoder().encode("hello\n"));
    await c.waitBytes(6);
    const peer = `127.0.0.1:${c.socket.localPort}`;
    c.socket.end();
    const close = await s.log.waitFor((e) => e.event === "close");
    const open = s.log.of("open")[0]!;
    expect(open).toMatchObject({ level: "info", conn: 1, peer });
    expect(close).toMatchObject({ level: "info", conn: 1, peer, reason: "peer-closed", bytes_in: 6, bytes_out: 6, not_echoed: 0, error: null });
    expect(typeof close.duration_ms).toBe("number");
    expect(close.msg).toBe(`[#1 ${peer}] close peer-closed: in 6 B, out 6 B, ${(close.duration_ms as number).toFixed(1)} ms`);
    expect(typeof close.time).toBe("string");
  });

  test("debug: each chunk with its size and an escaped preview that cannot forge a log line", async () => {
    await using s = serve({}, "debug");
    const c = await connect(s.port);
    const evil = new TextEncoder().encode('x\n{"event":"close","forged":true}\r\x1b[2J\'"\\');
    await c.writeAll(evil);
    await c.waitBytes(evil.length);
    const recv = await s.log.waitFor((e) => e.event === "recv");
    const sent = await s.log.waitFor((e) => e.event === "send");
    const repr = `b'x\\n{"event":"close","forged":true}\\r\\x1b[2J\\'"\\\\'`;
    expect(recv).toMatchObject({ size: evil.length, preview: repr });
    expect(sent).toMatchObject({ size: evil.length, preview: repr });
    expect(s.log.events.some((e) => "forged" in e)).toBe(false);
    c.socket.end();
  });

  test("previews stop at 64 bytes", () => {
    const big = new Uint8Array(100).fill(0x61);
    expect(previewRepr(big)).toBe(`b'${"a".repeat(64)}'...`);
  });

  test("a reset by the peer is logged with reason reset, and with the peer's address (gone from the socket by then)", async () => {
    await using s = serve();
    const out = await python(
      `
import socket, struct, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"abc"); s.recv(3)
print(s.getsockname()[1])
s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
s.close()  # RST
`,
      [s.port],
    );
    const close = await s.log.waitFor((e) => e.event === "close");
    expect(close).toMatchObject({ reason: "reset", bytes_in: 3, peer: `127.0.0.1:${out.trim()}` });
    // The code once, not "ECONNRESET: ECONNRESET: ...".
    expect(String(close.error).match(/ECONNRESET/g)).toHaveLength(1);
  });

  test("log text: counts agree in number, JSON messages carry no indentation, a message never spans lines", async () => {
    const lines: string[] = [];
    {
      const log = createLogger({ level: "info", format: "json", write: (l) => lines.push(l) });
      const { startServer, DEFAULTS } = await import("../src/server/index.ts");
      const h = startServer({ ...DEFAULTS, port: 0, logger: log });
      const c = await connect(h.address.port);
      c.socket.end();
      await c.closed;
      await h.stop();
    }
    const events = lines.map((l) => JSON.parse(l) as { event: string; msg: string });
    expect(events.find((e) => e.event === "stopped")!.msg).toStartWith("stopped: 1 connection served,");
    for (const e of events) expect(e.msg).toBe(e.msg.trimStart());
    const pretty: string[] = [];
    createLogger({ level: "info", format: "pretty", write: (l) => pretty.push(l), color: false }).info("x", "one\ntwo\r\nthree");
    expect(pretty).toEqual([expect.stringMatching(/ INFO  one\\ntwo\\nthree\n$/)]);
  });

  test("a worker's pretty lines name it once: [w2] on its own lines, [w2#7 ...] on a connection's", () => {
    const lines: string[] = [];
    const log = createLogger({ level: "info", format: "pretty", write: (l) => lines.push(l), color: false, worker: 2 });
    log.info("listening", "listening on 127.0.0.1:9");
    log.info("open", "[w2#7 127.0.0.1:5] open", { conn: 7 });
    expect(lines.map((l) => l.slice(25))).toEqual(["INFO  [w2] listening on 127.0.0.1:9\n", "INFO  [w2#7 127.0.0.1:5] open\n"]);
  });

  test("nothing below the level is formatted or written", () => {
    const lines: string[] = [];
    const log = createLogger({ level: "warn", format: "json", write: (l) => lines.push(l) });
    log.info("open", "x");
    log.debug("recv", "y");
    log.warn("limit", "z", { n: 1 });
    expect(lines.map((l) => JSON.parse(l))).toMatchObject([{ level: "warn", event: "limit", msg: "z", n: 1 }]);
    expect([log.infoOn, log.debugOn, log.warnOn]).toEqual([false, false, true]);
  });

  test("emit() writes the line log() writes, in JSON with the keys in order, for every shape of fields", () => {
    const shapes: [string, Record<string, unknown>][] = [
      ["plain", { conn: 1, peer: "127.0.0.1:5" }],
      ["empty", {}],
      ["escapes", { preview: `b'"\\\n\u2028'`, nested: { a: [1, null, "x"] }, none: null }],
      // A field named like one of our keys replaces it in place, as an object merge does.
      ["clash", { msg: "theirs", level: "theirs", n: 2 }],
    ];
    for (const worker of [undefined, 3]) {
      const viaLog: string[] = [];
      const viaEmit: string[] = [];
      const a = createLogger({ level: "info", format: "json", write: (l) => viaLog.push(l), worker });
      const b = createLogger({ level: "info", format: "json", write: (l) => viaEmit.push(l), worker });
      for (const [name, fields] of shapes) {
        a.info(name, `  text "${name}"\twith\u0001 controls`, fields);
        b.emit("info", name, `  text "${name}"\twith\u0001 controls`, fields);
      }
      const noTime = (l: string) => {
        const { time, ...rest } = JSON.parse(l) as Record<string, unknown>;
        expect(time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
        return JSON.stringify(rest);
      };
      expect(viaEmit.map(noTime)).toEqual(viaLog.map(noTime));
      const expected = shapes.map(([name, fields]) =>
        JSON.stringify({ level: "info", event: name, msg: `text "${name}"\twith\u0001 controls`, ...(worker === undefined ? {} : { worker }), ...fields }),
      );
      expect(viaEmit.map(noTime)).toEqual(expected);
      expect(viaEmit.every((l) => l.endsWith("}\n") && !l.slice(0, -1).includes("\n"))).toBe(true);
    }
  });

  test("pretty format: one line per event with time, level and text", () => {
    const lines: string[] = [];
    const log = createLogger({ level: "info", format: "pretty", write: (l) => lines.push(l), color: false });
    log.info("open", "[#1 127.0.0.1:5] open");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z INFO  \[#1 127\.0\.0\.1:5\] open\n$/);
  });
});

describe("bytesRepr matches Python's repr(bytes)", () => {
  test("against python3 for every byte value and the quote rules", async () => {
    const samples = [new Uint8Array(Array.from({ length: 256 }, (_, i) => i)), new TextEncoder().encode("it's"), new TextEncoder().encode(`"'`), new TextEncoder().encode(`say "hi"`), new Uint8Array(0)];
    const hex = samples.map((b) => Buffer.from(b).toString("hex"));
    const out = await python(`import sys\nfor h in sys.argv[1:]: print(repr(bytes.fromhex(h)))`, hex);
    expect(samples.map((b) => bytesRepr(b))).toEqual(out.trimEnd().split("\n"));
  });
});
