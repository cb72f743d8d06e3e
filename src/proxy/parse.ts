// The entry point for a data handler: call it with everything received so far on a connection,
// after each segment, until it answers "ok" or "error". It never throws and keeps no state, so
// the caller owns the accumulation; the work per call is bounded by the header (at most 107 bytes
// of v1, 16 + 65535 of v2), never by what follows it.

import { bytesRepr } from "../protocol/repr.ts";
import { INCOMPLETE, fail } from "./result.ts";
import type { ProxyAccept, ProxyParse } from "./types.ts";
import { parseV1 } from "./v1.ts";
import { parseV2 } from "./v2.ts";

const P = 0x50; // "PROXY" starts v1
const CR = 0x0d; // the v2 signature starts "\r\n\r\n"

/**
 * Parses a PROXY header at the start of `buf`. `accept` is what the listener is configured for;
 * section 2 says a receiver "MUST not try to guess whether the protocol header is present", so a
 * connection that does not start with an accepted header is an error from its first byte.
 */
export function parseProxyHeader(buf: Uint8Array, accept: ProxyAccept): ProxyParse {
  if (buf.length === 0) return INCOMPLETE;
  const first = buf[0]!;
  if (first === CR && accept !== "v1") return parseV2(buf);
  if (first === P && accept !== "v2") return parseV1(buf);
  // The first byte already rules out every accepted version.
  const start = bytesRepr(buf, 0, Math.min(buf.length, 16));
  if (first === P) return fail("bad-signature", `a PROXY v1 line where only v2 is accepted: starts ${start}`);
  if (first === CR && parseV2(buf.subarray(0, Math.min(buf.length, 12))).kind === "incomplete") {
    return fail("bad-signature", `a PROXY v2 signature where only v1 is accepted: starts ${start}`);
  }
  const expected = accept === "v1" ? "a PROXY v1 line" : accept === "v2" ? "a PROXY v2 signature" : "a PROXY header";
  return fail("bad-signature", `not ${expected}: starts ${start}`);
}
