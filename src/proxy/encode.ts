// Builds PROXY headers for our client and load generator, byte-exact per proxy-protocol.txt. Bad
// input (not an address, a port out of range, a value too long for its length field) throws a
// TypeError or RangeError: the CLI validates user input before it gets here.

import { crc32c } from "./crc32c.ts";
import { asciiBytes, formatIpv4, formatIpv6, parseIpv4Into, parseIpv6Into } from "../net/index.ts";
import { PP2_TYPE_CRC32C } from "./tlv.ts";
import type { ProxyCommand, ProxyFamily, ProxyHeader, ProxyTransport } from "./types.ts";
import { ADDRESS_BLOCK, V2_FIXED_LENGTH, V2_SIGNATURE } from "./v2.ts";

/**
 * An IP endpoint (IPv4 dotted quad or IPv6 text, no brackets), or a UNIX socket path ("@" =
 * abstract); a `sunPath` of 108 bytes, as a parsed header carries, is written as is instead.
 */
export type ProxyEndpoint =
  | { readonly address: string; readonly port: number }
  | { readonly path: string; readonly sunPath?: Uint8Array };

export interface ProxyTlvInit {
  readonly type: number;
  /** Bytes, or text written as UTF-8. */
  readonly value: Uint8Array | string;
}

export interface ProxyV1Init {
  /** Both absent or null: "PROXY UNKNOWN\r\n". */
  readonly source?: ProxyEndpoint | null;
  readonly destination?: ProxyEndpoint | null;
}

export interface ProxyV2Init {
  /** Default "proxy". */
  readonly command?: ProxyCommand;
  /** Default "stream" with addresses, "unspec" without. */
  readonly transport?: ProxyTransport;
  /** Both or neither; without them no address block is sent and the family is `family`. */
  readonly source?: ProxyEndpoint | null;
  readonly destination?: ProxyEndpoint | null;
  /**
   * The family nibble when no addresses are given (default "unspec"): a LOCAL header may name a
   * family without an address block. With addresses the family follows them.
   */
  readonly family?: ProxyFamily;
  /** Written in order, values as given (a CRC32C TLV here is written as is, right or wrong). */
  readonly tlvs?: readonly ProxyTlvInit[];
  /** Append a PP2_TYPE_CRC32C TLV holding the checksum of the whole header (section 2.2.3). */
  readonly crc32c?: boolean;
}

interface IpEndpoint {
  readonly v6: boolean;
  readonly bytes: Uint8Array; // 4 or 16
  readonly port: number;
}

function ipEndpoint(e: ProxyEndpoint, role: string): IpEndpoint {
  if ("path" in e) throw new TypeError(`${role}: a UNIX path cannot go in a PROXY v1 line`);
  const { address, port } = e;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError(`${role} port ${port} is not 0..65535`);
  const text = asciiBytes(address);
  const v4 = new Uint8Array(4);
  if (parseIpv4Into(text, 0, text.length, v4, 0)) return { v6: false, bytes: v4, port };
  const v6 = new Uint8Array(16);
  if (parseIpv6Into(text, 0, text.length, v6)) return { v6: true, bytes: v6, port };
  throw new TypeError(`${role} address ${JSON.stringify(address)} is neither IPv4 nor IPv6`);
}

/** IPv4 as an IPv4-mapped IPv6 address (RFC 4291 2.5.5.2), as HAProxy sends a mixed pair. */
function asV6(e: IpEndpoint): IpEndpoint {
  if (e.v6) return e;
  const bytes = new Uint8Array(16);
  bytes[10] = 0xff;
  bytes[11] = 0xff;
  bytes.set(e.bytes, 12);
  return { v6: true, bytes, port: e.port };
}

function pair(source: ProxyEndpoint, destination: ProxyEndpoint): [IpEndpoint, IpEndpoint] {
  let s = ipEndpoint(source, "source");
  let d = ipEndpoint(destination, "destination");
  if (s.v6 !== d.v6) {
    s = asV6(s);
    d = asV6(d);
  }
  return [s, d];
}

function bothOrNeither(source: unknown, destination: unknown): boolean {
  const has = source != null;
  if (has !== (destination != null)) throw new TypeError("give both source and destination, or neither");
  return has;
}

/** A v1 line: "PROXY TCP4|TCP6 src dst sport dport\r\n" with canonical addresses, or UNKNOWN. */
export function encodeProxyV1(init: ProxyV1Init = {}): Uint8Array {
  if (!bothOrNeither(init.source, init.destination)) return asciiBytes("PROXY UNKNOWN\r\n");
  const [s, d] = pair(init.source!, init.destination!);
  const fmt = (e: IpEndpoint) => (e.v6 ? formatIpv6(e.bytes) : formatIpv4(e.bytes));
  return asciiBytes(`PROXY ${s.v6 ? "TCP6" : "TCP4"} ${fmt(s)} ${fmt(d)} ${s.port} ${d.port}\r\n`);
}

const utf8 = new TextEncoder();
const TRANSPORT_CODE: Record<ProxyTransport, number> = { unspec: 0, stream: 1, dgram: 2 };
const FAMILY_CODE: Record<ProxyFamily, number> = { unspec: 0, inet: 1, inet6: 2, unix: 3 };
const UNIX_PATH = 108;

function unixPath(e: ProxyEndpoint, role: string): Uint8Array {
  if (!("path" in e)) throw new TypeError(`${role}: both endpoints must be UNIX paths, or both IP`);
  if (e.sunPath !== undefined) {
    if (e.sunPath.length !== UNIX_PATH) throw new RangeError(`${role} sunPath is ${e.sunPath.length} bytes, must be ${UNIX_PATH}`);
    return e.sunPath;
  }
  const out = new Uint8Array(UNIX_PATH);
  // "@name" is a Linux abstract socket: sun_path starts with a NUL (unix(7)).
  const bytes = e.path.startsWith("@") ? utf8.encode(`\0${e.path.slice(1)}`) : utf8.encode(e.path);
  if (bytes.length > UNIX_PATH) throw new RangeError(`${role} path is ${bytes.length} bytes, sun_path holds ${UNIX_PATH}`);
  out.set(bytes);
  return out;
}

/** A v2 header, byte-exact: signature, ver_cmd, fam, len, address block, TLVs. */
export function encodeProxyV2(init: ProxyV2Init = {}): Uint8Array {
  const command = init.command ?? "proxy";
  let famCode = FAMILY_CODE[init.family ?? "unspec"];
  let addresses: Uint8Array = new Uint8Array(0);
  if (bothOrNeither(init.source, init.destination)) {
    const source = init.source!;
    const destination = init.destination!;
    if ("path" in source || "path" in destination) {
      famCode = 3;
      addresses = new Uint8Array(ADDRESS_BLOCK.unix);
      addresses.set(unixPath(source, "source"), 0);
      addresses.set(unixPath(destination, "destination"), UNIX_PATH);
    } else {
      const [s, d] = pair(source, destination);
      const w = s.v6 ? 16 : 4;
      famCode = s.v6 ? 2 : 1;
      addresses = new Uint8Array(2 * w + 4);
      addresses.set(s.bytes, 0);
      addresses.set(d.bytes, w);
      const view = new DataView(addresses.buffer);
      view.setUint16(2 * w, s.port);
      view.setUint16(2 * w + 2, d.port);
    }
  }
  const transport = init.transport ?? (addresses.length === 0 ? "unspec" : "stream");

  const values = (init.tlvs ?? []).map((t) => {
    if (!Number.isInteger(t.type) || t.type < 0 || t.type > 255) throw new RangeError(`TLV type ${t.type} is not 0..255`);
    const value = typeof t.value === "string" ? utf8.encode(t.value) : t.value;
    if (value.length > 0xffff) throw new RangeError(`TLV 0x${t.type.toString(16)} value is ${value.length} bytes, at most 65535`);
    return { type: t.type, value };
  });
  if (init.crc32c) values.push({ type: PP2_TYPE_CRC32C, value: new Uint8Array(4) });
  const len = addresses.length + values.reduce((sum, t) => sum + 3 + t.value.length, 0);
  if (len > 0xffff) throw new RangeError(`header body is ${len} bytes, the length field holds at most 65535`);

  const out = new Uint8Array(V2_FIXED_LENGTH + len);
  out.set(V2_SIGNATURE, 0);
  out[12] = 0x20 | (command === "local" ? 0 : 1);
  out[13] = (famCode << 4) | TRANSPORT_CODE[transport];
  out[14] = len >> 8;
  out[15] = len & 0xff;
  out.set(addresses, V2_FIXED_LENGTH);
  let at = V2_FIXED_LENGTH + addresses.length;
  for (const t of values) {
    out[at] = t.type;
    out[at + 1] = t.value.length >> 8;
    out[at + 2] = t.value.length & 0xff;
    out.set(t.value, at + 3);
    at += 3 + t.value.length;
  }
  if (init.crc32c) {
    // The field was written as zeros; the checksum covers the whole header with it zeroed.
    new DataView(out.buffer).setUint32(out.length - 4, crc32c(out));
  }
  return out;
}

/** Re-encodes a parsed header: TLVs are written back from their bytes, in order. */
export function encodeProxyHeader(header: ProxyHeader): Uint8Array {
  if (header.version === 1) return encodeProxyV1({ source: header.source, destination: header.destination });
  return encodeProxyV2({
    command: header.command,
    family: header.family,
    transport: header.transport,
    source: header.source,
    destination: header.destination,
    tlvs: header.tlvs,
  });
}
