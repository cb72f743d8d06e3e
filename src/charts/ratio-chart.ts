// One scenario's ratios to a reference server: a horizontal bar per server (the median ratio), a dot
// per round and a min..max whisker over them, and a line at 1.
import { linear, linearTicks } from "./scale.ts";
import { frame, GRID, INK, MUTED, PALETTE, px, tag, text, textWidth } from "./svg.ts";

export interface RatioBar {
  /** A stable id (data-server in the SVG). */
  readonly id: string;
  readonly label: string;
  /** The median of the per-round ratios; null when no round gave one. */
  readonly ratio: number | null;
  /** Each round's ratio. */
  readonly rounds: readonly number[];
  /** The reference itself: drawn at 1 with `note` (its own figure) beside it. */
  readonly reference?: boolean;
  readonly note?: string;
  readonly color?: string;
}

export interface RatioChartInput {
  /** First line, e.g. "pp1: pingpong, 1 connection, 64 B (latency)". */
  readonly title: string;
  /** The figure the ratio is taken on, e.g. "p50 µs". */
  readonly metric: string;
  readonly higherIsBetter: boolean;
  /** What 1 means, e.g. "C baseline". */
  readonly referenceLabel: string;
  readonly bars: readonly RatioBar[];
  /** Said under the chart after how to read it, e.g. that the run was a quick one. */
  readonly note?: string;
}

const WIDTH = 820;
const ROW = 30;
const BAR = 16;
const TOP = 70;
const RIGHT = 70;

const times = (r: number) => `${r.toFixed(2)}×`;

export function ratioChart(input: RatioChartInput): string {
  const { bars } = input;
  const left = Math.min(320, Math.max(130, 16 + Math.max(...bars.map((b) => textWidth(b.label, 12)))));
  const plotW = WIDTH - left - RIGHT;
  const plotH = Math.max(1, bars.length) * ROW;
  const bottom = TOP + plotH;
  const height = bottom + 66;
  const values = bars.flatMap((b) => [...b.rounds, b.ratio ?? 0]);
  const ticks = linearTicks(Math.max(1, ...values) * 1.05);
  const xMax = ticks.at(-1)!;
  const x = linear(0, xMax, left, left + plotW);
  const rounds = Math.max(0, ...bars.map((b) => b.rounds.length));

  const grid = ticks.map((t) =>
    tag("line", { x1: px(x(t)), x2: px(x(t)), y1: TOP, y2: bottom, stroke: GRID, "stroke-width": 1 }),
  );
  const xAxis = tag(
    "g",
    { class: "axis x" },
    tag("line", { x1: left, x2: left + plotW, y1: bottom, y2: bottom, stroke: INK }),
    ...ticks.map((t) =>
      tag(
        "g",
        {},
        tag("line", { x1: px(x(t)), x2: px(x(t)), y1: bottom, y2: bottom + 5, stroke: INK }),
        text({ class: "tick-label", x: px(x(t)), y: bottom + 18, "font-size": 11, "text-anchor": "middle", fill: INK }, `${t}×`),
      ),
    ),
    text(
      { class: "axis-title", x: px(left + plotW / 2), y: bottom + 36, "font-size": 12, "text-anchor": "middle", fill: INK },
      `ratio to the ${input.referenceLabel} (${input.metric})`,
    ),
  );
  const yAxis = tag(
    "g",
    { class: "axis y" },
    tag("line", { x1: left, x2: left, y1: TOP, y2: bottom, stroke: INK }),
    text({ class: "axis-title", x: left - 8, y: TOP - 8, "font-size": 11, "text-anchor": "end", fill: MUTED }, "server"),
    ...bars.map((b, i) =>
      text(
        { class: "tick-label", "data-server": b.id, x: left - 8, y: px(TOP + i * ROW + ROW / 2 + 4), "font-size": 12, "text-anchor": "end", fill: INK },
        b.label,
      ),
    ),
  );
  const groups = bars.map((b, i) => barGroup(b, i, x, left));
  const one = px(x(1));
  const reference = tag(
    "g",
    { class: "reference" },
    tag("line", { class: "reference-line", "data-value": 1, x1: one, x2: one, y1: TOP - 4, y2: bottom, stroke: "#b00020", "stroke-width": 1.5, "stroke-dasharray": "5 3" }),
    text({ x: one, y: TOP - 8, "font-size": 11, "text-anchor": "middle", fill: "#b00020" }, `1× = ${input.referenceLabel}`),
  );
  const how =
    rounds > 1
      ? `Bar: median of ${rounds} rounds' ratios; dots: each round; whisker: min to max.`
      : "Bar: the ratio of the one round (a single round shows no spread).";
  return frame(
    WIDTH,
    height,
    [input.title, `${input.metric} ÷ ${input.referenceLabel}, per server: ${input.higherIsBetter ? "higher is better" : "lower is better"}`],
    [
      ...grid,
      // Under the bars (which let it show through) and their labels (which stay legible over it).
      reference,
      ...groups,
      xAxis,
      yAxis,
      text({ class: "caption", x: 12, y: height - 10, "font-size": 11, fill: MUTED }, input.note ? `${how} ${input.note}` : how),
    ],
  );
}

function barGroup(b: RatioBar, i: number, x: (v: number) => number, left: number): string {
  const cy = px(TOP + i * ROW + ROW / 2);
  const color = b.color ?? PALETTE[i % PALETTE.length]!;
  if (b.ratio === null) {
    return tag(
      "g",
      { class: "bar-group", "data-server": b.id },
      text({ class: "value", "data-server": b.id, x: left + 8, y: cy + 4, "font-size": 12, "font-style": "italic", fill: MUTED }, "no valid round"),
    );
  }
  const parts = [
    tag("rect", { class: "bar", "data-server": b.id, x: left, y: px(cy - BAR / 2), width: px(Math.max(0.5, x(b.ratio) - left)), height: BAR, fill: color, "fill-opacity": 0.85 }),
  ];
  let end = x(b.ratio);
  if (!b.reference && b.rounds.length > 0) {
    const lo = x(Math.min(...b.rounds));
    const hi = x(Math.max(...b.rounds));
    end = Math.max(end, hi);
    if (b.rounds.length > 1) {
      parts.push(
        tag("line", { class: "whisker", x1: px(lo), x2: px(hi), y1: cy, y2: cy, stroke: INK, "stroke-width": 1.5 }),
        tag("line", { x1: px(lo), x2: px(lo), y1: cy - 5, y2: cy + 5, stroke: INK, "stroke-width": 1.5 }),
        tag("line", { x1: px(hi), x2: px(hi), y1: cy - 5, y2: cy + 5, stroke: INK, "stroke-width": 1.5 }),
      );
    }
    for (const r of b.rounds) parts.push(tag("circle", { class: "round", "data-ratio": r, cx: px(x(r)), cy, r: 3.5, fill: "#ffffff", stroke: INK, "stroke-width": 1.2 }));
  }
  const label = b.reference ? `1×${b.note ? ` = ${b.note}` : ""}` : times(b.ratio);
  const barW = x(b.ratio) - left;
  // The reference's label carries its own figure and can be long: inside its bar when it fits there.
  const inside = b.reference && textWidth(label, 12) + 12 < barW;
  parts.push(
    text(
      inside
        ? { class: "value", "data-server": b.id, x: px(x(b.ratio) - 6), y: cy + 4, "font-size": 12, "font-weight": "bold", "text-anchor": "end", fill: "#ffffff" }
        : // A white halo keeps the label legible where it crosses the reference line or a grid line.
          { class: "value", "data-server": b.id, x: px(end + 8), y: cy + 4, "font-size": 12, "font-weight": "bold", fill: INK, stroke: "#ffffff", "stroke-width": 3, "paint-order": "stroke" },
      label,
    ),
  );
  return tag("g", { class: "bar-group", "data-server": b.id }, ...parts);
}
