// PROXY protocol version 2, the binary header (proxy-protocol.txt 2.2):
//   12-byte signature, ver_cmd (version 2 high nibble, command low), fam (family high, transport
//   low), len (uint16, network order), then `len` bytes: the address block, then TLVs.
// Every check is made as soon as its byte is in: a wrong signature byte, version, command, family
// or a length too short for the family fails before the rest arrives.

import { bytesRepr } from "../protocol/repr.ts";
import { formatIpv4, formatIpv6 } from "../net/index.ts";
import { INCOMPLETE, fail } from "./result.ts";
import { parseTlvs, utf8OrNull } from "./tlv.ts";
import type { ProxyAddress, ProxyFamily, ProxyHeader, ProxyParse, ProxyTransport } from "./types.ts";

export const V2_SIGNATURE = Uint8Array.of(0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a);
/** Signature, ver_cmd, fam, len. */
export const V2_FIXED_LENGTH = 16;

const FAMILIES: readonly ProxyFamily[] = ["unspec", "inet", "inet6", "unix"];
const TRANSPORTS: readonly ProxyTransport[] = ["unspec", "stream", "dgram"];
/** Section 2.2: 2*4 + 2*2 for IPv4, 2*16 + 2*2 for IPv6, 2*108 for UNIX. */
export const ADDRESS_BLOCK: Readonly<Record<ProxyFamily, number>> = { unspec: 0, inet: 12, inet6: 36, unix: 216 };
const UNIX_PATH = 108;

/** Parses a v2 header at the start of `buf`. */
export function parseV2(buf: Uint8Array): ProxyParse {
  const n = buf.length;
  const m = Math.min(n, 12);
  for (let i = 0; i < m; i++) {
    if (buf[i] !== V2_SIGNATURE[i]) return fail("bad-signature", `not a PROXY v2 signature: starts ${bytesRepr(buf, 0, Math.min(n, 16))}`);
  }
  if (n < 13) return INCOMPLETE;
  const verCmd = buf[12]!;
  // Section 2.2: the version "must always be sent as \x2 and the receiver must only accept this value".
  if (verCmd >> 4 !== 2) return fail("unsupported-version", `version ${verCmd >> 4}, only 2 exists`);
  const cmd = verCmd & 0x0f;
  // "Receivers must drop connections presenting unexpected values here."
  if (cmd > 1) return fail("unsupported-command", `command ${cmd}, only LOCAL (0) and PROXY (1) exist`);
  if (n < 14) return INCOMPLETE;
  const fam = buf[13]!;
  const family = FAMILIES[fam >> 4];
  const transport = TRANSPORTS[fam & 0x0f];
  // Other families and transports "must be rejected as invalid by receivers".
  if (family === undefined) return fail("bad-family", `address family ${fam >> 4} (byte 0x${hex(fam)}), only 0..3 exist`);
  if (transport === undefined) return fail("bad-family", `transport ${fam & 0x0f} (byte 0x${hex(fam)}), only 0..2 exist`);
  if (n < 16) return INCOMPLETE;
  const len = (buf[14]! << 8) | buf[15]!;
  let block = ADDRESS_BLOCK[family];
  if (len < block) {
    // For LOCAL the family "is ignored" (section 2.2), so a LOCAL header naming a family without
    // sending its addresses is still valid: what follows the fixed part is TLVs.
    if (cmd !== 0) return fail("bad-length", `length ${len} is shorter than the ${block}-byte ${family} address block`);
    block = 0;
  }
  const length = V2_FIXED_LENGTH + len;
  if (n < length) return INCOMPLETE;

  const raw = buf.slice(0, length);
  const tlvs = parseTlvs(raw, V2_FIXED_LENGTH + block);
  if (!Array.isArray(tlvs)) return tlvs;

  let source: ProxyAddress | null = null;
  let destination: ProxyAddress | null = null;
  const a = V2_FIXED_LENGTH;
  if (block === 0) {
    // AF_UNSPEC, or LOCAL without an address block.
  } else if (family === "inet") {
    source = { family, address: formatIpv4(raw, a), port: (raw[a + 8]! << 8) | raw[a + 9]! };
    destination = { family, address: formatIpv4(raw, a + 4), port: (raw[a + 10]! << 8) | raw[a + 11]! };
  } else if (family === "inet6") {
    source = { family, address: formatIpv6(raw, a), port: (raw[a + 32]! << 8) | raw[a + 33]! };
    destination = { family, address: formatIpv6(raw, a + 16), port: (raw[a + 34]! << 8) | raw[a + 35]! };
  } else if (family === "unix") {
    const s = raw.subarray(a, a + UNIX_PATH);
    const d = raw.subarray(a + UNIX_PATH, a + 2 * UNIX_PATH);
    source = { family, path: unixPath(s), sunPath: s };
    destination = { family, path: unixPath(d), sunPath: d };
  }

  const header: ProxyHeader = {
    version: 2,
    command: cmd === 0 ? "local" : "proxy",
    family,
    transport,
    source,
    destination,
    tlvs,
    raw,
  };
  return { kind: "ok", header, length };
}

/**
 * sun_path (unix(7)): a pathname ends at its first NUL; a leading NUL marks a Linux abstract
 * socket, shown "@name" as ss(8) does, its trailing NUL padding dropped.
 */
function unixPath(p: Uint8Array): string {
  let end: number;
  if (p[0] === 0) {
    end = p.length;
    while (end > 1 && p[end - 1] === 0) end--;
    if (end === 1) return "";
    return `@${decodePath(p.subarray(1, end))}`;
  }
  end = p.indexOf(0);
  return decodePath(p.subarray(0, end < 0 ? p.length : end));
}

const lossy = new TextDecoder("utf-8");

function decodePath(bytes: Uint8Array): string {
  return utf8OrNull(bytes) ?? lossy.decode(bytes);
}

function hex(b: number): string {
  return b.toString(16).padStart(2, "0");
}
