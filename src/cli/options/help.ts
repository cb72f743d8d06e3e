// Help text generated from the option table: defaults are never typed twice. Lines fit 80 columns,
// and colour is used only when stdout is a terminal.
import { showDefault, type Table } from "./option.ts";

const WIDTH = 80;
const FLAG_COL = 28;

export interface CommandHelp {
  readonly usage: string;
  readonly description: string;
  readonly examples: readonly (readonly [command: string, what: string])[];
}

/** Words of `text` in lines of at most `width` columns, each after `indent` spaces. */
function wrap(text: string, width: number, indent: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && line.length + 1 + word.length > width - indent) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}

function flag(o: Table[string]): string {
  if (o.switch) return o.default ? `--${o.name}, --no-${o.name}` : `--${o.name}`;
  return `--${o.name} ${o.kind.hint}`;
}

/** A paragraph in lines of at most 80 columns. */
export function paragraph(text: string): string {
  return wrap(text, WIDTH, 0).join("\n");
}

/** The whole help page of a command. */
export function renderHelp(help: CommandHelp, table: Table, color: boolean): string {
  const bold = (s: string) => (color ? `\x1b[1m${s}\x1b[22m` : s);
  const out: string[] = [bold("Usage:") + ` ${help.usage}`, "", ...wrap(help.description, WIDTH, 0), "", bold("Options:")];
  for (const o of Object.values(table)) {
    const f = `  ${flag(o)}`;
    const text = `${o.help} [${o.switch ? (o.default ? "on" : "off") : showDefault(o)}]`;
    const body = wrap(text, WIDTH, FLAG_COL);
    if (f.length + 2 <= FLAG_COL) {
      out.push(f.padEnd(FLAG_COL) + body[0]);
      for (const l of body.slice(1)) out.push(" ".repeat(FLAG_COL) + l);
    } else {
      out.push(f);
      for (const l of body) out.push(" ".repeat(FLAG_COL) + l);
    }
  }
  out.push("", bold("Examples:"));
  for (const [cmd, what] of help.examples) {
    out.push(`  ${cmd}`);
    for (const l of wrap(what, WIDTH, 4)) out.push(`    ${l}`);
  }
  out.push(
    "",
    bold("Environment:"),
    ...wrap(
      "Every option can also come from TCP_ECHO_<OPTION> (upper case, - as _): TCP_ECHO_PORT=7, TCP_ECHO_MAX_BUFFER=64k, TCP_ECHO_NODELAY=0. Precedence: flag, then variable, then --config file, then default. Durations take s, ms, m, h (bare numbers are seconds); sizes take k, m, g (powers of 1024).",
      WIDTH,
      2,
    ).map((l) => `  ${l}`),
    "",
    bold("Exit codes:"),
    "  0  success (a graceful stop after SIGINT, SIGTERM or SIGQUIT)",
    "  1  a runtime failure (a syscall failed, a check failed, a timeout)",
    "  2  bad input (an unknown option, a bad value): one line names it",
    "  130, 143  a second SIGINT / SIGTERM: exit at once",
  );
  return out.join("\n") + "\n";
}
