// `bun run bench --summary`: a few lines for a CI log instead of the whole markdown report (which
// is still written to its file): per scenario, tcp-echo's main figure as a ratio to the C baseline
// and to bare Bun, then the failures.
import type { Results } from "./report.ts";
import { METRICS } from "./scenarios.ts";
import { C_BASELINE } from "./servers.ts";
import { INFO_LOGS, LOADED_BUN, NO_BALLAST } from "./side-by-side.ts";

/** The side-by-side contenders that are not one of tcp-echo's builds, by their short name. */
const SIDE_SHORT: Readonly<Record<string, string>> = { [LOADED_BUN.id]: "bare Bun + modules", [NO_BALLAST.id]: "no ballast", [INFO_LOGS.id]: "info logs" };

/** The tcp-echo builds, in the order they are shown. */
const TCP_ECHO = [
  { id: "tcp-echo", short: "tcp-echo" },
  { id: "tcp-echo-exe", short: "compiled" },
];

const ratio = (x: number | null) => (x === null || !Number.isFinite(x) ? "–" : `${x.toFixed(2)}×`);

function figure(x: number | null | undefined, digits: number): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return "–";
  return x.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** Aligned columns: the first `left` flush left, the figures flush right. */
function columns(rows: string[][], left: number): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((cell, i) => (i < left ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join("  ").trimEnd());
}

/** The summary, ending with a newline; `reportFile` is where the whole report went. */
export function renderSummary(res: Results, reportFile: string): string {
  const s = res.settings;
  const scs = res.summary.scenarios;
  const shown = TCP_ECHO.filter((t) => scs.some((x) => x.servers.some((r) => r.server === t.id)));
  const out = [
    `bench${s.quick ? " --quick" : ""}: ${s.rounds} round(s) of ${s.warmup} s warm-up + ${s.duration} s, ${res.runs.length} runs in ${Math.round(res.elapsed_s)} s; ` +
      `full report ${reportFile}`,
    ...(s.quick ? ["Quick mode proves the benchmark runs; its figures mean little."] : []),
    "For msg/s, MB/s and conn/s a ratio above 1 is better; for µs and KiB/conn below 1 is.",
  ];
  if (scs.length > 0) {
    const head = ["scenario", "main figure", "C baseline", ...shown.flatMap((t) => [`${t.short} ÷ C`, `${t.short} ÷ bare Bun`])];
    const rows = scs.map((x) => {
      const m = METRICS[x.primary];
      const c = x.servers.find((r) => r.server === C_BASELINE);
      return [
        x.scenario,
        m.label,
        figure(c?.figures[x.primary], m.digits),
        ...shown.flatMap((t) => {
          const r = x.servers.find((y) => y.server === t.id);
          return [ratio(r?.ratio_to_c ?? null), ratio(r?.ratio_to_bun ?? null)];
        }),
      ];
    });
    out.push("", ...columns([head, ...rows], 2));
  }
  const side = res.summary.side ?? [];
  if (side.length > 0) {
    // Side by side (same core, same seconds): the figures the performance targets are judged on.
    const ids = [...new Set(side.map((r) => r.contender))];
    const head = ["side by side", ...ids.map((id) => `${TCP_ECHO.find((t) => t.id === id)?.short ?? SIDE_SHORT[id] ?? "bare Bun (control)"} ÷ bare Bun`)];
    const rows = [...new Set(side.map((r) => r.scenario))].map((sc) => [sc, ...ids.map((id) => ratio(side.find((r) => r.scenario === sc && r.contender === id)?.ratio ?? null))]);
    out.push("", ...columns([head, ...rows], 1));
  }
  out.push("");
  if (res.failures.length === 0) out.push("Every run completed with zero errors and zero mismatches.");
  else out.push(`${res.failures.length} failure(s):`, ...res.failures.map((f) => `  ${f}`));
  return `${out.join("\n")}\n`;
}
