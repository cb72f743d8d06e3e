// The lines of `client --file`: what is sent, where the echo first differs (Python bytes reprs, so
// no byte from the network reaches the terminal raw), the half-close, and the summary.
import { errorText } from "../log/error-text.ts";
import { bytesRepr } from "../protocol/repr.ts";
import type { EchoStream } from "./stream.ts";

/** The first byte back that was not the byte sent at its offset, with a few bytes around it. */
export interface Mismatch {
  readonly at: number;
  /** Bytes just before `at`, equal on both sides (as many as the chunk that differed held). */
  readonly before: Uint8Array;
  /** From `at` on: what was sent there (empty: nothing had been sent there yet), and what came back. */
  readonly sent: Uint8Array;
  readonly got: Uint8Array;
}

export function sending(label: string, size: number | null): string {
  return size === null ? `sending ${label} until its end, then our FIN` : `sending ${label} (${size} B), then our FIN`;
}

export function mismatch(m: Mismatch): string[] {
  const from = m.at - m.before.length;
  const pre = m.before.length > 0 ? `${bytesRepr(m.before)} ` : "";
  if (m.sent.length === 0) {
    return [`mismatch at offset ${m.at}: bytes came back that were never sent`, `  got  from ${from}: ${pre}${bytesRepr(m.got)}`];
  }
  return [`mismatch at offset ${m.at}: the first byte back that differs from the byte sent`, `  sent from ${from}: ${pre}${bytesRepr(m.sent)}`, `  got  from ${from}: ${pre}${bytesRepr(m.got)}`];
}

export function stalled(timeout: number, sent: number, back: number): string {
  return `no echo for ${timeout} s: ${back} of ${sent} B back`;
}

export function lostWhileSending(peer: string, s: EchoStream, sent: number): string {
  const how = s.error ? `failed (${errorText(s.error)})` : `closed by ${peer}`;
  return `connection ${how} while sending, after ${sent} B`;
}

export function halfClose(s: EchoStream, sent: number, back: number, fin: boolean, timeout: number, wasClosed: boolean): string {
  if (wasClosed) return `half-close: not sent, the connection was already closed${s.error ? ` (${errorText(s.error)})` : ""}; ${back} B came back`;
  if (fin) return `half-close: FIN sent after ${sent} B; the server's FIN came after ${back} B back`;
  if (s.finAt !== null) return `half-close: FIN sent after ${sent} B; the connection ${s.error ? `failed (${errorText(s.error)})` : "closed"} after ${back} B back`;
  return `half-close: FIN sent after ${sent} B; no FIN from the server within ${timeout} s (${back} B back)`;
}

export function summary(peer: string, sent: number, back: number, seconds: number, checked: number, verdict: string): string[] {
  const rate = seconds > 0 ? ` (${(checked / 1e6 / seconds).toFixed(3)} MB/s)` : "";
  return [`--- ${peer} tcp-echo client --file statistics ---`, `${sent} B sent, ${back} B back in ${seconds.toFixed(3)} s${rate}: ${verdict}`];
}
