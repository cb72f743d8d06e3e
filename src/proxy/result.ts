// The shared parse results. "incomplete" is one frozen object: a header arriving a byte at a time
// asks again on every byte, and that answer should cost no allocation.

import type { ProxyParseError, ProxyParseIncomplete } from "./types.ts";

export const INCOMPLETE: ProxyParseIncomplete = Object.freeze({ kind: "incomplete" });

export function fail(reason: ProxyParseError["reason"], detail: string): ProxyParseError {
  return { kind: "error", reason, detail };
}
