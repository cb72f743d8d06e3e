// --toxic 'TYPE[@STREAM]:k=v,...': the command line's and config file's short form of a toxic.
// Several are joined with commas (a repeated flag, TCP_ECHO_TOXIC, a list in a file); a new toxic
// starts at each item that has a colon: "latency:latency=100,jitter=10,bandwidth@upstream:rate=50".
import { FaultError } from "./errors.ts";
import { parseToxic, type Toxic } from "./toxics.ts";

export const TOXIC_TEXT_HINT = "TYPE[@STREAM]:k=v,...";

const HEAD = /^([a-z_]+)(?:@([A-Za-z]+))?:(.*)$/;

/** Parses one or more toxics; throws FaultError naming the item at fault. */
export function parseToxicText(text: string): Toxic[] {
  const groups: { head: string; type: string; stream: string | undefined; pairs: string[] }[] = [];
  for (const raw of text.split(",")) {
    const item = raw.trim();
    if (item === "") continue;
    const m = HEAD.exec(item);
    if (m) {
      groups.push({ head: item, type: m[1]!, stream: m[2], pairs: m[3]!.trim() === "" ? [] : [m[3]!.trim()] });
      continue;
    }
    if (groups.length === 0) throw new FaultError(400, `${JSON.stringify(item)} does not start a toxic (${TOXIC_TEXT_HINT}, like latency:latency=100,jitter=10)`);
    groups[groups.length - 1]!.pairs.push(item);
  }
  if (groups.length === 0) throw new FaultError(400, `no toxic given (${TOXIC_TEXT_HINT}, like latency:latency=100)`);
  return groups.map((g) => {
    const body: Record<string, unknown> = { type: g.type, stream: g.stream };
    const attributes: Record<string, unknown> = {};
    for (const pair of g.pairs) {
      const eq = pair.indexOf("=");
      if (eq <= 0) throw new FaultError(400, `${g.type}: ${JSON.stringify(pair)} is not key=value`);
      const key = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      if (key === "name") body.name = value;
      else if (key === "toxicity") body.toxicity = value === "" ? NaN : Number(value);
      // Whole numbers only; anything else is passed on as text so the check names it.
      else attributes[key] = /^\d+$/.test(value) ? Number(value) : value;
    }
    body.attributes = attributes;
    const t = parseToxic(body, `${g.type}: `);
    const known = new Set(Object.keys(t.attributes));
    for (const key of Object.keys(attributes))
      if (!known.has(key)) throw new FaultError(400, `${g.type}: unknown attribute ${JSON.stringify(key)} (${[...known, "name", "toxicity"].join(", ")})`);
    return t;
  });
}
