// The client's output lines, modelled on ping(8): one line per round trip, then a summary. Payload
// previews are Python bytes reprs, so no byte from the network can forge a line or a terminal escape.
import type { ClientSocketOptions, Connected } from "../net/index.ts";
import { previewRepr } from "../protocol/repr.ts";
import type { RecordsOutcome, RecordTracker } from "./match.ts";
import type { ClientOptions } from "./options.ts";
import { recordRepr, type PackedRecord } from "./record.ts";
import type { RttStats } from "./rtt.ts";
import type { EchoStream } from "./stream.ts";

const ms3 = (ms: number) => ms.toFixed(3);

export function connected(peer: string, c: Connected): string {
  return `connected to ${peer} in ${c.connectMs.toFixed(2)} ms (local ${c.local.host}:${c.local.port})`;
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
  return `seq=${seq} timed out after ${o.timeout} s waiting for the echo: ${got.length} of ${o.message.length} B back${got.length ? ` ${previewRepr(got)}` : ""}`;
}

export function lost(seq: number, peer: string, doing: string, s: EchoStream): string {
  const how = s.error ? `failed (${s.error.message})` : s.finAt !== null ? `closed by ${peer}` : "closed";
  const got = s.peek();
  return `seq=${seq} connection ${how} while ${doing}${got.length ? `: ${got.length} B back ${previewRepr(got)}` : ""}`;
}

const back = (tail: Uint8Array) => `${tail.length} B came back${tail.length ? ` ${previewRepr(tail)}` : ""}`;

export function halfClose(fin: boolean, tail: Uint8Array, timeout: number): string {
  return fin
    ? `half-close: FIN sent; ${back(tail)} before the server's FIN`
    : `half-close: FIN sent; timed out after ${timeout} s waiting for the server's FIN (${back(tail)})`;
}

export function closedEarly(s: EchoStream, tail: Uint8Array): string {
  return `half-close: not sent, the connection was already closed${s.error ? ` (${s.error.message})` : ""}; ${back(tail)}`;
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
