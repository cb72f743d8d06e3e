// `bun run bench/charts.ts [RESULTS.json]`: draws the charts of a benchmark run again from its JSON
// (default bench/results/latest.json) and renders its markdown again with links to them, without
// measuring anything: for a run made before the charts existed, or after a change to how they look.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { writeCharts } from "./lib/chart-files.ts";
import { renderCharts } from "./lib/charts.ts";
import { renderMarkdown, type Results } from "./lib/report.ts";
import { scenarios as allScenarios } from "./lib/scenarios.ts";
import { SERVERS } from "./lib/servers.ts";

const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const args = process.argv.slice(2);
if (args.length > 1 || args[0] === "-h" || args[0] === "--help") {
  console.error("usage: bun run bench/charts.ts [RESULTS.json]   (default bench/results/latest.json)");
  process.exit(args.length > 1 ? 2 : 0);
}
const path = args[0] ?? `${ROOT}/bench/results/latest.json`;
if (!existsSync(path) || !path.endsWith(".json")) {
  console.error(`bench/charts.ts: ${path}: no such results file (the .json that \`bun run bench\` writes)`);
  process.exit(2);
}
const res = JSON.parse(readFileSync(path, "utf8")) as Results;
const out = path.slice(0, -".json".length);
const dir = out.includes("/") ? out.replace(/\/[^/]*$/, "") : ".";
const prefix = out.slice(out.lastIndexOf("/") + 1);
// The servers and scenarios as the run had them, in the order `bun run bench` uses.
const servers = SERVERS.filter((s) => res.runs.some((r) => r.server === s.id));
const scenarios = allScenarios(res.settings.idleConnections).filter((sc) => res.summary.scenarios.some((x) => x.scenario === sc.id));
const charts = renderCharts(res, prefix);
writeCharts(dir, prefix, charts);
writeFileSync(`${out}.md`, renderMarkdown(res, servers, scenarios, charts));
console.error(`bench/charts.ts: wrote ${charts.length} chart(s) next to ${out}.md, and the markdown again`);
