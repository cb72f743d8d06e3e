// Latency percentile curves: x is the percentile q on a log scale of the tail (1 - q), so that p90,
// p99, p99.9 and p99.99 are one step apart each (p50 sits 0.3 of a step to the right of p0); y is the
// latency on a log scale. One line per series.
import { linear, log10, logTicks, tickLabel } from "./scale.ts";
import { DASHES, esc, frame, GRID, INK, MUTED, PALETTE, px, tag, text, textWidth } from "./svg.ts";

/** [percentile (0..100), value]. */
export type CurvePoint = readonly [percentile: number, value: number];

export interface PercentileSeries {
  /** A stable id (data-series in the SVG). */
  readonly id: string;
  readonly label: string;
  /** Ascending percentiles; p0 is the minimum. */
  readonly points: readonly CurvePoint[];
  /**
   * The samples behind the curve: a percentile whose tail (1 - q) is under 1/count says nothing
   * more than the max, so such points are left out and the max is drawn at the tail 1/count.
   */
  readonly count: number;
  readonly max?: number | null;
  readonly color?: string;
}

export interface PercentileChartInput {
  readonly title: string;
  readonly subtitle?: string;
  /** e.g. "round-trip latency (µs, log scale)". */
  readonly yLabel: string;
  readonly series: readonly PercentileSeries[];
  /** Draw a dot at every point (for curves of a few points). */
  readonly markers?: boolean;
}

const WIDTH = 820;
/** Of the plot and its axes; the legend below adds its rows. */
const PLOT_HEIGHT = 440;
const LEFT = 78;
const RIGHT = 28;
const TOP = 64;
const BOTTOM = 62;

/** The position of percentile q on the x axis: decades of the tail. */
export const tailDecades = (q: number): number => -Math.log10(1 - q / 100);

/** What a series draws: the points its sample count resolves, then the max. */
export function resolvedPoints(s: PercentileSeries): { t: number; v: number; max: boolean }[] {
  const limit = s.count > 1 ? Math.log10(s.count) : 0;
  const out = s.points
    .filter(([q, v]) => q < 100 && v > 0 && tailDecades(q) <= limit + 1e-9)
    .map(([q, v]) => ({ t: tailDecades(q), v, max: false }));
  if (s.max != null && s.max > 0 && s.count > 1) out.push({ t: limit, v: s.max, max: true });
  return out;
}

/** "p50", "p99.9"; the left end of the axis is the minimum. */
function percentileName(decades: number): string {
  if (decades === 0) return "min";
  const q = 100 * (1 - 10 ** -decades);
  return `p${Number(q.toFixed(Math.max(0, Math.ceil(decades) - 2)))}`;
}

export function percentileChart(input: PercentileChartInput): string {
  const drawn = input.series.map((s) => ({ s, pts: resolvedPoints(s) })).filter((d) => d.pts.length > 0);
  const plotW = WIDTH - LEFT - RIGHT;
  const bottom = PLOT_HEIGHT - BOTTOM;
  const all = drawn.flatMap((d) => d.pts);
  const tMax = Math.min(6, Math.max(2, Math.ceil(Math.max(0, ...all.map((p) => p.t)) - 1e-9)));
  const values = all.map((p) => p.v);
  const { lo, hi, ticks } = logTicks(values.length ? Math.min(...values) : 1, values.length ? Math.max(...values) : 10);
  const x = linear(0, tMax, LEFT, LEFT + plotW);
  const y = log10(lo, hi, bottom, TOP);

  const xTicks = [0, Math.log10(2), ...Array.from({ length: tMax }, (_, i) => i + 1)];
  const grid = [
    ...xTicks.map((t) => tag("line", { x1: px(x(t)), x2: px(x(t)), y1: TOP, y2: bottom, stroke: GRID })),
    ...ticks.map((t) => tag("line", { x1: LEFT, x2: LEFT + plotW, y1: px(y(t.value)), y2: px(y(t.value)), stroke: GRID, "stroke-dasharray": t.label ? null : "2 3" })),
  ];
  const xAxis = tag(
    "g",
    { class: "axis x" },
    tag("line", { x1: LEFT, x2: LEFT + plotW, y1: bottom, y2: bottom, stroke: INK }),
    ...xTicks.map((t) =>
      tag(
        "g",
        {},
        tag("line", { x1: px(x(t)), x2: px(x(t)), y1: bottom, y2: bottom + 5, stroke: INK }),
        text({ class: "tick-label", "data-decades": Number(t.toFixed(4)), x: px(x(t)), y: bottom + 18, "font-size": 11, "text-anchor": "middle", fill: INK }, percentileName(t)),
      ),
    ),
    text(
      { class: "axis-title", x: px(LEFT + plotW / 2), y: bottom + 38, "font-size": 12, "text-anchor": "middle", fill: INK },
      "percentile (log scale of 1 − percentile: each step right is 10× rarer)",
    ),
  );
  const yAxis = tag(
    "g",
    { class: "axis y" },
    tag("line", { x1: LEFT, x2: LEFT, y1: TOP, y2: bottom, stroke: INK }),
    ...ticks.map((t) =>
      tag(
        "g",
        {},
        tag("line", { x1: LEFT - (t.label ? 5 : 3), x2: LEFT, y1: px(y(t.value)), y2: px(y(t.value)), stroke: INK }),
        t.label ? text({ class: "tick-label", "data-value": t.value, x: LEFT - 8, y: px(y(t.value) + 4), "font-size": 11, "text-anchor": "end", fill: INK }, tickLabel(t.value)) : "",
      ),
    ),
    text(
      { class: "axis-title", transform: `translate(18 ${px(TOP + (bottom - TOP) / 2)}) rotate(-90)`, "font-size": 12, "text-anchor": "middle", fill: INK },
      input.yLabel,
    ),
  );
  const lines = drawn.map(({ s, pts }) => {
    const i = input.series.indexOf(s);
    const color = s.color ?? PALETTE[i % PALETTE.length]!;
    const d = pts.map((p, k) => `${k === 0 ? "M" : "L"}${px(x(p.t))},${px(y(p.v))}`).join(" ");
    const dots = pts.map((p) =>
      p.max
        ? tag("circle", { class: "max", cx: px(x(p.t)), cy: px(y(p.v)), r: 4, fill: "#ffffff", stroke: color, "stroke-width": 2 })
        : input.markers
          ? tag("circle", { class: "point", cx: px(x(p.t)), cy: px(y(p.v)), r: 2.5, fill: color })
          : "",
    );
    return tag(
      "g",
      { class: "series", "data-series": s.id },
      tag("title", {}, esc(s.label)),
      tag("path", { class: "curve", d, fill: "none", stroke: color, "stroke-width": 2, "stroke-dasharray": DASHES[i % DASHES.length], "stroke-linejoin": "round" }),
      ...dots,
    );
  });
  const legend = legendBox(drawn.map(({ s }) => s), input.series, PLOT_HEIGHT);
  const empty = drawn.length === 0 ? [text({ x: px(LEFT + plotW / 2), y: px((TOP + bottom) / 2), "font-size": 13, "text-anchor": "middle", fill: MUTED }, "no latency samples")] : [];
  return frame(WIDTH, PLOT_HEIGHT + legend.height, [input.title, ...(input.subtitle ? [input.subtitle] : [])], [...grid, ...lines, xAxis, yAxis, legend.svg, ...empty]);
}

const LEGEND_ROW = 18;

/**
 * Below the plot, where it hides no curve: a line sample (colour and dash) and the name of each
 * series, in as many columns as the longest name allows.
 */
function legendBox(shown: readonly PercentileSeries[], all: readonly PercentileSeries[], top: number): { svg: string; height: number } {
  if (shown.length === 0) return { svg: "", height: 8 };
  const colW = 44 + Math.max(...shown.map((s) => textWidth(s.label, 12)));
  const cols = Math.max(1, Math.min(shown.length, Math.floor((WIDTH - 2 * LEFT + 40) / colW)));
  const rows = Math.ceil(shown.length / cols);
  const x0 = LEFT - 20;
  const entries = shown.map((s, k) => {
    const i = all.indexOf(s);
    const color = s.color ?? PALETTE[i % PALETTE.length]!;
    const x = x0 + (k % cols) * colW;
    const cy = top + Math.floor(k / cols) * LEGEND_ROW + LEGEND_ROW / 2;
    return tag(
      "g",
      { class: "legend-entry", "data-series": s.id },
      tag("line", { x1: x, x2: x + 28, y1: cy, y2: cy, stroke: color, "stroke-width": 2, "stroke-dasharray": DASHES[i % DASHES.length] }),
      text({ x: x + 34, y: cy + 4, "font-size": 12, fill: INK }, s.label),
    );
  });
  const noteY = top + rows * LEGEND_ROW + 12;
  const maxNote = shown.some((s) => s.max != null)
    ? [text({ x: x0, y: noteY, "font-size": 11, fill: MUTED }, "○ the maximum, drawn where the tail 1 − q is one sample (1 / samples); the curve stops there.")]
    : [];
  return { svg: tag("g", { class: "legend" }, ...entries, ...maxNote), height: rows * LEGEND_ROW + (maxNote.length ? 24 : 8) };
}
