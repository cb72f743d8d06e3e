// SVG charts, hand-written and dependency-free, shared by the project benchmark (bench/lib/charts.ts)
// and `tcp-echo bench --html` (src/bench/html.ts).
//   svg.ts               escaping, elements, palette, the frame of a chart
//   scale.ts             linear and log axes, nice ticks
//   ratio-chart.ts       bars of ratios to a reference, with every round's value and its spread
//   percentile-chart.ts  latency percentile curves on log-log axes
export { ratioChart, type RatioBar, type RatioChartInput } from "./ratio-chart.ts";
export { percentileChart, resolvedPoints, tailDecades, type CurvePoint, type PercentileChartInput, type PercentileSeries } from "./percentile-chart.ts";
export { esc, PALETTE } from "./svg.ts";
