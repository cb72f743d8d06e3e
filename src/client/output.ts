// The client's output lines, modelled on ping(8): one line per round trip, then a summary. Payload
// previews are Python bytes reprs, so no byte from the network can forge a line or a terminal escape.
import { formatAddress, type ClientSocketOptions, type Connected } from "../net/index.ts";
import type { DialFailure } from "../net/dial.ts";
import type { ResolvedHost } from "../net/resolve.ts";
import { previewRepr } from "../protocol/repr.ts";
import { errorText } from "../log/error-text.ts";
import type { RecordsOutcome, RecordTracker } from "./match.ts";
import type { ClientOptions } from "./options.ts";
import { recordRepr, type PackedRecord } from "./record.ts";
import type { RttStats } from "./rtt.ts";
import type { EchoStream } from "./stream.ts";

const ms3 = (ms: number) => ms.toFixed(3);

/** A name's addresses, in the order they are tried (printed for names only: an address is itself). */
export function resolved(r: ResolvedHost, ms: number): string {
  const list = r.addresses.join(", ");
  return r.fallback
    ? `${r.host}: the resolver has no address for it; using the loopback addresses ${list} (RFC 6761)`
    : `${r.host} resolved to ${list} in ${ms.toFixed(2)} ms`;
}

export function retry(f: DialFailure, next: string): string {
  return `connect to ${f.address} failed: ${f.reason}; trying ${next}`;
}

export function connected(peer: string, c: Connected): string {
  return `connected to ${peer} in ${c.connectMs.toFixed(2)} ms (local ${formatAddress(c.local)})`;
}

/** The options as the kernel holds them; buffer sizes show what was asked (the kernel doubles it). */
export function options(s: ClientSocketOptions, o: ClientOptions): string {
  const asked = (v: number | null) => (v === null ? "" : ` (asked ${v})`);
  return [
    `socket: TCP_NODELAY ${s.nodelay ? "on" : "off"}`,
    `TCP_SYNCNT ${s.synRetries}${o.synRetries === null ? " (kernel default)" : ""}`,
    `SO_RCVBUF ${s.recvBuf}${asked(o.recvBuf)}`,
    `SO_SNDBUF ${s.sendBuf}${asked(o.sendBuf)}`,
  ].join(", ");
}

export function echo(seq: number, peer: string, ms: number, reply: Uint8Array, expected: Uint8Array | null): string {
  const base = `seq=${seq} ${reply.length} B from ${peer} time=${ms3(ms)} ms ${previewRepr(reply)}`;
  return expected === null ? base : `${base} MISMATCH: sent ${expected.length} B ${previewRepr(expected)}`;
}

export function record(seq: number, r: PackedRecord): string {
  return `seq=${seq} record ${r.bytes.length} B sent ${recordRepr(r)}`;
}

export function timedOut(seq: number, o: ClientOptions, s: EchoStream): string {
  const got = s.peek();
  // After an echo came back whole, getting back nothing or only the end of the message is what a
  // record-decoding server does: the bytes after a line are its record, and it does not echo them.
  const hint =
    seq > 1 && o.record === null && isTail(got, o.message)
      ? " (a server that decodes records, such as tcp-echo --record, takes the bytes after each line as a record and does not echo them: send one with --record and --values)"
      : "";
  return `seq=${seq} timed out after ${o.timeout} s waiting for the echo: ${got.length} of ${o.message.length} B back${got.length ? ` ${previewRepr(got)}` : ""}${hint}`;
}

export function lost(seq: number, peer: string, doing: string, s: EchoStream): string {
  const how = s.error ? `failed (${errorText(s.error)})` : s.finAt !== null ? `closed by ${peer}` : "closed";
  const got = s.peek();
  return `seq=${seq} connection ${how} while ${doing}${got.length ? `: ${got.length} B back ${previewRepr(got)}` : ""}`;
}

/** `part` is the last bytes of `whole` (or nothing). */
function isTail(part: Uint8Array, whole: Uint8Array): boolean {
  if (part.length >= whole.length) return false;
  const off = whole.length - part.length;
  for (let i = 0; i < part.length; i++) if (part[i] !== whole[off + i]) return false;
  return true;
}

const secs = (ms: number) => `${(ms / 1000).toFixed(3)} s`;

/**
 * When the server ended the connection, against the last byte each way: what a person testing
 * idle timeouts wants to see ("the server's FIN came 1.000 s after the last byte it sent").
 */
export function serverEnd(s: EchoStream): string | null {
  if (s.finAt === null) return null;
  const what = s.error ? `reset (${errorText(s.error)})` : "FIN";
  const parts: string[] = [];
  if (s.lastRecvAt !== null) parts.push(`${secs(s.finAt - s.lastRecvAt)} after the last byte it sent`);
  if (s.lastSendBeforeFin !== null) parts.push(`${secs(s.finAt - s.lastSendBeforeFin)} after our last byte`);
  if (s.ourFinAt !== null && s.ourFinAt <= s.finAt) parts.push(`${secs(s.finAt - s.ourFinAt)} after our FIN`);
  const late = s.firstSendAfterFin === null ? "" : `; we sent again ${secs(s.firstSendAfterFin - s.finAt)} after it`;
  return `the server's ${what} came ${parts.length ? parts.join(", ") : "before any byte either way"}${late}`;
}

const back = (tail: Uint8Array) => `${tail.length} B came back${tail.length ? ` ${previewRepr(tail)}` : ""}`;

export function halfClose(fin: boolean, tail: Uint8Array, timeout: number, serverFirst: boolean): string {
  if (serverFirst) return `half-close: FIN sent after the server's own; ${back(tail)}`;
  return fin
    ? `half-close: FIN sent; ${back(tail)} before the server's FIN`
    : `half-close: FIN sent; timed out after ${timeout} s waiting for the server's FIN (${back(tail)})`;
}

export function closedEarly(s: EchoStream, tail: Uint8Array): string {
  return `half-close: not sent, the connection was already closed${s.error ? ` (${errorText(s.error)})` : ""}; ${back(tail)}`;
}

export function records(r: RecordTracker, outcome: RecordsOutcome): string {
  const what = `records: ${r.count} sent`;
  switch (outcome) {
    case "echoed":
      return `${what}, echoed back (a plain echo server, or tcp-echo with stream framing)`;
    case "not-echoed":
      return `${what}, none echoed (tcp-echo with interleaved framing decodes them)`;
    case "unexpected":
      return `${what}; what came back after the last echo is neither the records nor nothing`;
  }
}

export function unexpectedTail(tail: Uint8Array): string {
  return `unexpected: ${tail.length} B came back after the last echo that were never sent`;
}

export interface Counts {
  readonly sent: number;
  readonly echoed: number;
  readonly mismatched: number;
  readonly timedOut: number;
  readonly stats: RttStats | null;
}

export function summary(peer: string, c: Counts): string[] {
  const rtt = c.stats ? `; rtt min/avg/max/p99 = ${[c.stats.min, c.stats.avg, c.stats.max, c.stats.p99].map(ms3).join("/")} ms` : "";
  return [
    `--- ${peer} tcp-echo client statistics ---`,
    `${c.sent} sent, ${c.echoed} echoed, ${c.mismatched} mismatched, ${c.timedOut} timed out${rtt}`,
  ];
}
