import { showDefault, type Resolved, type Table } from "./option.ts";

/**
 * --print-config: every setting of the command, its effective value, and where that came from
 * (flag, env, file or default), so a user can see why a value is what it is.
 */
export function printConfig<O extends Table>(command: string, table: O, r: Resolved<O>): string {
  const rows: [string, string, string][] = [];
  for (const [key, o] of Object.entries(table)) {
    if (o.name === "print-config") continue;
    const v = (r.values as Record<string, unknown>)[key];
    const shown = v === null || v === undefined ? showDefault(o) : o.kind.show(v);
    const g = r.given[key as keyof O];
    rows.push([o.name, shown, g.source === "default" ? "default" : `${g.source} (${g.from})`]);
  }
  const w0 = Math.max(...rows.map((r) => r[0].length));
  const w1 = Math.min(32, Math.max(...rows.map((r) => r[1].length)));
  return [`# tcp-echo ${command}: effective settings (value, then where it came from)`, ...rows.map(([n, v, s]) => `${n.padEnd(w0)}  ${v.padEnd(w1)}  ${s}`)].join("\n") + "\n";
}
