import { describe, expect, test } from "bun:test";
import { serve } from "./helpers/server.ts";
import { connect } from "./helpers/client.ts";
import { bytesRepr, previewRepr } from "../src/protocol/repr.ts";
import { createLogger, Logger, type LogFields, type LogLevel } from "../src/log/logger.ts";
import type { LineBytes } from "../src/log/line-bytes.ts";
import { compileStruct } from "../src/protocol/struct/index.ts";
import { DEFAULT_LISTENER, startServer } from "../src/server/index.ts";
import { VirtualClock } from "./helpers/virtual-clock.ts";
import { until } from "./helpers/wait.ts";
import { python } from "./helpers/python.ts";

describe("connection logs", () => {
  test("info: open and close carry the id and peer; close has bytes, the time the connection lived, and reason", async () => {
    await using s = serve();
    const wallBefore = Date.now();
    const connectAt = performance.now();
    const c = await connect(s.port);
    await s.log.waitFor((e) => e.event === "open");
    const openSeen = performance.now();
    // Quiet, then one exchange, then quiet again: the duration runs from open to close, not from
    // the last byte.
    await Bun.sleep(60);
    await c.writeAll(new TextEncoder().encode("hello\n"));
    await c.waitBytes(6);
    await Bun.sleep(60);
    const peer = `127.0.0.1:${c.socket.localPort}`;
    const endAt = performance.now();
    c.socket.end();
    const close = await s.log.waitFor((e) => e.event === "close");
    const closeSeen = performance.now();
    const open = s.log.of("open")[0]!;
    expect(open).toMatchObject({ level: "info", conn: 1, peer });
    expect(close).toMatchObject({ level: "info", conn: 1, peer, reason: "peer-closed", bytes_in: 6, bytes_out: 6, not_echoed: 0, error: null });
    const ms = close.duration_ms as number;
    expect(ms).toBeGreaterThanOrEqual(endAt - openSeen);
    expect(ms).toBeLessThanOrEqual(closeSeen - connectAt);
    // The text shows the same duration, to 0.1 ms.
    const m = /^\[#1 (\S+)\] close peer-closed: in 6 B, out 6 B, (\d+\.\d) ms$/.exec(close.msg);
    expect(m?.[1]).toBe(peer);
    expect(Math.abs(Number(m![2]) - ms)).toBeLessThanOrEqual(0.051);
    // time: ISO 8601 UTC of the moment it was logged (give or take a second: this VM's wall clock
    // is stepped now and then).
    expect(close.time as string).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(Date.parse(close.time as string)).toBeGreaterThanOrEqual(wallBefore - 1000);
    expect(Date.parse(close.time as string)).toBeLessThanOrEqual(Date.now() + 1000);
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
      const { startServer, DEFAULT_LISTENER } = await import("../src/server/index.ts");
      const h = startServer({ listeners: [{ ...DEFAULT_LISTENER, port: 0 }], maxMemory: null, shutdownTimeout: 5, workerId: null, logger: log });
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

  test("a logger below its level writes nothing and reads no field", () => {
    const lines: string[] = [];
    const log = createLogger({ level: "warn", format: "json", write: (l) => lines.push(l) });
    let reads = 0;
    const fields = {
      get n() {
        reads++;
        return 1;
      },
    };
    log.info("open", "x", fields);
    log.debug("recv", "y", fields);
    expect(reads).toBe(0);
    log.warn("limit", "z", fields);
    expect(reads).toBe(1);
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

  test("a connection's lines are not even built below their level: no info or debug call is made", async () => {
    // Every call to info() or debug() builds its text (a template string) and fields before the
    // logger can drop them; the server must test infoOn/debugOn first. Counted over one
    // connection that logs at every level: open, chunks, records, a pause, an idle timeout, a
    // reset after our FIN, the close.
    const seen = { warn: await connectionLog("warn"), info: await connectionLog("info"), debug: await connectionLog("debug") };
    expect(seen.warn).toEqual({ calls: { info: 0, debug: 0 }, events: [] });
    expect(seen.info.calls.debug).toBe(0);
    expect(seen.info.calls.info).toBe(seen.info.events.length);
    expect(new Set(seen.info.events)).toEqual(new Set(["open", "record", "timeout", "hard-close", "close"]));
    // The control: the same connection does reach every debug line.
    for (const e of ["recv", "send", "pause", "resume", "fin-sent", "options"]) expect(seen.debug.events).toContain(e);
    expect(seen.debug.calls.debug).toBeGreaterThan(0);
  });

  test("pretty format: one line per event with time, level and text", () => {
    const lines: string[] = [];
    const log = createLogger({ level: "info", format: "pretty", write: (l) => lines.push(l), color: false });
    log.info("open", "[#1 127.0.0.1:5] open");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z INFO  \[#1 127\.0\.0\.1:5\] open\n$/);
  });
});

class CountingLogger extends Logger {
  readonly calls = { info: 0, debug: 0 };
  override info(event: string, text: string, fields?: LogFields): void {
    this.calls.info++;
    super.info(event, text, fields);
  }
  override debug(event: string, text: string, fields?: LogFields): void {
    this.calls.debug++;
    super.debug(event, text, fields);
  }
  // The per-connection lines go through emit(), which trusts its caller to have tested the level:
  // a call at a level that is off is exactly the waste this test is about.
  override emit(level: Exclude<LogLevel, "silent">, event: string, text: string, fields: LogFields): void {
    if (level === "info" || level === "debug") this.calls[level]++;
    super.emit(level, event, text, fields);
  }
  // The open and close lines are written as bytes (conn-lines.ts): the same trust, the same count.
  override startLine(level: Exclude<LogLevel, "silent">, event: string, maxBytes: number): LineBytes | null {
    if (level === "info" || level === "debug") this.calls[level]++;
    return super.startLine(level, event, maxBytes);
  }
}

/** One connection through every logged step, on virtual time; the calls and events it caused. */
async function connectionLog(level: LogLevel) {
  const events: string[] = [];
  // Records past 200 a second are summed up in a "suppressed" line by a once-a-second timer, not
  // by the connection: left out.
  const write = (l: string) => {
    const { event } = JSON.parse(l) as { event: string };
    if (event !== "suppressed") events.push(event);
  };
  const logger = new CountingLogger({ level, format: "json", write });
  const clock = new VirtualClock();
  const h = startServer({
    listeners: [{ ...DEFAULT_LISTENER, name: "main", port: 0, timeout: 1, maxBuffer: 64 * 1024, sendBuf: 32 * 1024, record: { codec: compileStruct("!I"), mode: "interleaved" } }],
    maxMemory: null,
    shutdownTimeout: 1,
    workerId: null,
    seed: null,
    clock,
    logger,
  });
  try {
    // The start-up report is once per process; what counts is what a connection costs.
    logger.calls.info = logger.calls.debug = 0;
    events.length = 0;
    const c = await connect(h.address.port);
    // Lines of 1000 B, each followed by a record: ~1 MB in; our reading paused meanwhile, so the
    // server's buffer fills and its reading pauses too.
    const unit = new Uint8Array([...new TextEncoder().encode("z".repeat(999) + "\n"), 0, 0, 0, 7]);
    const data = new Uint8Array(unit.length * 1000);
    for (let i = 0; i < 1000; i++) data.set(unit, i * unit.length);
    c.socket.pause();
    const writing = c.writeAll(data);
    await until(() => h.stats().pauses > 0, "the server paused its reading");
    c.socket.resume();
    await writing;
    await c.waitBytes(1000 * 1000);
    // Idle past the timeout: our FIN; the peer ignores it for one more timeout: a reset.
    clock.advance(1000 + 20);
    await c.ended;
    clock.advance(1000 + 20);
    await c.closed;
    await until(() => h.stats().open === 0, "the connection is closed");
    return { calls: { ...logger.calls }, events: [...events] };
  } finally {
    await h.stop();
  }
}

describe("bytesRepr matches Python's repr(bytes)", () => {
  test("against python3 for every byte value and the quote rules", async () => {
    const samples = [new Uint8Array(Array.from({ length: 256 }, (_, i) => i)), new TextEncoder().encode("it's"), new TextEncoder().encode(`"'`), new TextEncoder().encode(`say "hi"`), new Uint8Array(0)];
    const hex = samples.map((b) => Buffer.from(b).toString("hex"));
    const out = await python(`import sys\nfor h in sys.argv[1:]: print(repr(bytes.fromhex(h)))`, hex);
    expect(samples.map((b) => bytesRepr(b))).toEqual(out.trimEnd().split("\n"));
  });
});
