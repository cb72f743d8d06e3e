// The load generator behind `tcp-echo bench`, usable against any echo server.
//   options.ts      what a run is asked (BenchOptions, defaults) and what it reports (BenchResult)
//   run.ts          runBench: phases (warmup, measuring, idle hold), counters, stop, result
//   connections.ts  the connection slots: opening, failure and reconnect, timers, socket events
//   traffic.ts      what each mode sends and checks
//   conn.ts         one connection slot's state
//   timers.ts       per-connection timers on one heap and one runtime timer
//   pattern.ts      the bytes sent, generated once, and the check of the echo
//   latency.ts      round-trip times: HDR histogram plus exact min, max and mean; percentile curves
//   html.ts         the self-contained HTML report of one run (`bench --html`)
//   output.ts       loadgen-compatible JSON, the human report, the progress line
//   target.ts       a name resolved once, before the run, to the address every connection uses
export { BENCH_DEFAULTS, BENCH_MODES, checkOptions, defaultSize, targetText } from "./options.ts";
export { chooseBenchTarget, targetLabel, PROBE_TIMEOUT_S, type BenchTarget, type TargetOptions } from "./target.ts";
export type { BenchMode, BenchOptions, BenchProgress, BenchResult, LatencySummary, PercentilePoint } from "./options.ts";
export { CURVE_PERCENTILES, DENSE_PERCENTILES } from "./latency.ts";
export { renderHtmlReport, type HtmlReportMeta } from "./html.ts";
export { runBench, type BenchHooks } from "./run.ts";
export { formatProgress, formatReport, toLoadgenJson, type LoadgenJson } from "./output.ts";
