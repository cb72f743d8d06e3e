// Writes the charts next to the markdown report, replacing that report's older charts.
import { readdirSync, rmSync, writeFileSync } from "node:fs";
import type { Chart } from "./charts.ts";

/** `dir/<prefix>-{ratio,latency}-*.svg`: removes the old ones (a scenario left out leaves none behind), writes `charts`. */
export function writeCharts(dir: string, prefix: string, charts: readonly Chart[]): void {
  const ours = new RegExp(`^${prefix.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}-(ratio|latency)-[^/]*\\.svg$`);
  for (const f of readdirSync(dir)) if (ours.test(f)) rmSync(`${dir}/${f}`);
  for (const c of charts) writeFileSync(`${dir}/${c.file}`, c.svg);
}
