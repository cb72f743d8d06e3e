// Reading the metrics endpoint as a scraper does: the text format (Prometheus 0.0.4) into samples,
// the type of each family, and a histogram's quantile by its buckets.

export interface Scrape {
  /** "name{labels}" -> value, in the order of the text. */
  readonly samples: Map<string, number>;
  /** Family name -> counter | gauge | histogram | ... */
  readonly types: Map<string, string>;
}

export async function scrape(port: number, timeoutMs = 10_000): Promise<Scrape> {
  const r = await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(timeoutMs), headers: { connection: "close" } });
  if (r.status !== 200) throw new Error(`GET /metrics: ${r.status}`);
  return parseMetrics(await r.text());
}

export async function readyz(port: number, timeoutMs = 2000): Promise<number> {
  try {
    const r = await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(timeoutMs), headers: { connection: "close" } });
    await r.arrayBuffer();
    return r.status;
  } catch {
    return 0;
  }
}

export function parseMetrics(text: string): Scrape {
  const samples = new Map<string, number>();
  const types = new Map<string, string>();
  for (const line of text.split("\n")) {
    if (line.startsWith("# TYPE ")) {
      const [, , name, type] = line.split(" ");
      if (name && type) types.set(name, type);
      continue;
    }
    if (line === "" || line.startsWith("#")) continue;
    const sp = line.lastIndexOf(" ");
    const v = line.slice(sp + 1);
    samples.set(line.slice(0, sp), v === "+Inf" ? Infinity : Number(v));
  }
  return { samples, types };
}

/** The family a sample belongs to (histogram samples carry _bucket, _sum, _count). */
export function familyOf(s: Scrape, key: string): string {
  const name = key.replace(/\{.*$/, "");
  if (s.types.has(name)) return name;
  return name.replace(/_(bucket|sum|count)$/, "");
}

/** Samples of counter and histogram families: the ones that may never decrease. */
export function monotonicSamples(s: Scrape): [string, number][] {
  return [...s.samples].filter(([k]) => {
    const t = s.types.get(familyOf(s, k));
    return t === "counter" || t === "histogram";
  });
}

export interface Decrease {
  readonly sample: string;
  readonly from: string;
  readonly to: string;
  readonly before: number;
  readonly after: number;
}

/** Counter and histogram samples that went down from one named scrape to the next, and how many were compared. */
export function decreases(scrapes: readonly (readonly [string, Scrape])[]): { compared: number; found: Decrease[] } {
  const found: Decrease[] = [];
  let compared = 0;
  for (let i = 1; i < scrapes.length; i++) {
    const [from, a] = scrapes[i - 1]!;
    const [to, b] = scrapes[i]!;
    for (const [key, before] of monotonicSamples(a)) {
      const after = b.samples.get(key);
      if (after === undefined) continue;
      compared++;
      if (after < before) found.push({ sample: key, from, to, before, after });
    }
  }
  return { compared, found };
}

export interface Quantile {
  /** The upper bound (le) of the bucket holding the quantile; Infinity past the last bound. */
  readonly le: number;
  readonly count: number;
  /** The le of the first bucket that holds every observation: where the worst one fell. */
  readonly maxLe: number;
}

/** q-quantile of a histogram as the le of its bucket (the precision the buckets allow). */
export function histogramQuantile(s: Scrape, name: string, q: number): Quantile {
  const buckets: [number, number][] = [];
  for (const [k, v] of s.samples) {
    const m = new RegExp(`^${name}_bucket\\{le="([^"]+)"\\}$`).exec(k);
    if (m) buckets.push([m[1] === "+Inf" ? Infinity : Number(m[1]), v]);
  }
  buckets.sort((a, b) => a[0] - b[0]);
  const count = buckets.at(-1)?.[1] ?? 0;
  const le = buckets.find(([, c]) => c >= q * count)?.[0] ?? Infinity;
  const maxLe = buckets.find(([, c]) => c >= count)?.[0] ?? Infinity;
  return { le, count, maxLe };
}

/**
 * The sum of the samples of `name` whose labels include `labels` (`reason="idle-timeout"`): the
 * per-connection families carry a `listener` label, and a case wants the process's total.
 */
export function total(s: Scrape, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  let found = false;
  for (const [key, v] of s.samples) {
    const m = /^([^{]+)(?:\{(.*)\})?$/.exec(key);
    if (!m || m[1] !== name) continue;
    const have = m[2] ?? "";
    if (!Object.entries(labels).every(([k, val]) => have.split(",").includes(`${k}="${val}"`))) continue;
    sum += v;
    found = true;
  }
  return found ? sum : NaN;
}
