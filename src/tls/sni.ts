// Choosing a certificate by the name a client asks for (server_name, RFC 6066 §3). Names compare
// without regard to case (RFC 4343); a "*." name matches exactly one more label on the left
// (RFC 6125 §6.4.3: "*.example.com" matches "a.example.com", not "example.com" or "a.b.example.com").
// An exact name wins over a wildcard; among equals the first entry wins.

export interface SniTable<T> {
  /** The value for a client's server name, or null when no entry names it. */
  lookup(serverName: string | null): T | null;
}

export function sniTable<T>(entries: readonly { readonly names: readonly string[]; readonly value: T }[]): SniTable<T> {
  const exact = new Map<string, T>();
  const wild = new Map<string, T>();
  for (const e of entries) {
    for (const raw of e.names) {
      const n = raw.toLowerCase().replace(/\.$/, "");
      const into = n.startsWith("*.") ? wild : exact;
      const key = n.startsWith("*.") ? n.slice(2) : n;
      if (!into.has(key)) into.set(key, e.value);
    }
  }
  return {
    lookup(serverName) {
      if (serverName === null || serverName === "") return null;
      const n = serverName.toLowerCase().replace(/\.$/, "");
      const hit = exact.get(n);
      if (hit !== undefined) return hit;
      const dot = n.indexOf(".");
      return dot > 0 ? (wild.get(n.slice(dot + 1)) ?? null) : null;
    },
  };
}
