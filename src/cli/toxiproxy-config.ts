// --toxiproxy-config FILE: toxiproxy's own -config file (a JSON list of proxies {name, listen,
// upstream, enabled}, read by its PopulateConfig), so an existing setup moves over: each proxy
// becomes a listener of that name and address, disabled where enabled is false.
import { readFileSync } from "node:fs";
import { FaultError } from "../faults/index.ts";
import { parseListen } from "../server/index.ts";
import { UsageError } from "./errors.ts";
import type { ListenSpec } from "./options/values.ts";

export interface ToxiproxyProxy {
  readonly spec: ListenSpec;
  readonly enabled: boolean;
  /** As the file says; tcp-echo echoes whatever it names (serve logs a warning for a real address). */
  readonly upstream: string;
}

const NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,31}$/;

export function loadToxiproxyConfig(path: string, from: string): ToxiproxyProxy[] {
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    const code = (e as { code?: string }).code;
    throw new UsageError(`${from}: ${JSON.stringify(path)}: ${code === "ENOENT" ? "no such file" : code ? code : `not valid JSON: ${(e as Error).message}`}`);
  }
  if (!Array.isArray(data)) throw new UsageError(`${path}: must be a JSON list of proxies [{name, listen, upstream, enabled}]`);
  return data.map((p, i) => {
    const where = `${path}: proxy ${i + 1}`;
    if (p === null || typeof p !== "object" || Array.isArray(p)) throw new UsageError(`${where}: must be an object {name, listen, upstream, enabled}`);
    const { name, listen, upstream, enabled } = p as Record<string, unknown>;
    if (typeof name !== "string" || !NAME.test(name)) throw new UsageError(`${where}: name ${JSON.stringify(name)} is not a listener name (letters, digits, _ . -)`);
    if (typeof listen !== "string") throw new UsageError(`${where}: needs listen = "ADDR:PORT"`);
    if (enabled !== undefined && typeof enabled !== "boolean") throw new UsageError(`${where}: enabled ${JSON.stringify(enabled)} is not true or false`);
    if (upstream !== undefined && typeof upstream !== "string") throw new UsageError(`${where}: upstream ${JSON.stringify(upstream)} is not a string`);
    let at: { host: string; port: number };
    try {
      at = parseListen(listen, `${where}: listen`);
    } catch (e) {
      if (e instanceof FaultError) throw new UsageError(e.message.replace(/^bad request body: /, ""));
      throw e;
    }
    return { spec: { name, ...at }, enabled: enabled ?? true, upstream: upstream ?? "" };
  });
}
