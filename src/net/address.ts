import { libc, ptr } from "./libc.ts";
import { check } from "./errno.ts";
import { AF_INET, AF_INET6 } from "./constants.ts";
import { formatIpv4, formatIpv6, parseIpv4Into, parseIpv6Into } from "./ip.ts";
import { scratch } from "./sockopt.ts";

export type Family = 4 | 6;

/** A socket address: `host` is the address's canonical text (IPv6 without brackets). */
export interface SockAddress {
  readonly family: Family;
  readonly host: string;
  readonly port: number;
}

/** @deprecated name kept for readers of older code: every address may be IPv6 now. */
export type Ipv4Address = SockAddress;

const encoder = new TextEncoder();

/** Dotted-quad IPv4 text to its 4 bytes, or null when the text is not exactly that. */
export function parseIpv4(text: string): Uint8Array | null {
  const b = encoder.encode(text);
  const out = new Uint8Array(4);
  return parseIpv4Into(b, 0, b.length, out, 0) ? out : null;
}

/** IPv6 text (RFC 4291 2.2, no brackets, no zone id) to its 16 bytes, or null. */
export function parseIpv6(text: string): Uint8Array | null {
  const b = encoder.encode(text);
  const out = new Uint8Array(16);
  return parseIpv6Into(b, 0, b.length, out) ? out : null;
}

/** An IP address of either family, with its bytes; null when the text is neither. */
export function parseIp(text: string): { readonly family: Family; readonly bytes: Uint8Array } | null {
  const v4 = parseIpv4(text);
  if (v4) return { family: 4, bytes: v4 };
  const v6 = parseIpv6(text);
  return v6 ? { family: 6, bytes: v6 } : null;
}

/** The canonical text of an address's bytes (RFC 5952 for IPv6). */
export function formatIp(bytes: Uint8Array): string {
  return bytes.length === 4 ? formatIpv4(bytes) : formatIpv6(bytes);
}

const MAPPED = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i;

/**
 * An IPv4 peer on a dual-stack IPv6 socket arrives as ::ffff:a.b.c.d (RFC 4291 2.5.5.2): it is
 * that IPv4 address, and is shown and matched as such.
 */
export function unmapIpv4(host: string): string {
  const m = MAPPED.exec(host);
  return m ? m[1]! : host;
}

/** "127.0.0.1:5555", "[::1]:5555" (RFC 3986 3.2.2: IPv6 in brackets before a port). */
export function hostPort(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

export function formatAddress(a: SockAddress): string {
  return hostPort(a.host, a.port);
}

/**
 * struct sockaddr_in (16 bytes) or sockaddr_in6 (28 bytes) for `host` (netinet/in.h): family in
 * host order, port and address in network order, flowinfo and scope id 0.
 */
export function encodeSockaddr(host: string, port: number): Uint8Array {
  const ip = parseIp(host);
  if (!ip) throw new TypeError(`not an IP address: ${host}`);
  const sa = new Uint8Array(ip.family === 4 ? 16 : 28);
  const view = new DataView(sa.buffer);
  view.setUint16(0, ip.family === 4 ? AF_INET : AF_INET6, true);
  view.setUint16(2, port, false);
  sa.set(ip.bytes, ip.family === 4 ? 4 : 8);
  return sa;
}

/** @deprecated use encodeSockaddr: it takes either family. */
export const encodeSockaddrIn = encodeSockaddr;

function decodeSockaddr(sa: Uint8Array): SockAddress {
  const view = new DataView(sa.buffer, sa.byteOffset, sa.byteLength);
  const port = view.getUint16(2, false);
  if (view.getUint16(0, true) === AF_INET6) return { family: 6, host: formatIpv6(sa, 8), port };
  return { family: 4, host: formatIpv4(sa, 4), port };
}

// sockaddr_storage-sized scratch (128 bytes) and its length, on explicit ArrayBuffers (sockopt.ts).
const saBuf = new Uint8Array(scratch(128));
const saLen = new Uint32Array(scratch(4));
// Taken once: both live on explicit ArrayBuffers, which do not move (sockopt.ts).
const saPtr = ptr(saBuf);
const saLenPtr = ptr(saLen);

function query(fn: (fd: number, sa: ReturnType<typeof ptr>, len: ReturnType<typeof ptr>) => number, fd: number, name: string): SockAddress {
  saLen[0] = 128;
  check(fn(fd, saPtr, saLenPtr), name);
  return decodeSockaddr(saBuf);
}

export function getSockName(fd: number): SockAddress {
  return query(libc.getsockname, fd, "getsockname");
}

export function getPeerName(fd: number): SockAddress {
  return query(libc.getpeername, fd, "getpeername");
}

/**
 * The peer of a connected socket, from one getpeername(2) (Bun's remoteAddress and remotePort make
 * one each, strace): an IPv4 peer (or, with `unmap`, an IPv4-mapped one) as one number, address x
 * 65536 + port (packedPeerText makes its text), so that a server naming every peer in its logs
 * makes no string for it (at info, the peer's string and its port's were most of what a connection
 * allocated); any other peer as "[v6]:port" text. null when getpeername(2) fails (ENOTCONN after
 * a reset).
 */
export function peerAddress(fd: number, unmap: boolean): number | string | null {
  saLen[0] = 128;
  if (libc.getpeername(fd, saPtr, saLenPtr) !== 0) return null;
  const b = saBuf;
  const port = (b[2]! << 8) | b[3]!;
  // sockaddr_in: the address at byte 4; sockaddr_in6: at byte 8, IPv4-mapped (RFC 4291 2.5.5.2)
  // when its first 10 bytes are 0 and the next two 0xff.
  if ((b[0]! | (b[1]! << 8)) !== AF_INET6) return packIpv4(b, 4, port);
  if (unmap && isMapped(b)) return packIpv4(b, 20, port);
  return hostPort(formatIpv6(b, 8), port);
}

function isMapped(b: Uint8Array): boolean {
  for (let i = 8; i < 18; i++) if (b[i] !== 0) return false;
  return b[18] === 0xff && b[19] === 0xff;
}

function packIpv4(b: Uint8Array, at: number, port: number): number {
  return (((b[at]! * 256 + b[at + 1]!) * 256 + b[at + 2]!) * 256 + b[at + 3]!) * 65536 + port;
}

/** "a.b.c.d:port" of a number peerAddress packed. */
export function packedPeerText(packed: number): string {
  const ip = Math.floor(packed / 65536);
  return `${ip >>> 24}.${(ip >>> 16) & 255}.${(ip >>> 8) & 255}.${ip & 255}:${packed % 65536}`;
}

/** 127.0.0.0/8 and ::1: only this machine can reach them. */
export function isLoopback(host: string): boolean {
  const ip = parseIp(host.replace(/^\[(.*)\]$/, "$1"));
  if (!ip) return host === "localhost";
  return ip.family === 4 ? host.startsWith("127.") : host === "::1" || /^::ffff:127\./i.test(host);
}
