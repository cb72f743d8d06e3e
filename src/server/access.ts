import { parseIpv4 } from "../net/index.ts";

/** An IPv4 network, e.g. 10.0.0.0/8; `text` is how the user wrote it (for logs). */
export interface Cidr {
  readonly text: string;
  readonly base: number;
  readonly mask: number;
}

export interface AccessConfig {
  /** Only these may connect; null = everyone (that --deny does not refuse). */
  readonly allow: readonly Cidr[] | null;
  /** Refused; deny wins over allow. */
  readonly deny: readonly Cidr[];
  /** Open connections from one address; 0 = unlimited. */
  readonly maxPerIp: number;
}

export function ipv4ToInt(ip: string): number | null {
  const b = parseIpv4(ip);
  return b ? ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0 : null;
}

/** "10.0.0.0/8" or a bare address (a /32); null when malformed. Host bits must be zero. */
export function parseCidr(text: string): Cidr | null {
  const [addr = "", bits, extra] = text.trim().split("/");
  if (extra !== undefined) return null;
  const ip = ipv4ToInt(addr);
  if (ip === null) return null;
  let prefix = 32;
  if (bits !== undefined) {
    if (!/^\d{1,2}$/.test(bits)) return null;
    prefix = Number(bits);
    if (prefix > 32) return null;
  }
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  if ((ip & mask) >>> 0 !== ip) return null;
  return { text: text.trim(), base: ip, mask };
}

function match(list: readonly Cidr[], ip: number): Cidr | null {
  for (const c of list) if (((ip & c.mask) >>> 0) === c.base) return c;
  return null;
}

/** Why an address is refused ("deny 127.0.0.2/32", "not in --allow"), or null when it may connect. */
export function refusal(access: AccessConfig, address: string): string | null {
  const ip = ipv4ToInt(address);
  if (ip === null) return "not an IPv4 peer";
  const denied = match(access.deny, ip);
  if (denied) return `--deny ${denied.text}`;
  if (access.allow && !match(access.allow, ip)) return `not in --allow ${access.allow.map((c) => c.text).join(",")}`;
  return null;
}
