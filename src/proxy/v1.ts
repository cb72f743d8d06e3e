// PROXY protocol version 1, the text line (proxy-protocol.txt 2.1):
//   "PROXY" SP ("TCP4" | "TCP6") SP src SP dst SP sport SP dport CRLF
//   "PROXY" SP "UNKNOWN" [SP anything-but-CRLF] CRLF
// at most 107 bytes with the CRLF. Decisions come as early as the bytes allow (section 2.1: "It is
// recommended to abort the connection as soon as possible"): a wrong byte of "PROXY ", of the
// protocol word, a byte no TCP4/TCP6 line can hold, or a lone CR or LF fails at once; the addresses
// and ports are decoded once the CRLF is in (section 2.1: "The receiver must wait for the CRLF
// sequence before starting to decode the addresses").

import { bytesRepr } from "../protocol/repr.ts";
import { formatIpv4, formatIpv6, parseIpv4Into, parseIpv6Into } from "../net/index.ts";
import { INCOMPLETE, fail } from "./result.ts";
import type { ProxyHeader, ProxyInetAddress, ProxyParse } from "./types.ts";

/** Longest v1 line, CRLF included: "PROXY UNKNOWN" with two full IPv6 addresses and ports. */
export const V1_MAX_LENGTH = 107;

const CR = 0x0d;
const LF = 0x0a;
const SP = 0x20;
const PREFIX = [0x50, 0x52, 0x4f, 0x58, 0x59, SP]; // "PROXY "
const TCP4 = [0x54, 0x43, 0x50, 0x34, SP]; // "TCP4 "
const TCP6 = [0x54, 0x43, 0x50, 0x36, SP]; // "TCP6 "
const UNKNOWN = [0x55, 0x4e, 0x4b, 0x4e, 0x4f, 0x57, 0x4e]; // "UNKNOWN"

/** Bytes a TCP4/TCP6 line may hold after the protocol word: hex digits, ':', '.', space. */
const ADDRESS_BYTE = (() => {
  const t = new Uint8Array(256);
  for (const c of "0123456789abcdefABCDEF:. ") t[c.charCodeAt(0)] = 1;
  return t;
})();

/** 0 when `buf[at..)` is a (possibly partial) match of `word`, else 1. */
function mismatch(buf: Uint8Array, at: number, word: readonly number[]): number {
  const n = Math.min(buf.length - at, word.length);
  for (let i = 0; i < n; i++) if (buf[at + i] !== word[i]) return 1;
  return 0;
}

type Proto = "tcp4" | "tcp6" | "unknown";

/** Parses a v1 header at the start of `buf`; `buf[0]` need not be checked by the caller. */
export function parseV1(buf: Uint8Array): ProxyParse {
  const n = buf.length;
  if (mismatch(buf, 0, PREFIX)) return fail("bad-signature", `not a PROXY header: starts ${bytesRepr(buf, 0, Math.min(n, 16))}`);
  if (n <= 6) return INCOMPLETE;

  // The protocol word, as soon as its first byte is in.
  let proto: Proto | null = null;
  const candidates = 3 - mismatch(buf, 6, TCP4) - mismatch(buf, 6, TCP6) - mismatch(buf, 6, UNKNOWN);
  if (candidates === 0) return fail("bad-v1", `unknown protocol in ${bytesRepr(buf, 0, Math.min(n, 16))} (TCP4, TCP6 or UNKNOWN)`);
  if (n >= 11 && !mismatch(buf, 6, TCP4)) proto = "tcp4";
  else if (n >= 11 && !mismatch(buf, 6, TCP6)) proto = "tcp6";
  else if (n >= 13 && !mismatch(buf, 6, UNKNOWN)) {
    if (n > 13 && buf[13] !== SP && buf[13] !== CR) return fail("bad-v1", `"UNKNOWN" must be followed by a space or CRLF`);
    proto = "unknown";
  }

  // The CRLF: its CR at index 105 at the latest.
  const limit = Math.min(n, V1_MAX_LENGTH - 1);
  let cr = -1;
  for (let i = 6; i < limit; i++) {
    const b = buf[i]!;
    if (b === CR) {
      cr = i;
      break;
    }
    if (b === LF) return fail("bad-v1", `LF without CR at byte ${i}`);
    if (proto !== null && proto !== "unknown" && i >= 11 && ADDRESS_BYTE[b] === 0) {
      return fail("bad-v1", `byte ${bytesRepr(buf, i, i + 1)} at ${i} cannot be part of a ${proto.toUpperCase()} line`);
    }
  }
  if (cr < 0) {
    if (n >= V1_MAX_LENGTH - 1) return fail("bad-v1", `no CRLF within ${V1_MAX_LENGTH} bytes`);
    return INCOMPLETE;
  }
  if (cr + 1 === n) return INCOMPLETE;
  if (buf[cr + 1] !== LF) return fail("bad-v1", `CR without LF at byte ${cr}`);
  if (proto === null) return fail("bad-v1", `line ends inside the protocol word: ${bytesRepr(buf, 0, cr + 2)}`);

  const length = cr + 2;
  const raw = buf.slice(0, length);
  if (proto === "unknown") {
    // Section 2.1: for UNKNOWN "the receiver must ignore anything presented before the CRLF".
    const header: ProxyHeader = {
      version: 1,
      command: "proxy",
      family: "unspec",
      transport: "unspec",
      source: null,
      destination: null,
      tlvs: [],
      raw,
    };
    return { kind: "ok", header, length };
  }

  // src SP dst SP sport SP dport, each field non-empty, single spaces.
  const starts = [11, 0, 0, 0];
  let field = 1;
  for (let i = 11; i < cr; i++) {
    if (raw[i] !== SP) continue;
    if (field === 4) return fail("bad-v1", `more than four fields after ${proto.toUpperCase()}`);
    starts[field++] = i + 1;
  }
  if (field !== 4) return fail("bad-v1", `${field} fields after ${proto.toUpperCase()}, need source, destination and two ports`);
  const ends = [starts[1]! - 1, starts[2]! - 1, starts[3]! - 1, cr];
  for (let f = 0; f < 4; f++) {
    if (ends[f]! <= starts[f]!) return fail("bad-v1", `empty field ${f + 1} (fields are separated by exactly one space)`);
  }

  const v6 = proto === "tcp6";
  const addr = new Uint8Array(16);
  const source = address(raw, starts[0]!, ends[0]!, v6, addr);
  if (source === null) return fail("bad-v1", `source address ${text(raw, starts[0]!, ends[0]!)} is not ${v6 ? "IPv6" : "IPv4"}`);
  const destination = address(raw, starts[1]!, ends[1]!, v6, addr);
  if (destination === null) {
    return fail("bad-v1", `destination address ${text(raw, starts[1]!, ends[1]!)} is not ${v6 ? "IPv6" : "IPv4"}`);
  }
  const sport = port(raw, starts[2]!, ends[2]!);
  if (sport < 0) return fail("bad-v1", `source port ${text(raw, starts[2]!, ends[2]!)} is not 0..65535 without leading zeros`);
  const dport = port(raw, starts[3]!, ends[3]!);
  if (dport < 0) return fail("bad-v1", `destination port ${text(raw, starts[3]!, ends[3]!)} is not 0..65535 without leading zeros`);

  const family = v6 ? "inet6" : "inet";
  const header: ProxyHeader = {
    version: 1,
    command: "proxy",
    family,
    transport: "stream",
    source: { family, address: source, port: sport } satisfies ProxyInetAddress,
    destination: { family, address: destination, port: dport } satisfies ProxyInetAddress,
    tlvs: [],
    raw,
  };
  return { kind: "ok", header, length };
}

function address(raw: Uint8Array, start: number, end: number, v6: boolean, scratch: Uint8Array): string | null {
  if (v6) return parseIpv6Into(raw, start, end, scratch) ? formatIpv6(scratch) : null;
  return parseIpv4Into(raw, start, end, scratch, 0) ? formatIpv4(scratch) : null;
}

/** A decimal port 0..65535 without leading zeros (section 2.1), or -1. */
function port(raw: Uint8Array, start: number, end: number): number {
  const len = end - start;
  if (len > 5 || (len > 1 && raw[start] === 0x30)) return -1;
  let n = 0;
  for (let i = start; i < end; i++) {
    const d = raw[i]! - 0x30;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n <= 65535 ? n : -1;
}

/** A field for an error detail; only address bytes can get here, but quote it like any bytes. */
function text(raw: Uint8Array, start: number, end: number): string {
  return bytesRepr(raw, start, end);
}
