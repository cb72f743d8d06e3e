// A strict reader of the Prometheus text exposition format (0.0.4), as a scraper would parse it.

export interface Family {
  help: string;
  type: string;
  samples: { name: string; labels: Record<string, string>; value: number }[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)$/;

/** Parses the whole text; throws on any malformed line or on a sample without HELP and TYPE. */
export function parsePrometheus(text: string): Map<string, Family> {
  if (!text.endsWith("\n")) throw new Error("exposition must end with a newline");
  const families = new Map<string, Family>();
  for (const line of text.slice(0, -1).split("\n")) {
    if (line.startsWith("# HELP ") || line.startsWith("# TYPE ")) {
      const [, kind, name, ...rest] = line.split(" ");
      if (!name || !NAME.test(name)) throw new Error(`bad metric name in: ${line}`);
      const f = families.get(name) ?? { help: "", type: "", samples: [] };
      if (kind === "HELP") f.help = rest.join(" ");
      else {
        if (!["counter", "gauge", "histogram", "summary", "untyped"].includes(rest[0] ?? "")) throw new Error(`bad type in: ${line}`);
        f.type = rest[0]!;
      }
      families.set(name, f);
      continue;
    }
    const m = SAMPLE.exec(line);
    if (!m) throw new Error(`malformed line: ${JSON.stringify(line)}`);
    const [, name, rawLabels, rawValue] = m;
    const value = rawValue === "+Inf" ? Infinity : rawValue === "-Inf" ? -Infinity : Number(rawValue);
    if (Number.isNaN(value) && rawValue !== "NaN") throw new Error(`bad value in: ${line}`);
    const base = families.has(name!) ? name! : name!.replace(/_(bucket|sum|count)$/, "");
    const f = families.get(base);
    if (!f || !f.help || !f.type) throw new Error(`sample before its HELP and TYPE: ${line}`);
    const labels: Record<string, string> = {};
    for (const part of (rawLabels ?? "").slice(1, -1).split(",").filter(Boolean)) {
      const lm = /^([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"$/.exec(part);
      if (!lm) throw new Error(`bad label in: ${line}`);
      labels[lm[1]!] = lm[2]!;
    }
    f.samples.push({ name: name!, labels, value });
  }
  return families;
}

/** The value of one sample (name + exact labels). */
export function sample(families: Map<string, Family>, name: string, labels: Record<string, string> = {}): number {
  for (const f of families.values())
    for (const s of f.samples) if (s.name === name && JSON.stringify(s.labels) === JSON.stringify(labels)) return s.value;
  throw new Error(`no sample ${name}${JSON.stringify(labels)}`);
}

/** The sum of every sample of `name` whose labels include `labels` (a process's total over listeners). */
export function total(families: Map<string, Family>, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  let found = false;
  for (const f of families.values())
    for (const s of f.samples) {
      if (s.name !== name || !Object.entries(labels).every(([k, v]) => s.labels[k] === v)) continue;
      sum += s.value;
      found = true;
    }
  if (!found) throw new Error(`no sample ${name}${JSON.stringify(labels)}`);
  return sum;
}
