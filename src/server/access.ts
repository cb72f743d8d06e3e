import { formatIp, parseIp, type Family } from "../net/index.ts";

/** An IPv4 or IPv6 network, e.g. 10.0.0.0/8 or 2001:db8::/32; `text` is how the user wrote it. */
export interface Cidr {
  readonly text: string;
  readonly family: Family;
  /** The network's address bytes (4 or 16), host bits zero. */
  readonly bytes: Uint8Array;
  readonly prefix: number;
}

export interface AccessConfig {
  /** Only these may connect; null = everyone (that --deny does not refuse). */
  readonly allow: readonly Cidr[] | null;
  /** Refused; deny wins over allow. */
  readonly deny: readonly Cidr[];
  /** Open connections from one address (IPv4) or one IPv6 prefix; 0 = unlimited. */
  readonly maxPerIp: number;
  /**
   * How --max-per-ip groups IPv6 peers: by their first N bits. One /64 is one subscriber (RFC 6177:
   * an end site gets at least a /64, and its hosts pick their own addresses within it).
   */
  readonly perIpPrefix6: number;
}

/** Whether `bytes` (of the same family) lies within the first `prefix` bits of `net`. */
function within(bytes: Uint8Array, net: Uint8Array, prefix: number): boolean {
  let bits = prefix;
  for (let i = 0; bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if ((bytes[i]! & mask) !== net[i]) return false;
  }
  return true;
}

/**
 * "10.0.0.0/8", "2001:db8::/32", or a bare address (a /32 or /128); null when malformed or when
 * host bits are set (10.0.0.1/8 is refused as the likely typo it is).
 */
export function parseCidr(text: string): Cidr | null {
  const [addr = "", bits, extra] = text.trim().split("/");
  if (extra !== undefined) return null;
  const ip = parseIp(addr);
  if (!ip) return null;
  const max = ip.family === 4 ? 32 : 128;
  let prefix = max;
  if (bits !== undefined) {
    if (!/^\d{1,3}$/.test(bits)) return null;
    prefix = Number(bits);
    if (prefix > max) return null;
  }
  const masked = new Uint8Array(ip.bytes.length);
  for (let i = 0, b = prefix; i < masked.length; i++, b -= 8) masked[i] = ip.bytes[i]! & (b >= 8 ? 0xff : b > 0 ? (0xff << (8 - b)) & 0xff : 0);
  if (!ip.bytes.every((v, i) => v === masked[i])) return null;
  return { text: text.trim(), family: ip.family, bytes: masked, prefix };
}

function match(list: readonly Cidr[], family: Family, bytes: Uint8Array): Cidr | null {
  for (const c of list) if (c.family === family && within(bytes, c.bytes, c.prefix)) return c;
  return null;
}

/**
 * Why an address is refused ("--deny 127.0.0.2/32", "not in --allow 10.0.0.0/8"), or null when it
 * may connect. `address` is the peer as shown: an IPv4 peer of a dual-stack socket is already its
 * IPv4 address (unmapIpv4), so IPv4 rules apply to it.
 */
export function refusal(access: AccessConfig, address: string): string | null {
  const ip = parseIp(address);
  if (!ip) return "not an IP peer";
  const denied = match(access.deny, ip.family, ip.bytes);
  if (denied) return `--deny ${denied.text}`;
  if (access.allow && !match(access.allow, ip.family, ip.bytes)) return `not in --allow ${access.allow.map((c) => c.text).join(",")}`;
  return null;
}

/** What --max-per-ip counts an address under: itself (IPv4), or its IPv6 prefix ("2001:db8::/64"). */
export function perIpKey(address: string, prefix6: number): string {
  if (!address.includes(":")) return address;
  const ip = parseIp(address);
  if (!ip || prefix6 >= 128) return address;
  const masked = new Uint8Array(16);
  for (let i = 0, b = prefix6; i < 16; i++, b -= 8) masked[i] = ip.bytes[i]! & (b >= 8 ? 0xff : b > 0 ? (0xff << (8 - b)) & 0xff : 0);
  return `${formatIp(masked)}/${prefix6}`;
}
