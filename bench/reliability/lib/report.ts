// The suite's output: one line per case on the terminal, and a markdown page with every figure.
import type { Case, CaseResult, Check } from "./types.ts";

export interface Outcome {
  readonly c: Case;
  readonly result: CaseResult;
  readonly seconds: number;
  /** The case threw (a peer or the server failed to start): its message. */
  readonly error: string | null;
}

export interface Machine {
  readonly date: string;
  readonly nproc: number;
  readonly kernel: string;
  readonly cpu: string;
  readonly bun: string;
  readonly exe: string;
  readonly version: string;
}

export const passed = (o: Outcome) => o.error === null && o.result.checks.every((k) => k.pass !== false);

const figureText = (k: Check) => `${k.what} ${k.figure}${k.bound ? ` (bound ${k.bound})` : ""}${k.pass === false ? " FAIL" : ""}`;

export function consoleLine(o: Outcome): string {
  const head = `${o.c.id.padEnd(3)} ${o.c.name.padEnd(20)} ${passed(o) ? "PASS" : "FAIL"}`;
  const body = o.error ? `error: ${o.error}` : o.result.checks.map(figureText).join("; ");
  return `${head}  ${body}  [${o.seconds.toFixed(1)} s]`;
}

const cell = (s: string) => s.replace(/\|/g, "\\|").replace(/\n/g, " ");

export function renderMarkdown(outcomes: readonly Outcome[], m: Machine, command: string, quick: boolean, totalSeconds: number): string {
  const ok = outcomes.every(passed);
  const out: string[] = [
    `# tcp-echo reliability suite${quick ? " (quick mode)" : ""}`,
    "",
    `- date: ${m.date}`,
    `- machine: ${m.nproc} CPUs (${m.cpu}), Linux ${m.kernel}, Bun ${m.bun}`,
    `- executable: \`${m.exe}\` (${m.version})`,
    `- command: \`${command}\``,
    `- result: ${ok ? "every case within its bounds" : `${outcomes.filter((o) => !passed(o)).length} of ${outcomes.length} cases FAILED`} (${totalSeconds.toFixed(0)} s)`,
    "",
    "Each case runs the built executable as a scripted scenario on loopback (bench/reliability/).",
    "",
    "| case | scenario | measured | figure | bound | |",
    "| --- | --- | --- | ---: | --- | --- |",
  ];
  for (const o of outcomes) {
    const rows: Check[] = o.error ? [{ what: "error", figure: o.error, bound: "", pass: false }] : o.result.checks;
    rows.forEach((k, i) => {
      const first = i === 0;
      const verdict = k.pass === null ? "" : k.pass ? "PASS" : "**FAIL**";
      out.push(`| ${first ? `${o.c.id} ${o.c.name}` : ""} | ${first ? cell(o.c.describe(quick)) : ""} | ${cell(k.what)} | ${cell(k.figure)} | ${cell(k.bound)} | ${verdict} |`);
    });
  }
  const withNotes = outcomes.filter((o) => o.result.notes.length > 0);
  if (withNotes.length > 0) {
    out.push("", "## Notes", "");
    for (const o of withNotes) for (const n of o.result.notes) out.push(`- ${o.c.id} ${o.c.name}: ${n}`);
  }
  out.push("", "## Time per case", "", outcomes.map((o) => `${o.c.id} ${o.seconds.toFixed(1)} s`).join(", "), "");
  return out.join("\n");
}
