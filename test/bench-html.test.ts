// `tcp-echo bench --html FILE` as a process against our server: a self-contained page whose figures
// are the JSON report's of the same run, with the latency curve drawn from that run; bad paths
// refused before the run.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import type { LoadgenJson } from "../src/bench/index.ts";
import { expectClean, parseJsonReport } from "./helpers/bench-report.ts";
import { runCli } from "./helpers/process.ts";
import { serve } from "./helpers/server.ts";
import { axis, byClass, one, parseXmlFiles, pathPoints, type Node } from "./helpers/svg.ts";

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(`${tmpdir()}/bench-html-`);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The figures the page shows, by JSON key ("msgs_per_s", "latency_us.p99"), as numbers. */
function shownFigures(html: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of html.matchAll(/<td class="num" data-key="([^"]+)">([^<]*)<\/td>/g)) out[m[1]!] = Number(m[2]!.replace(/,/g, ""));
  return out;
}

/** The JSON's figures under the same keys. */
function jsonFigures(j: LoadgenJson): Record<string, number | null> {
  const flat: Record<string, number | null> = {};
  for (const [k, v] of Object.entries(j)) {
    if (typeof v === "number" || v === null) flat[k] = v;
  }
  if (j.latency_us) for (const [k, v] of Object.entries(j.latency_us)) flat[`latency_us.${k}`] = v;
  return flat;
}

/** The inline SVG of the page, parsed by python3's xml.etree. */
async function pageSvg(html: string): Promise<Node[]> {
  const svgs = [...html.matchAll(/<svg[\s\S]*?<\/svg>/g)].map((m) => m[0]);
  const files = svgs.map((s, i) => {
    const f = `${dir}/extracted-${Bun.nanoseconds()}-${i}.svg`;
    writeFileSync(f, s);
    return f;
  });
  return parseXmlFiles(files);
}

function expectSelfContained(html: string): void {
  expect(html.startsWith("<!doctype html>")).toBe(true);
  expect(html).not.toMatch(/\b(src|href)\s*=\s*["']?\s*(https?:)?\/\//i);
  expect(html).not.toMatch(/<script|<link|<iframe|<img|@import|url\(/i);
}

describe("pingpong: the page and the JSON of the same run", () => {
  let html: string;
  let json: LoadgenJson;
  beforeAll(async () => {
    await using server = serve({}, "warn");
    const file = `${dir}/pingpong.html`;
    const r = await runCli(["bench", "--port", String(server.port), "--mode", "pingpong", "--connections", "4", "--count", "4000", "--warmup", "0.1", "--json", "--html", file], { timeoutMs: 20_000 });
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: "" });
    json = parseJsonReport(r.stdout);
    expectClean(json, "pingpong", 4);
    html = readFileSync(file, "utf8");
  });

  test("self-contained: no script, no stylesheet or image fetched, nothing from the network", () => {
    expectSelfContained(html);
    expect(html).toContain("<style>");
  });

  test("the settings of the run", () => {
    expect(html).toMatch(/<th>mode<\/th><td>pingpong<\/td>/);
    expect(html).toMatch(/<th>connections<\/th><td>4<\/td>/);
    expect(html).toMatch(/<th>count<\/th><td>4,000<\/td>/);
    expect(html).toContain("--count=4000");
  });

  test("every figure shown is the JSON's, and every figure of the JSON is shown", () => {
    const shown = shownFigures(html);
    const expected = jsonFigures(json);
    // null figures (conns_per_s, open_at_end in pingpong) are not shown.
    for (const k of Object.keys(expected)) if (expected[k] === null || k === "connections" || k === "size") delete expected[k];
    expect(shown).toEqual(expected as Record<string, number>);
    expect(shown.messages).toBe(4000);
  });

  test("the percentile table is the JSON's latency_curve_us", () => {
    const rows = [...html.matchAll(/<td class="num" data-percentile="([\d.]+)">([^<]*)<\/td>/g)].map((m) => [Number(m[1]), Number(m[2]!.replace(/,/g, ""))]);
    expect(rows).toEqual(json.latency_curve_us!);
  });

  test("the chart: well-formed SVG, one series with many points, on log axes, through this run's p99", async () => {
    const [svg, ...rest] = await pageSvg(html);
    expect(rest).toHaveLength(0);
    const series = byClass(svg!, "series");
    expect(series).toHaveLength(1);
    const pts = pathPoints(one(series[0]!, "curve").attrs.d!);
    // 4,000 samples resolve 3.6 decades of the tail: 20 points a decade.
    expect(pts.length).toBeGreaterThanOrEqual(60);
    const ys = byClass(axis(svg!, "y"), "tick-label").map((t) => [Number(t.text.replace(/,/g, "")), Number(t.attrs.y) - 4] as const);
    expect(ys.length).toBeGreaterThanOrEqual(2);
    const xs = byClass(axis(svg!, "x"), "tick-label");
    const x99 = Number(xs.find((t) => t.text === "p99")!.attrs.x);
    const p = pts.find(([x]) => Math.abs(x - x99) < 0.5)!;
    // Back from pixels to µs through two labelled ticks of the log axis.
    const [[v1, y1], [v2, y2]] = [ys[0]!, ys.at(-1)!];
    const us = 10 ** (Math.log10(v1) + ((p[1] - y1) / (y2 - y1)) * (Math.log10(v2) - Math.log10(v1)));
    expect(Math.abs(us / json.latency_us!.p99 - 1)).toBeLessThan(0.01);
  });
});

test("stream: no latency, and the page says so; the throughput figures are the JSON's", async () => {
  await using server = serve({}, "warn");
  const file = `${dir}/stream.html`;
  const r = await runCli(["bench", "--port", String(server.port), "--mode", "stream", "--connections", "2", "--duration", "0.3", "--warmup", "0", "--json", "--html", file], { timeoutMs: 15_000 });
  expect(r.code).toBe(0);
  const json = parseJsonReport(r.stdout);
  const html = readFileSync(file, "utf8");
  expectSelfContained(html);
  expect(html).toContain("stream mode measures throughput, not latency: this run has no latency distribution.");
  expect(html).not.toContain("<svg");
  const shown = shownFigures(html);
  expect(shown.mb_per_s).toBe(json.mb_per_s!);
  expect(shown.msgs_per_s).toBe(json.msgs_per_s!);
  expect(Object.keys(shown).some((k) => k.startsWith("latency_us"))).toBe(false);
});

describe("a path that cannot be written: one line naming the option, exit 2, before any run", () => {
  const cases: [string, string[], Record<string, string>, RegExp][] = [
    ["a missing directory", ["--html", "/nonexistent-dir-tcp-echo/report.html"], {}, /^tcp-echo: --html: "\/nonexistent-dir-tcp-echo\/report\.html": directory "\/nonexistent-dir-tcp-echo" does not exist/],
    ["a directory", ["--html", "/tmp"], {}, /^tcp-echo: --html: "\/tmp" is a directory, not a file/],
    ["an empty value", ["--html="], {}, /^tcp-echo: --html: needs a file path/],
    ["TCP_ECHO_HTML", [], { TCP_ECHO_HTML: "/nonexistent-dir-tcp-echo/r.html" }, /^tcp-echo: TCP_ECHO_HTML: .*does not exist/],
  ];
  for (const [name, argv, env, message] of cases) {
    test(name, async () => {
      // Port 1: nothing listens there, so a run that started anyway would fail with exit 1, not 2.
      const r = await runCli(["bench", "--port", "1", "--mode", "pingpong", "--duration", "0.2", ...argv], { env });
      expect(r.code).toBe(2);
      expect(r.stdout).toBe("");
      const lines = r.stderr.trim().split("\n");
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(message);
    });
  }

  test("TCP_ECHO_HTML names the file when the flag is absent", async () => {
    await using server = serve({}, "warn");
    const file = `${dir}/from-env.html`;
    const r = await runCli(["bench", "--port", String(server.port), "--mode", "connect", "--count", "200", "--warmup", "0"], { env: { TCP_ECHO_HTML: file }, timeoutMs: 15_000 });
    expect(r.code).toBe(0);
    expect(existsSync(file)).toBe(true);
    expect(readFileSync(file, "utf8")).toContain("Connect, exchange, close cycle latency by percentile");
  });
});
