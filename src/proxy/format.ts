// Log forms of a parsed header: a one-line summary for the pretty log and a JSON-safe object. Call
// them only when the log line is written. Bytes from the network reach the pretty line only as
// printable ASCII or hex, so a header cannot forge a log line or a terminal escape.

import type { ProxyAddress, ProxyHeader, ProxySslSubTlv, ProxyTlv } from "./types.ts";

const SHOWN_MAX = 64;

export function toHex(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i++) s += (bytes[i]! < 16 ? "0" : "") + bytes[i]!.toString(16);
  return s;
}

function printable(bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; i++) if (bytes[i]! < 0x20 || bytes[i]! > 0x7e) return false;
  return true;
}

/** Printable ASCII as itself, anything else as hex; cut at `max` characters with "...". */
function shown(bytes: Uint8Array, max = SHOWN_MAX): string {
  const s = printable(bytes) ? String.fromCharCode(...bytes.subarray(0, max + 1)) : toHex(bytes.subarray(0, (max >> 1) + 1));
  return s.length > max ? `${s.slice(0, max)}...` : s;
}

/** "203.0.113.7:51234", "[2001:db8::1]:443" (RFC 5952 section 6), or a UNIX path. */
export function formatProxyAddress(a: ProxyAddress): string {
  if (a.family === "unix") {
    const bytes = new TextEncoder().encode(a.path);
    return printable(bytes) ? a.path : `hex:${toHex(bytes)}`;
  }
  return a.family === "inet" ? `${a.address}:${a.port}` : `[${a.address}]:${a.port}`;
}

/** "source -> destination" when the header carries endpoints to use; null for LOCAL and UNSPEC. */
export function formatProxyEndpoints(h: ProxyHeader): string | null {
  if (h.command !== "proxy" || h.source === null || h.destination === null) return null;
  return `${formatProxyAddress(h.source)} -> ${formatProxyAddress(h.destination)}`;
}

function sslSub(s: ProxySslSubTlv): string {
  if (s.name === "client-cert") return `client-cert=${s.value.length}B`;
  if (s.name === "unknown") return `0x${s.type.toString(16)}=${shown(s.value)}`;
  return `${s.name}=${shown(s.value)}`;
}

function tlvItem(t: ProxyTlv): string {
  switch (t.name) {
    case "alpn":
    case "authority":
    case "netns":
    case "unique-id":
      return `${t.name} ${shown(t.value, t.name === "unique-id" ? 256 : SHOWN_MAX)}`;
    case "crc32c":
      return "crc32c ok";
    case "noop":
      return `noop ${t.value.length}B`;
    case "ssl":
      return ["ssl", `client=0x${t.client.toString(16).padStart(2, "0")}`, `verify=${t.verify}`, ...t.sub.map(sslSub)].join(" ");
    case "aws":
      return t.vpceId !== null ? `aws-vpce-id ${shown(t.value.subarray(1))}` : `aws ${shown(t.value)}`;
    case "azure":
      return t.linkId !== null ? `azure-link-id ${t.linkId}` : `azure ${toHex(t.value)}`;
    case "gcp":
      return t.pscConnectionId !== null ? `gcp-psc-id ${t.pscConnectionId}` : `gcp ${toHex(t.value)}`;
    case "unknown":
      return `tlv 0x${t.type.toString(16).padStart(2, "0")} ${t.value.length > 0 ? toHex(t.value.subarray(0, 32)) + (t.value.length > 32 ? "..." : "") : "(empty)"}`;
  }
}

/** "PROXY v2, unique-id ..., authority example.com": version, command, then the TLVs in order. */
export function formatProxyDetails(h: ProxyHeader): string {
  let head = `PROXY v${h.version}`;
  if (h.transport === "dgram") head += " dgram";
  if (h.command === "local") head += " LOCAL";
  else if (h.family === "unspec") head += h.version === 1 ? " UNKNOWN" : " UNSPEC";
  return [head, ...h.tlvs.map(tlvItem)].join(", ");
}

/**
 * One line: "203.0.113.7:51234 -> 10.0.0.5:443 (PROXY v2, authority example.com)", or just the
 * details when the header carries no endpoints to use ("PROXY v2 LOCAL, crc32c ok").
 */
export function formatProxySummary(h: ProxyHeader): string {
  const endpoints = formatProxyEndpoints(h);
  const details = formatProxyDetails(h);
  return endpoints === null ? details : `${endpoints} (${details})`;
}

export type ProxyAddressJson = { address: string; port: number } | { path: string };

export interface ProxyTlvJson {
  type: number;
  name: string;
  hex: string;
  /** The decoded value where there is one: text, the checksum, the id. */
  value?: string | number | null;
  subtype?: number | null;
  client?: number;
  client_flags?: string[];
  verify?: number;
  sub?: ProxyTlvJson[];
}

export interface ProxyHeaderJson {
  version: 1 | 2;
  command: string;
  family: string;
  transport: string;
  source: ProxyAddressJson | null;
  destination: ProxyAddressJson | null;
  tlvs: ProxyTlvJson[];
}

function addressJson(a: ProxyAddress | null): ProxyAddressJson | null {
  if (a === null) return null;
  return a.family === "unix" ? { path: a.path } : { address: a.address, port: a.port };
}

function tlvJson(t: ProxyTlv): ProxyTlvJson {
  const base = { type: t.type, name: t.name, hex: toHex(t.value) };
  switch (t.name) {
    case "alpn":
    case "authority":
    case "netns":
      return { ...base, value: t.text };
    case "unique-id":
      return { ...base, value: printable(t.value) ? String.fromCharCode(...t.value) : null };
    case "crc32c":
      return { ...base, value: t.checksum };
    case "noop":
    case "unknown":
      return base;
    case "ssl": {
      const flags: string[] = [];
      if (t.client & 0x01) flags.push("ssl");
      if (t.client & 0x02) flags.push("cert-conn");
      if (t.client & 0x04) flags.push("cert-sess");
      const sub = t.sub.map((s): ProxyTlvJson => ({ type: s.type, name: s.name, hex: toHex(s.value), value: s.text }));
      return { ...base, client: t.client, client_flags: flags, verify: t.verify, sub };
    }
    case "aws":
      return { ...base, subtype: t.subtype, value: t.vpceId };
    case "azure":
      return { ...base, subtype: t.subtype, value: t.linkId };
    case "gcp":
      // A uint64 is not a safe JSON number: decimal text.
      return { ...base, value: t.pscConnectionId === null ? null : t.pscConnectionId.toString() };
  }
}

/** A JSON-safe object: TLVs with names, binary values as hex, 64-bit ids as decimal strings. */
export function proxyHeaderJson(h: ProxyHeader): ProxyHeaderJson {
  return {
    version: h.version,
    command: h.command,
    family: h.family,
    transport: h.transport,
    source: addressJson(h.source),
    destination: addressJson(h.destination),
    tlvs: h.tlvs.map(tlvJson),
  };
}
