import { describe, expect, test } from "bun:test";
import { mkdtempSync, openSync, closeSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { LogFormat } from "../src/log/logger.ts";
import { LineBytes } from "../src/log/line-bytes.ts";
import { LogSink } from "../src/log/sink.ts";
import { linesBothWays, SHAPES } from "./fixtures/conn-lines-fixture.ts";

const FIXTURE = resolve(import.meta.dir, "fixtures/conn-lines-fixture.ts");

/** The time is the one thing the two paths read separately. */
const noTime = (format: LogFormat) => (l: string) => (format === "json" ? l.replace(/^\{"time":"[^"]+"/, '{"time":"T"') : l.replace(/^(\x1b\[2m)?[\d:.TZ-]{24}/, "$1T"));

function expectSame(format: LogFormat, { bytes, strings }: { bytes: string[]; strings: string[] }): void {
  expect(bytes.map(noTime(format))).toEqual(strings.map(noTime(format)));
  expect(bytes).toHaveLength(SHAPES.length * 2);
  // Every line one line.
  for (const l of bytes) expect(l.indexOf("\n")).toBe(l.length - 1);
}

describe("open and close lines written as bytes", () => {
  for (const format of ["pretty", "json"] as const) {
    for (const worker of [undefined, 3]) {
      test(`${format}${worker ? " in a worker" : ""}: byte for byte the lines emit() writes from the text and fields, for every shape of input`, () => {
        const both = linesBothWays(format, false, worker);
        expectSame(format, both);
        if (format === "json") {
          const close = JSON.parse(both.bytes[13]!) as Record<string, unknown>;
          expect(close).toMatchObject({ event: "close", reason: "error", error: SHAPES[6]!.error, duration_ms: 0.05 });
        }
      });
    }
  }

  test("pretty in colour (FORCE_COLOR): the same, escape codes included", () => {
    for (const worker of ["", "3"]) {
      const r = Bun.spawnSync(["bun", FIXTURE], { env: { ...process.env, FORCE_COLOR: "1", WORKER: worker }, stdout: "pipe", stderr: "pipe" });
      expect(r.stderr.toString()).toBe("");
      const both = JSON.parse(r.stdout.toString()) as { bytes: string[]; strings: string[] };
      expectSame("pretty", both);
      expect(both.bytes[0]).toContain("\x1b[2m");
      expect(both.bytes[0]).toContain("\x1b[36mINFO \x1b[39m");
    }
  });
});
describe("numbers written as digits", () => {
  const written = (put: (w: LineBytes) => void) => {
    const w = new LineBytes();
    w.buf = Buffer.alloc(64);
    put(w);
    return w.buf.toString("latin1", 0, w.pos);
  };

  test("fixed1 writes what toFixed(1) writes: halves the product lands on, negatives, -0, large values and 200,000 random durations", () => {
    const tricky = [0, -0, 0.05, 0.15, 0.25, 0.35, 1.15, 1.25, 2.675, 1.45, 8.05, 0.95, 9.95, 99.95, 1e-7, -0.04, -1.25, 0.049999999999999996, 214748364.7, 214748364.75, 3e9, 1e21, 1e300];
    const random: number[] = [];
    for (let i = 0; i < 200_000; i++) random.push(i % 2 === 0 ? Math.random() * 10 ** ((i % 7) - 2) : Math.round(Math.random() * 1e5) / 1000 + (i % 4 === 0 ? 0.05 : 0));
    const wrong = [...tricky, ...random].filter((x) => written((w) => w.fixed1(x)) !== x.toFixed(1));
    expect(wrong).toEqual([]);
  });

  test("uint and number write what String() writes, up to 2^53", () => {
    const values = [0, 1, 9, 10, 99, 100, 2 ** 31 - 1, 2 ** 31, 2 ** 32 + 1, 2 ** 53 - 1, 0.5, 1234.567, 1e-7, -0];
    for (let i = 0; i < 10_000; i++) values.push(Math.floor(Math.random() * 2 ** (i % 54)));
    expect(values.filter((x) => Number.isInteger(x) && x >= 0 && written((w) => w.uint(x)) !== String(x))).toEqual([]);
    expect(values.filter((x) => written((w) => w.number(x)) !== JSON.stringify(x))).toEqual([]);
  });
});

describe("the log sink with lines written in place", () => {
  function withFile<T>(run: (fd: number, read: () => string) => Promise<T>): Promise<T> {
    const dir = mkdtempSync(join(tmpdir(), "tcp-echo-sink-"));
    const path = join(dir, "log");
    const fd = openSync(path, "w");
    return run(fd, () => readFileSync(path, "utf8")).finally(() => {
      closeSync(fd);
      rmSync(dir, { recursive: true, force: true });
    });
  }

  test("lines written in place and lines given as text leave in the order they came, past the buffer's first size", async () => {
    await withFile(async (fd, read) => {
      const sink = new LogSink(fd, (n) => `dropped ${n}\n`);
      const expected: string[] = [];
      // 3,000 lines of ~40-140 B: 270 KB, many times the buffer's 16 KiB start, in one loop turn.
      for (let i = 0; i < 3000; i++) {
        const text = `line ${i} ${"é".repeat(i % 50)}\n`;
        if (i % 2 === 0) sink.write(text);
        else {
          const w = sink.begin(text.length * 3)!;
          w.utf8(text);
          sink.commit(w);
        }
        expected.push(text);
        if (i === 1500) await Bun.sleep(20);
      }
      await Bun.sleep(30);
      expect(read()).toBe(expected.join(""));
      expect(sink.queued).toBe(0);
    });
  });

  test("a full queue drops lines written in place too, and the count is written where the gap is", async () => {
    await withFile(async (fd, read) => {
      const sink = new LogSink(fd, (n) => `${n} dropped\n`, 500);
      const line = (i: number) => `${String(i).padStart(3, "0")} ${"x".repeat(95)}\n`;
      // No loop turn between them: nothing is flushed, and five lines of 100 B fill the 500.
      for (let i = 0; i < 10; i++) {
        const w = sink.begin(100);
        if (w === null) continue;
        w.ascii(line(i));
        sink.commit(w);
      }
      expect(sink.droppedTotal).toBe(5);
      await Bun.sleep(30);
      sink.write(line(10));
      await Bun.sleep(30);
      expect(read()).toBe([0, 1, 2, 3, 4].map(line).join("") + "5 dropped\n" + line(10));
      expect(sink.droppedTotal).toBe(5);
    });
  });
});
