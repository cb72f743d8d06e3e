import { FaultError, notFound } from "./errors.ts";
import { patchToxic, type Toxic } from "./toxics.ts";

/** A change to a listener's toxics, passed on to its open connections. */
export type ToxicChange = { readonly op: "add" | "update" | "remove"; readonly toxic: Toxic };

/**
 * A listener's toxics (toxiproxy's ToxicCollection): unique names, each stream's toxics in the
 * order they were added. Every change is passed to `onChange`, which applies it to the open
 * connections (toxiproxy re-links them).
 */
export class ToxicSet {
  private readonly toxics: Toxic[] = [];
  onChange: ((change: ToxicChange) => void) | null = null;

  constructor(initial: readonly Toxic[] = []) {
    for (const t of initial) this.add(t);
  }

  get size(): number {
    return this.toxics.length;
  }

  /** toxiproxy's order (GetToxicArray): the upstream chain, then the downstream one. */
  list(): Toxic[] {
    return [...this.toxics.filter((t) => t.stream === "upstream"), ...this.toxics.filter((t) => t.stream === "downstream")];
  }

  get(name: string): Toxic | undefined {
    return this.toxics.find((t) => t.name === name);
  }

  add(t: Toxic): Toxic {
    if (this.get(t.name)) throw new FaultError(409, "toxic already exists");
    this.toxics.push(t);
    this.onChange?.({ op: "add", toxic: t });
    return t;
  }

  /** toxiproxy's update: attributes merged, toxicity replaced (patchToxic). */
  update(name: string, body: unknown): { before: Toxic; after: Toxic } {
    const i = this.toxics.findIndex((t) => t.name === name);
    if (i < 0) throw notFound("toxic");
    const before = this.toxics[i]!;
    const after = patchToxic(before, body);
    this.toxics[i] = after;
    this.onChange?.({ op: "update", toxic: after });
    return { before, after };
  }

  remove(name: string): Toxic {
    const i = this.toxics.findIndex((t) => t.name === name);
    if (i < 0) throw notFound("toxic");
    const [t] = this.toxics.splice(i, 1);
    this.onChange?.({ op: "remove", toxic: t! });
    return t!;
  }

  /** POST /reset: every toxic removed. */
  clear(): Toxic[] {
    const all = [...this.toxics];
    for (const t of all) this.remove(t.name);
    return all;
  }
}
