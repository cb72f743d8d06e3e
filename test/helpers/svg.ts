// SVG read back by an independent parser: python3's xml.etree parses each file (so a chart that is
// not well-formed XML fails there) and hands the element tree over as JSON; the tests query it here.
import { python } from "./python.ts";

export interface Node {
  readonly tag: string;
  readonly attrs: Readonly<Record<string, string>>;
  /** The element's own text and that of its descendants, joined. */
  readonly text: string;
  readonly children: readonly Node[];
}

const DUMP = `
import json, sys
import xml.etree.ElementTree as ET
def node(e):
    tag = e.tag.split('}', 1)[-1]
    return {"tag": tag, "attrs": dict(e.attrib), "text": "".join(e.itertext()), "children": [node(c) for c in e]}
out = []
for path in sys.argv[1:]:
    root = ET.parse(path).getroot()
    out.append(node(root))
print(json.dumps(out))
`;

/** Parses each file with python3's xml.etree; throws (python3 exits 1) on the first that is not well-formed. */
export async function parseXmlFiles(paths: readonly string[]): Promise<Node[]> {
  return JSON.parse(await python(DUMP, [...paths])) as Node[];
}

export function all(n: Node, pred: (n: Node) => boolean): Node[] {
  const out: Node[] = [];
  const visit = (x: Node) => {
    if (pred(x)) out.push(x);
    x.children.forEach(visit);
  };
  visit(n);
  return out;
}

export const hasClass = (cls: string) => (n: Node) => (n.attrs.class ?? "").split(/\s+/).includes(cls);

export function byClass(n: Node, cls: string): Node[] {
  return all(n, hasClass(cls));
}

export function one(n: Node, cls: string): Node {
  const found = byClass(n, cls);
  if (found.length !== 1) throw new Error(`expected one .${cls}, found ${found.length}`);
  return found[0]!;
}

/** The axis group `g.axis.<which>`. */
export function axis(svg: Node, which: "x" | "y"): Node {
  const found = all(svg, (n) => hasClass("axis")(n) && hasClass(which)(n));
  if (found.length !== 1) throw new Error(`expected one ${which} axis, found ${found.length}`);
  return found[0]!;
}

export const num = (n: Node, attr: string): number => {
  const v = n.attrs[attr];
  if (v === undefined) throw new Error(`<${n.tag}> has no ${attr}`);
  return Number(v);
};

/** "M1,2 L3,4 L5,6" -> [[1,2],[3,4],[5,6]]. */
export function pathPoints(d: string): [number, number][] {
  return [...d.matchAll(/[ML]\s*(-?[\d.]+)[ ,](-?[\d.]+)/g)].map((m) => [Number(m[1]), Number(m[2])]);
}
