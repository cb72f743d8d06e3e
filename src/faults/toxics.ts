// The toxics: toxiproxy's names, attributes, defaults and JSON shape (toxics/*.go,
// toxic_collection.go), with the validation toxiproxy leaves out. A toxic is a plain value; what
// it does to a connection is in stages.ts.
import { badBody, FaultError } from "./errors.ts";

export const TOXIC_TYPES = ["latency", "bandwidth", "slow_close", "timeout", "reset_peer", "slicer", "limit_data"] as const;
export type ToxicType = (typeof TOXIC_TYPES)[number];

/** upstream: bytes from the peer into tcp-echo (what we read); downstream: the echo back to it. */
export const STREAMS = ["upstream", "downstream"] as const;
export type Stream = (typeof STREAMS)[number];

/** JavaScript timers hold at most 2^31 - 1 ms. */
const MAX_MS = 2 ** 31 - 1;

interface AttributeDef {
  readonly name: string;
  readonly min: number;
  readonly max: number;
  readonly unit: string;
}

const ms = (name: string): AttributeDef => ({ name, min: 0, max: MAX_MS, unit: "milliseconds" });

/** Each type's attributes in toxiproxy's order (its Go struct fields), all whole numbers, default 0. */
export const ATTRIBUTES: Readonly<Record<ToxicType, readonly AttributeDef[]>> = {
  latency: [ms("latency"), ms("jitter")],
  // KB/s with KB = 1000 bytes: toxiproxy sleeps len(bytes) ms / rate per chunk (bandwidth.go).
  bandwidth: [{ name: "rate", min: 0, max: MAX_MS, unit: "KB/s (0 = unlimited)" }],
  slow_close: [ms("delay")],
  timeout: [ms("timeout")],
  reset_peer: [ms("timeout")],
  slicer: [
    { name: "average_size", min: 1, max: MAX_MS, unit: "bytes" },
    { name: "size_variation", min: 0, max: MAX_MS, unit: "bytes, below average_size" },
    { name: "delay", min: 0, max: MAX_MS, unit: "microseconds" },
  ],
  limit_data: [{ name: "bytes", min: 0, max: Number.MAX_SAFE_INTEGER, unit: "bytes" }],
};

export type Attributes = Readonly<Record<string, number>>;

export interface Toxic {
  readonly name: string;
  readonly type: ToxicType;
  readonly stream: Stream;
  /** The chance, 0..1, that a connection gets this toxic (drawn per connection). */
  readonly toxicity: number;
  readonly attributes: Attributes;
}

/** Toxic and proxy names travel in URLs and log lines: no spaces, no control characters. */
export const TOXIC_NAME = /^[A-Za-z0-9_.:-]{1,64}$/;

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);
const show = (v: unknown) => (v === undefined ? "undefined" : JSON.stringify(v));

function attribute(def: AttributeDef, value: unknown, field: string): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < def.min || value > def.max)
    throw badBody(`${field}: ${show(value)} is not a whole number in ${def.min}..${def.max} (${def.unit})`);
  return value;
}

/** `given` over `base`, each known attribute checked; unknown keys are ignored (as Go's decoder does). */
function attributes(type: ToxicType, base: Attributes, given: unknown, where: string): Attributes {
  if (given === undefined || given === null) return base;
  if (!isObject(given)) throw badBody(`${where}attributes: must be an object, not ${show(given)}`);
  const out: Record<string, number> = {};
  for (const def of ATTRIBUTES[type]) {
    out[def.name] = Object.hasOwn(given, def.name) ? attribute(def, given[def.name], `${where}attributes.${def.name}`) : base[def.name]!;
  }
  if (type === "slicer" && out.size_variation! >= out.average_size!)
    // toxiproxy's slicer cuts at mid +/- size_variation: at or above average_size a cut can fall
    // outside the chunk (and average_size 0 recurses without end).
    throw badBody(`${where}attributes.size_variation: ${out.size_variation} must be below average_size (${out.average_size})`);
  return out;
}

/** Every attribute at toxiproxy's default (Go's zero value), slicer's average_size at its minimum. */
function defaults(type: ToxicType): Attributes {
  return Object.fromEntries(ATTRIBUTES[type].map((d) => [d.name, d.min]));
}

function toxicity(v: unknown, field: string): number {
  if (typeof v !== "number" || !(v >= 0 && v <= 1)) throw badBody(`${field}: ${show(v)} is not a number in 0..1`);
  return v;
}

/**
 * A new toxic from toxiproxy's JSON body {type, name?, stream?, toxicity?, attributes?}: stream
 * defaults to downstream, toxicity to 1, name to `<type>_<stream>`, attributes to 0.
 * Throws FaultError 400 naming the field.
 */
export function parseToxic(body: unknown, where = ""): Toxic {
  if (!isObject(body)) throw badBody(`${where || "a toxic"} must be a JSON object {type, name, stream, toxicity, attributes}, not ${Array.isArray(body) ? "a list" : show(body)}`);
  const stream = body.stream === undefined || body.stream === "" ? "downstream" : typeof body.stream === "string" ? body.stream.toLowerCase() : null;
  if (stream !== "upstream" && stream !== "downstream") throw new FaultError(400, "stream was invalid, can be either upstream or downstream");
  if (typeof body.type !== "string" || !(TOXIC_TYPES as readonly string[]).includes(body.type))
    throw new FaultError(400, `invalid toxic type: ${show(body.type)} (one of ${TOXIC_TYPES.join(", ")})`);
  const type = body.type as ToxicType;
  const name = body.name === undefined || body.name === "" ? `${type}_${stream}` : body.name;
  if (typeof name !== "string" || !TOXIC_NAME.test(name)) throw badBody(`${where}name: ${show(name)} is not a toxic name (1 to 64 of A-Z a-z 0-9 _ . : -)`);
  return {
    name,
    type,
    stream,
    toxicity: body.toxicity === undefined ? 1 : toxicity(body.toxicity, `${where}toxicity`),
    attributes: attributes(type, defaults(type), body.attributes ?? {}, where),
  };
}

/**
 * toxiproxy's update (UpdateToxicJson): `attributes` are merged into the toxic's, `toxicity`
 * replaces it; name, type and stream do not change (and are ignored if sent).
 */
export function patchToxic(t: Toxic, body: unknown): Toxic {
  if (!isObject(body)) throw badBody(`must be a JSON object {attributes, toxicity}, not ${Array.isArray(body) ? "a list" : show(body)}`);
  return {
    ...t,
    toxicity: body.toxicity === undefined ? t.toxicity : toxicity(body.toxicity, "toxicity"),
    attributes: attributes(t.type, t.attributes, body.attributes, ""),
  };
}

/** toxiproxy's JSON of a toxic (ToxicWrapper's field order). */
export function toxicJson(t: Toxic): { attributes: Attributes; name: string; type: ToxicType; stream: Stream; toxicity: number } {
  return { attributes: t.attributes, name: t.name, type: t.type, stream: t.stream, toxicity: t.toxicity };
}

/** "latency 100 ms, jitter 10 ms" for log lines. */
export function describeToxic(t: Toxic): string {
  const attrs = ATTRIBUTES[t.type].map((d) => `${d.name} ${t.attributes[d.name]}`).join(", ");
  return `${t.name} (${t.type} ${t.stream}${attrs ? `, ${attrs}` : ""}${t.toxicity < 1 ? `, toxicity ${t.toxicity}` : ""})`;
}
