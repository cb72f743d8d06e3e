import { parseProxyHeader, type ProxyErrorReason, type ProxyHeader } from "../proxy/index.ts";

export const PROXY_MODES = ["off", "v1", "v2", "any"] as const;
export type ProxyMode = (typeof PROXY_MODES)[number];

export const CLIENT_IP_FROM = ["proxy", "peer"] as const;
export type ClientIpFrom = (typeof CLIENT_IP_FROM)[number];

/** A connection waiting for (or past) its PROXY header; only on listeners with --proxy-protocol. */
export interface ProxyState {
  /** Bytes of an incomplete header, gathered across reads; null once none are pending. */
  pending: Uint8Array | null;
  /** The header, once complete. */
  header: ProxyHeader | null;
  /** The real peer (the load balancer), before the header named the client. */
  readonly via: string;
}

export type HeaderStep =
  | { readonly kind: "incomplete" }
  | { readonly kind: "ok"; readonly header: ProxyHeader; readonly rest: Uint8Array }
  | { readonly kind: "error"; readonly reason: Exclude<ProxyErrorReason, "timeout">; readonly detail: string; readonly seen: Uint8Array };

const INCOMPLETE: HeaderStep = { kind: "incomplete" };

/**
 * Feeds one read to the header parser: the bytes are gathered until the parser says the header
 * is complete (the rest of the read is payload to echo), or wrong (never echoed: the connection is
 * refused). "Not enough bytes yet" is a normal state, as the parser's.
 */
export function feedHeader(state: ProxyState, chunk: Uint8Array, mode: Exclude<ProxyMode, "off">): HeaderStep {
  const buf = state.pending ? concat(state.pending, chunk) : chunk;
  const r = parseProxyHeader(buf, mode);
  if (r.kind === "incomplete") {
    // Kept as a copy: Bun hands each read in a buffer of its own, but a view must not outlive it.
    state.pending = state.pending ? buf : chunk.slice();
    return INCOMPLETE;
  }
  state.pending = null;
  if (r.kind === "error") return { kind: "error", reason: r.reason, detail: r.detail, seen: buf };
  state.header = r.header;
  return { kind: "ok", header: r.header, rest: buf.subarray(r.length) };
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** The client a header names, when it names one (PROXY over TCP/UDP on IPv4/IPv6); else null. */
export function proxiedClient(h: ProxyHeader): { readonly address: string; readonly port: number } | null {
  if (h.command !== "proxy" || h.source === null || h.source.family === "unix") return null;
  return { address: h.source.address, port: h.source.port };
}
