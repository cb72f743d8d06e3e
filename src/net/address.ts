import { libc, ptr } from "./libc.ts";
import { check } from "./errno.ts";
import { AF_INET } from "./constants.ts";

export interface Ipv4Address {
  readonly host: string;
  readonly port: number;
}

/** Dotted-quad IPv4 text to its 4 bytes, or null when the text is not exactly that. */
export function parseIpv4(text: string): Uint8Array | null {
  const parts = text.split(".");
  if (parts.length !== 4) return null;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i]!;
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p)) return null;
    const n = Number(p);
    if (n > 255) return null;
    out[i] = n;
  }
  return out;
}

/** struct sockaddr_in (netinet/in.h): family in host order, port and address in network order. */
export function encodeSockaddrIn(host: string, port: number): Uint8Array {
  const ip = parseIpv4(host);
  if (!ip) throw new TypeError(`not an IPv4 address: ${host}`);
  const sa = new Uint8Array(16);
  const view = new DataView(sa.buffer);
  view.setUint16(0, AF_INET, true);
  view.setUint16(2, port, false);
  sa.set(ip, 4);
  return sa;
}

function decodeSockaddrIn(sa: Uint8Array): Ipv4Address {
  const view = new DataView(sa.buffer, sa.byteOffset, sa.byteLength);
  return { host: `${sa[4]}.${sa[5]}.${sa[6]}.${sa[7]}`, port: view.getUint16(2, false) };
}

export function getSockName(fd: number): Ipv4Address {
  const sa = new Uint8Array(16);
  const len = new Uint32Array([16]);
  check(libc.getsockname(fd, ptr(sa), ptr(len)), "getsockname");
  return decodeSockaddrIn(sa);
}

export function getPeerName(fd: number): Ipv4Address {
  const sa = new Uint8Array(16);
  const len = new Uint32Array([16]);
  check(libc.getpeername(fd, ptr(sa), ptr(len)), "getpeername");
  return decodeSockaddrIn(sa);
}
