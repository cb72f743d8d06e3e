// The benchmark's SVG charts, drawn from a hand-written run (test/fixtures/bench-results.ts) and read
// back with python3's xml.etree: content (axes, ticks, one bar and one curve per server, the ratios as
// labels, positions on the scales), not pixels.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { writeCharts } from "../bench/lib/chart-files.ts";
import { renderCharts, runCurve, type Chart } from "../bench/lib/charts.ts";
import { renderMarkdown } from "../bench/lib/report.ts";
import { scenarios as allScenarios } from "../bench/lib/scenarios.ts";
import { SERVERS } from "../bench/lib/servers.ts";
import { logTicks, linearTicks } from "../src/charts/scale.ts";
import { EXPECTED, fixtureResults, SERVER_IDS } from "./fixtures/bench-results.ts";
import { all, axis, byClass, num, one, parseXmlFiles, pathPoints, type Node } from "./helpers/svg.ts";

const res = fixtureResults();
const label = (id: string) => SERVERS.find((s) => s.id === id)!.label;
let dir: string;
let charts: Chart[];
const svgs = new Map<string, Node>();

beforeAll(async () => {
  dir = mkdtempSync(`${tmpdir()}/charts-`);
  charts = renderCharts(res, "fx");
  writeCharts(dir, "fx", charts);
  const files = charts.map((c) => c.file);
  const trees = await parseXmlFiles(files.map((f) => `${dir}/${f}`));
  files.forEach((f, i) => svgs.set(f, trees[i]!));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const svg = (file: string) => {
  const s = svgs.get(file);
  if (!s) throw new Error(`no chart ${file} (have ${[...svgs.keys()].join(", ")})`);
  return s;
};
const texts = (n: Node, cls: string) => byClass(n, cls).map((t) => t.text);
const titleText = (s: Node) => [...byClass(s, "title"), ...byClass(s, "subtitle")].map((t) => t.text).join(" | ");

/** A tick's position on its axis (x for the x axis, y for the y axis), by its label. */
function tickAt(s: Node, which: "x" | "y", text: string): number {
  const t = byClass(axis(s, which), "tick-label").find((n) => n.text === text);
  if (!t) throw new Error(`no ${which} tick "${text}" in ${texts(axis(s, which), "tick-label").join(", ")}`);
  return num(t, which === "x" ? "x" : "y") - (which === "y" ? 4 : 0); // y labels sit 4 px below their tick
}

describe("the files", () => {
  test("a ratio chart for every scenario and a latency chart for each pingpong scenario only, each well-formed XML with an <svg> root", () => {
    expect(charts.map((c) => c.file).sort()).toEqual(["fx-latency-pp1.svg", "fx-latency-pp100.svg", "fx-ratio-idle.svg", "fx-ratio-pp1.svg", "fx-ratio-pp100.svg"]);
    for (const [, s] of svgs) {
      expect(s.tag).toBe("svg");
      expect(Number(s.attrs.width)).toBeGreaterThan(300);
      expect(s.attrs.viewBox).toBe(`0 0 ${s.attrs.width} ${s.attrs.height}`);
    }
  });

  test("writeCharts replaces the same prefix's older charts and leaves other files alone", () => {
    const d = mkdtempSync(`${tmpdir()}/charts-files-`);
    try {
      for (const f of ["fx-ratio-gone.svg", "fx-latency-gone.svg", "other-ratio-pp1.svg", "fx.md"]) writeFileSync(`${d}/${f}`, "old");
      writeCharts(d, "fx", charts);
      expect(readdirSync(d).sort()).toEqual([...charts.map((c) => c.file), "fx.md", "other-ratio-pp1.svg"].sort());
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });
});

describe("ratio to the C baseline", () => {
  test("title names the scenario and the metric, and which way is better", () => {
    expect(titleText(svg("fx-ratio-pp100.svg"))).toMatch(/^pp100: pingpong, 100 connections.*msg\/s ÷ C baseline.*higher is better$/);
    expect(titleText(svg("fx-ratio-pp1.svg"))).toMatch(/^pp1: .*p50 µs ÷ C baseline.*lower is better$/);
    expect(titleText(svg("fx-ratio-idle.svg"))).toMatch(/^idle: .*KiB\/conn ÷ C baseline.*lower is better$/);
  });

  test("the y axis names every server, in order; the x axis has ratio ticks from 0× and a title", () => {
    for (const f of ["fx-ratio-pp1.svg", "fx-ratio-pp100.svg", "fx-ratio-idle.svg"]) {
      const s = svg(f);
      expect(texts(axis(s, "y"), "tick-label")).toEqual(SERVER_IDS.map(label));
      const xs = texts(axis(s, "x"), "tick-label");
      expect(xs[0]).toBe("0×");
      expect(xs).toContain("1×");
      expect(texts(axis(s, "x"), "axis-title")).toEqual([expect.stringContaining("ratio to the C baseline")]);
    }
  });

  test("every server has its group; a bar for each with a valid round; the failed server says so", () => {
    const s = svg("fx-ratio-pp100.svg");
    expect(byClass(s, "bar-group").map((g) => g.attrs["data-server"])).toEqual([...SERVER_IDS]);
    expect(byClass(s, "bar").map((b) => b.attrs["data-server"])).toEqual(["c", "bun", "tcp-echo"]);
    const node = byClass(s, "bar-group").find((g) => g.attrs["data-server"] === "node")!;
    expect(node.text).toBe("no valid round");
  });

  test("the median ratios appear as labels, worked out by hand from the figures", () => {
    const values = (f: string) => Object.fromEntries(byClass(svg(f), "value").map((v) => [v.attrs["data-server"], v.text]));
    expect(values("fx-ratio-pp100.svg")).toEqual({ c: "1× = 100,000 msg/s", bun: "0.90×", node: "no valid round", "tcp-echo": "0.80×" });
    expect(values("fx-ratio-pp1.svg")).toEqual({ c: "1× = p50 50.0 µs", bun: "1.10×", node: "no valid round", "tcp-echo": "1.00×" });
    expect(values("fx-ratio-idle.svg")).toEqual({ c: "1× = 4.00 KiB/conn", bun: "0.30×", node: "no valid round", "tcp-echo": "0.34×" });
  });

  test("bars end at their ratio, dots sit at each round, the whisker spans min..max, the reference line is at 1×", () => {
    const s = svg("fx-ratio-pp100.svg");
    const x0 = tickAt(s, "x", "0×");
    const x1 = tickAt(s, "x", "1×");
    const at = (r: number) => x0 + r * (x1 - x0);
    for (const id of ["bun", "tcp-echo"] as const) {
      const g = byClass(s, "bar-group").find((n) => n.attrs["data-server"] === id)!;
      const bar = one(g, "bar");
      expect(num(bar, "x")).toBeCloseTo(x0, 0);
      expect(num(bar, "x") + num(bar, "width")).toBeCloseTo(at(EXPECTED.pp100[id]), 0);
      const dots = byClass(g, "round").map((d) => num(d, "cx"));
      expect(dots).toHaveLength(3);
      EXPECTED.pp100.rounds[id].forEach((r, i) => expect(dots[i]!).toBeCloseTo(at(r), 0));
      const w = one(g, "whisker");
      const rounds = EXPECTED.pp100.rounds[id];
      expect([num(w, "x1"), num(w, "x2")].map((v) => Math.round(v))).toEqual([Math.round(at(Math.min(...rounds))), Math.round(at(Math.max(...rounds)))]);
    }
    const ref = one(s, "reference-line");
    expect(num(ref, "x1")).toBeCloseTo(x1, 1);
    expect(num(ref, "x2")).toBeCloseTo(x1, 1);
  });
});

describe("latency percentiles", () => {
  const s = () => svg("fx-latency-pp1.svg");

  test("exactly one series per server with latency, each titled with the server's name, and the same names in the legend", () => {
    const series = byClass(s(), "series");
    // Node's runs all failed: no curve for it.
    expect(series.map((g) => g.attrs["data-series"])).toEqual(["c", "bun", "tcp-echo"]);
    for (const g of series) {
      expect(all(g, (n) => n.tag === "title").map((t) => t.text)).toEqual([label(g.attrs["data-series"]!)]);
      expect(byClass(g, "curve")).toHaveLength(1);
    }
    expect(byClass(s(), "legend-entry").map((e) => e.text)).toEqual(["c", "bun", "tcp-echo"].map(label));
  });

  test("the y axis is log-scaled: 10, 100, 1,000 µs evenly spaced, 20 at log10(2) of a decade", () => {
    const y = axis(s(), "y");
    expect(texts(y, "tick-label")).toEqual(expect.arrayContaining(["10", "100", "1,000"]));
    expect(texts(y, "axis-title")).toEqual(["round-trip latency (µs, log scale)"]);
    const [y10, y100, y1000, y20] = ["10", "100", "1,000", "20"].map((t) => tickAt(s(), "y", t));
    expect(y10! - y100!).toBeGreaterThan(40);
    expect(y100! - y1000!).toBeCloseTo(y10! - y100!, 0);
    expect(y10! - y20!).toBeCloseTo(Math.log10(2) * (y10! - y100!), 0);
  });

  test("the x axis: p90, p99, p99.9, p99.99 one step apart, p50 at log10(2) of a step from the min", () => {
    const labels = texts(axis(s(), "x"), "tick-label");
    expect(labels.slice(0, 6)).toEqual(["min", "p50", "p90", "p99", "p99.9", "p99.99"]);
    const [x0, x50, x90, x99, x999, x9999] = labels.slice(0, 6).map((t) => tickAt(s(), "x", t));
    const step = x90! - x0!;
    expect(step).toBeGreaterThan(40);
    for (const [a, b] of [[x90, x99], [x99, x999], [x999, x9999]]) expect(b! - a!).toBeCloseTo(step, 0);
    expect(x50! - x0!).toBeCloseTo(Math.log10(2) * step, 0);
  });

  test("a curve is the per-percentile median of the rounds, placed on both log scales (tcp-echo p99: 250 µs)", () => {
    const g = byClass(s(), "series").find((n) => n.attrs["data-series"] === "tcp-echo")!;
    const pts = pathPoints(one(g, "curve").attrs.d!);
    const x99 = tickAt(s(), "x", "p99");
    const p = pts.find(([x]) => Math.abs(x - x99) < 0.5);
    expect(p).toBeDefined();
    const [y100, y1000] = [tickAt(s(), "y", "100"), tickAt(s(), "y", "1,000")];
    const us = 10 ** (2 + (y100 - p![1]) / (y100 - y1000));
    expect(us).toBeCloseTo(EXPECTED.pp1TcpEchoP99, -1); // within ±5 µs: 0.1 px of rounding is far less
  });

  test("the curve stops where the samples stop resolving (20,000 samples: p99.995) and the max sits there", () => {
    const g = byClass(s(), "series").find((n) => n.attrs["data-series"] === "c")!;
    const pts = pathPoints(one(g, "curve").attrs.d!);
    const [x0, x90] = [tickAt(s(), "x", "min"), tickAt(s(), "x", "p90")];
    const end = x0 + Math.log10(EXPECTED.pp1Messages) * (x90 - x0);
    expect(pts.at(-1)![0]).toBeCloseTo(end, 0);
    expect(num(one(g, "max"), "cx")).toBeCloseTo(end, 0);
    // The min and the 13 grid points from p50 to p99.995, then the max: p99.998 and p99.999 are beyond 1/20,000.
    expect(pts).toHaveLength(15);
  });

  test("a run from before latency_curve_us still draws: its p50, p90, p99 and p99.9", () => {
    const old = res.runs.find((r) => r.scenario === "pp100" && r.server === "bun" && r.round === 3)!;
    expect("latency_curve_us" in old.report!).toBe(false);
    const l = old.report!.latency_us!;
    expect(runCurve(old)).toEqual([[50, l.p50], [90, l.p90], [99, l.p99], [99.9, l.p999]]);
    expect(byClass(svg("fx-latency-pp100.svg"), "series").map((g) => g.attrs["data-series"])).toEqual(["c", "bun", "tcp-echo"]);
  });
});

test("a quick run's charts say themselves that their figures mean little; a full run's do not", () => {
  const quick = renderCharts({ ...res, settings: { ...res.settings, quick: true } }, "q");
  for (const c of quick) expect(c.svg).toContain("Quick mode: proves the benchmark runs; the figures mean little.");
  for (const c of charts) expect(c.svg).not.toContain("Quick mode");
});

test("the markdown report shows each scenario's charts under its section", () => {
  const scs = allScenarios(1000).filter((x) => ["pp1", "pp100", "idle"].includes(x.id));
  const md = renderMarkdown(res, SERVERS.filter((x) => (SERVER_IDS as readonly string[]).includes(x.id)), scs, charts);
  const section = (title: string) => md.split(/^## /m).find((p) => p.startsWith(title))!;
  expect(section("pingpong, 1 connection")).toContain("![pp1: p50 µs ÷ C baseline, per server](fx-ratio-pp1.svg)\n\n![pp1: round-trip latency percentiles, per server](fx-latency-pp1.svg)");
  expect(section("idle, 1,000 connections")).toContain("(fx-ratio-idle.svg)");
  expect(section("idle, 1,000 connections")).not.toContain("latency-");
  expect(renderMarkdown(res, SERVERS, scs)).not.toContain(".svg");
});

describe("scales", () => {
  test.each([
    [54, 307, 50, 500, ["50", "100", "200", "500"]],
    [15, 2300, 10, 5000, ["10", "20", "50", "100", "200", "500", "1,000", "2,000", "5,000"]],
    [3, 60_000, 2, 100_000, ["10", "100", "1,000", "10,000", "100,000"]],
    [100, 100, 100, 200, ["100", "200"]],
  ])("log axis for %p..%p: %p..%p, labels %p", (min, max, lo, hi, labels) => {
    const t = logTicks(min, max);
    expect([t.lo, t.hi]).toEqual([lo, hi]);
    expect(t.ticks.filter((x) => x.label).map((x) => x.value.toLocaleString("en-US"))).toEqual(labels);
  });

  test.each([
    [1.05, [0, 0.2, 0.4, 0.6, 0.8, 1, 1.2]],
    [1.68, [0, 0.5, 1, 1.5, 2]],
    [3.2, [0, 1, 2, 3, 4]],
  ])("linear ticks up to %p: %p", (max, ticks) => {
    expect(linearTicks(max)).toEqual(ticks);
  });
});

test("nothing left in the temp dir but the charts", () => {
  expect(existsSync(dir)).toBe(true);
  expect(readdirSync(dir).sort()).toEqual(charts.map((c) => c.file).sort());
});
