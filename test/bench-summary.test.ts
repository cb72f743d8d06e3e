// `bun run bench --summary`, the lines CI prints: drawn from the hand-written run of
// test/fixtures/bench-results.ts, whose ratios are worked out by hand there.
import { describe, expect, test } from "bun:test";
import { renderSummary } from "../bench/lib/summary.ts";
import { fixtureResults } from "./fixtures/bench-results.ts";

const cells = (line: string) => line.trim().split(/\s{2,}/);

describe("the benchmark summary for CI", () => {
  test("one line per scenario: the C baseline's figure and tcp-echo's ratio to it and to bare Bun", () => {
    const text = renderSummary(fixtureResults(), "bench/build/quick.md");
    const lines = text.trimEnd().split("\n");
    expect(lines[0]).toBe("bench: 3 round(s) of 1 s warm-up + 3 s, 36 runs in 100 s; full report bench/build/quick.md");
    const at = lines.findIndex((l) => l.startsWith("scenario"));
    expect(cells(lines[at]!)).toEqual(["scenario", "main figure", "C baseline", "tcp-echo ÷ C", "tcp-echo ÷ bare Bun"]);
    // tcp-echo ÷ bare Bun per round: pp1 p50 45/55, 50/60, 48/44; pp100 110/90, 160/180, 70/95;
    // idle 1.4/1.2, 1.32/1.2, 1.36/1.32: medians 0.83, 0.89, 1.10.
    expect(lines.slice(at + 1, at + 4).map(cells)).toEqual([
      ["pp1", "p50 µs", "50.0", "1.00×", "0.83×"],
      ["pp100", "msg/s", "100,000", "0.80×", "0.89×"],
      ["idle", "KiB/conn", "4.00", "0.34×", "1.10×"],
    ]);
    expect(lines.at(-1)).toBe("Every run completed with zero errors and zero mismatches.");
    // Short enough to read in a CI log, where the whole report is hundreds of lines.
    expect(lines.length).toBeLessThanOrEqual(10);
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(120);
  });

  test("failures are listed, one per line", () => {
    const res = { ...fixtureResults(), failures: ["round 1, main, pp1, node, loadgen: server exited 1 before listening", "round 2, main, pp1, node, loadgen: server exited 1 before listening"] };
    const lines = renderSummary(res, "x.md").trimEnd().split("\n");
    expect(lines.slice(-3)).toEqual(["2 failure(s):", `  ${res.failures[0]}`, `  ${res.failures[1]}`]);
  });
});
