// `tcp-echo bench --html FILE`: one run as a self-contained HTML page (inline CSS and SVG, no script,
// nothing fetched), to keep or mail: the settings, the figures of the JSON report, and the latency
// distribution as a percentile curve from the run's HDR histogram.
import { esc, PALETTE, percentileChart } from "../charts/index.ts";
import { targetText, type BenchOptions, type BenchResult } from "./options.ts";
import { toLoadgenJson, type LoadgenJson } from "./output.ts";

export interface HtmlReportMeta {
  /** When the run ended (ISO 8601). */
  readonly date: string;
  /** e.g. "tcp-echo 0.1.0". */
  readonly tool: string;
  /** e.g. "Bun 1.4.5, Linux 6.18 x64, 2 CPUs (AMD EPYC)". */
  readonly platform: string;
  /** The command line, as typed. */
  readonly command?: string;
}

const CSS = `
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif; color: #222; margin: 2rem auto; max-width: 860px; padding: 0 1rem; }
h1 { font-size: 1.45rem; margin-bottom: .2rem; } h2 { font-size: 1.15rem; margin-top: 2rem; border-bottom: 1px solid #ddd; }
.meta { color: #666; margin-top: 0; } .ok { color: #1b7a3a; } .fail { color: #b00020; font-weight: bold; }
table { border-collapse: collapse; } th, td { padding: .2rem .9rem .2rem 0; text-align: left; vertical-align: top; }
td.num { text-align: right; font-variant-numeric: tabular-nums; } th { font-weight: normal; color: #555; }
figure { margin: 1rem 0; } svg { max-width: 100%; height: auto; } code, pre { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 13px; }
pre { background: #f6f6f6; padding: .6rem; overflow-x: auto; white-space: pre-wrap; word-break: break-all; }
.columns { display: flex; flex-wrap: wrap; gap: 0 3rem; }
`;

/** As the JSON has it (3 decimals at most), with thousands separators: the same number, easier to read. */
function num(x: number | null | undefined): string {
  if (x === null || x === undefined) return "–";
  return x.toLocaleString("en-US", { maximumFractionDigits: 3 });
}

function row(name: string, value: string, key?: string, unit = ""): string {
  const cell = key ? `<td class="num" data-key="${esc(key)}">${value}</td>` : `<td>${value}</td>`;
  return `<tr><th>${esc(name)}</th>${cell}<td>${esc(unit)}</td></tr>`;
}

function settings(o: BenchOptions, meta: HtmlReportMeta): string {
  const rows = [
    row("target", `<code>${esc(targetText(o))}</code>`),
    row("mode", esc(o.mode)),
    row("connections", num(o.connections), undefined, o.mode === "connect" ? "concurrent connect, exchange, close loops" : ""),
    row(o.mode === "stream" ? "write size" : "message size", num(o.size), undefined, "B"),
    row(o.mode === "idle" ? "held" : "measured", o.duration === null ? "until the count" : num(o.duration), undefined, o.duration === null ? "" : "s"),
    ...(o.mode === "idle" ? [] : [row("warm-up", num(o.warmup), undefined, "s")]),
    row("pacing", o.rate === null ? "closed loop (each connection sends when the echo is back)" : `${num(o.rate)} messages/s over all connections (open loop; latency from the intended send time)`),
    ...(o.count === null ? [] : [row("count", num(o.count), undefined, o.mode === "stream" ? `× ${o.size} B` : "messages")]),
    row("date", esc(meta.date)),
    row("tool", `${esc(meta.tool)}; ${esc(meta.platform)}`),
    ...(meta.command ? [row("command", `<code>${esc(meta.command)}</code>`)] : []),
  ];
  return `<table class="settings">${rows.join("")}</table>`;
}

function figures(j: LoadgenJson): string {
  const rows = [
    row(j.mode === "idle" ? "held" : "measured", num(j.duration_s), "duration_s", "s"),
    row(j.mode === "idle" ? "exchanges" : j.mode === "connect" ? "cycles" : j.mode === "stream" ? "writes echoed" : "messages", num(j.messages), "messages"),
    ...(j.mode === "idle" ? [] : [row("messages/s", num(j.msgs_per_s), "msgs_per_s", j.mode === "stream" ? `writes of ${j.size} B per second` : "")]),
    ...(j.mode === "idle" ? [] : [row("payload echoed", num(j.mb_per_s), "mb_per_s", "MB/s (10^6 B, verified)")]),
    ...(j.mode === "connect" ? [row("connections/s", num(j.conns_per_s), "conns_per_s")] : []),
    ...(j.mode === "idle" ? [row("open at end", num(j.open_at_end), "open_at_end", `of ${j.connections}`)] : []),
    row("errors", num(j.errors), "errors"),
    row("mismatches", num(j.mismatches), "mismatches", j.mismatches ? "echoed bytes differ from what was sent" : ""),
  ];
  const l = j.latency_us;
  const lat = l
    ? [
        row("p50", num(l.p50), "latency_us.p50", "µs"),
        row("p90", num(l.p90), "latency_us.p90", "µs"),
        row("p99", num(l.p99), "latency_us.p99", "µs"),
        row("p99.9", num(l.p999), "latency_us.p999", "µs"),
        row("max", num(l.max), "latency_us.max", "µs (exact)"),
        row("mean", num(l.mean), "latency_us.mean", "µs (exact)"),
      ]
    : [];
  return `<div class="columns"><table class="figures">${rows.join("")}</table>${lat.length ? `<table class="figures latency">${lat.join("")}</table>` : ""}</div>`;
}

function latency(r: BenchResult, o: BenchOptions, j: LoadgenJson): string {
  const what = r.mode === "connect" ? "connect, exchange, close cycle" : "round trip";
  if (!r.latencyUs || !r.latencyCurveUs || !j.latency_curve_us) {
    const why =
      r.mode === "stream" || r.mode === "idle"
        ? `${r.mode} mode measures ${r.mode === "stream" ? "throughput" : "how many connections stay open"}, not latency: this run has no latency distribution. Its figures are above.`
        : "No message completed in the measured time: there is no latency distribution.";
    return `<p class="no-latency">${esc(why)}</p>`;
  }
  const svg = percentileChart({
    title: `${what[0]!.toUpperCase()}${what.slice(1)} latency by percentile`,
    subtitle: `${num(r.messages)} samples in an HDR histogram (3 significant digits); min and max exact.${o.rate === null ? "" : " Open loop: from the intended send time."}`,
    yLabel: `${what} latency (µs, log scale)`,
    series: [
      {
        id: "run",
        label: `${r.mode}, ${r.connections} connection${r.connections === 1 ? "" : "s"} × ${r.size} B, ${targetText(o)}`,
        points: r.latencyCurveUs,
        count: r.messages,
        max: r.latencyUs.max,
        color: PALETTE[3],
      },
    ],
  });
  const pts = j.latency_curve_us
    .map(([q, us]) => `<tr><th>${q === 0 ? "min" : `p${q}`}</th><td class="num" data-percentile="${q}">${num(us)}</td><td>µs</td></tr>`)
    .join("");
  return `<figure>${svg}</figure><details><summary>Percentiles (as in the JSON report's <code>latency_curve_us</code>)</summary><table class="percentiles">${pts}</table></details>`;
}

export function renderHtmlReport(r: BenchResult, o: BenchOptions, meta: HtmlReportMeta): string {
  const j = toLoadgenJson(r);
  const title = `tcp-echo bench: ${r.mode} against ${targetText(o)}`;
  const status =
    r.errors === 0 && r.mismatches === 0
      ? `<p class="status ok">No connection errors, no mismatches.</p>`
      : `<p class="status fail">${num(r.errors)} connection error(s)${r.firstError ? ` (first: ${esc(r.firstError)})` : ""}, ${num(r.mismatches)} mismatch(es).</p>`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<style>${CSS}</style>
</head>
<body>
<h1>${esc(title)}</h1>
<p class="meta">${esc(meta.date)} · ${esc(meta.tool)}</p>
${status}
<h2>Settings</h2>
${settings(o, meta)}
<h2>Figures</h2>
${figures(j)}
<h2>Latency distribution</h2>
${latency(r, o, j)}
<h2>JSON report</h2>
<pre>${esc(JSON.stringify(j))}</pre>
</body>
</html>
`;
}
