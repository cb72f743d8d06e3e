import type { ClientSocketOptions, SockAddress } from "../net/index.ts";
import type { ClientOptions } from "./options.ts";
import { matchEcho, RecordTracker, type RecordsOutcome } from "./match.ts";
import { openConnection, type Print } from "./open.ts";
import { buildProxyHeader, echoedLine, REFUSED_HINT, sentLine, takeEchoedHeader, type SentHeader } from "./proxy.ts";
import * as line from "./output.ts";
import { summarizeRtts, type RttStats } from "./rtt.ts";

export type { Print } from "./open.ts";

export interface ClientResult {
  /** Every echo matched, nothing timed out, and what came back after our FIN was expected. */
  readonly ok: boolean;
  readonly peer: SockAddress;
  readonly local: SockAddress;
  readonly connectMs: number;
  /** The socket's options read back (getsockopt) once Bun had adopted it. */
  readonly socket: ClientSocketOptions;
  readonly sent: number;
  /** Replies that came back complete, matched or not. */
  readonly echoed: number;
  readonly mismatched: number;
  readonly timedOut: number;
  /** Round-trip times of the complete replies, in ms, in order. */
  readonly rtts: readonly number[];
  readonly stats: RttStats | null;
  readonly recordsSent: number;
  /** Whether the server echoed the records; null when none were sent. */
  readonly records: RecordsOutcome | null;
  /** What came back after the last echo, up to the server's FIN. */
  readonly tail: Uint8Array;
  /** The server's FIN arrived (within --timeout of ours). */
  readonly fin: boolean;
  /** Stopped early by options.signal. */
  readonly interrupted: boolean;
  /** The PROXY header sent first (--proxy-protocol), and whether it came back (the server does not read it). */
  readonly proxyHeader: Uint8Array | null;
  readonly proxyEchoed: boolean;
}

function sleep(seconds: number, signal?: AbortSignal): Promise<void> {
  if (seconds <= 0 || signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, seconds * 1000);
    signal?.addEventListener("abort", done);
  });
}

/**
 * Connects (to each address of a name in turn), then `count` times: sends the message, waits for
 * exactly its bytes to come back, sends the record if any; then half-closes and reads up to the
 * server's FIN. Prints ping-like lines through `print`. Throws ResolveError, SyscallError or
 * ConnectTimeoutError only when the connect fails; every later failure is a line and a counter in
 * the result.
 */
export async function runClient(o: ClientOptions, print: Print): Promise<ClientResult> {
  const { conn, stream, socket, peer } = await openConnection(o, print);
  try {
    const records = new RecordTracker();
    const rtts: number[] = [];
    let sent = 0;
    let mismatched = 0;
    let timedOut = 0;
    let broken = false;
    let header: SentHeader | null = null;
    let proxyEchoed = false;
    if (o.proxy) {
      const bytes = buildProxyHeader(o.proxy, conn);
      if (await stream.writeAll(bytes)) {
        header = { bytes, version: o.proxy.version };
        print(sentLine(o.proxy, bytes));
      } else {
        print(line.lost(1, peer, "sending the PROXY header", stream));
        broken = true;
      }
    }
    // A connection that ends before the first byte back, after a header: how a PROXY server refuses one.
    const refused = (seq: number) => (seq === 1 && header && !proxyEchoed && stream.peek().length === 0 ? REFUSED_HINT : "");
    for (let seq = 1; seq <= o.count && !broken && !o.signal?.aborted; seq++) {
      const start = performance.now();
      if (!(await stream.writeAll(o.message))) {
        print(line.lost(seq, peer, "sending the message", stream) + refused(seq));
        broken = true;
        break;
      }
      sent++;
      const deadline = performance.now() + o.timeout * 1000;
      // The header, when the server sends it back, comes ahead of the first echo.
      if (seq === 1 && header && (await takeEchoedHeader(stream, header.bytes, o.timeout * 1000))) {
        proxyEchoed = true;
        print(echoedLine(header));
      }
      const m = await matchEcho(stream, o.message, records, Math.max(0, deadline - performance.now()));
      if (m.outcome !== "ok") {
        if (m.outcome === "timeout") timedOut++;
        print(m.outcome === "timeout" ? line.timedOut(seq, o, stream) : line.lost(seq, peer, "waiting for the echo", stream) + refused(seq));
        broken = true;
        break;
      }
      rtts.push(m.at - start);
      if (!m.matched) mismatched++;
      print(line.echo(seq, peer, m.at - start, m.reply, m.matched ? null : o.message));
      if (o.record) {
        if (!(await stream.writeAll(o.record.bytes))) {
          print(line.lost(seq, peer, "sending the record", stream));
          broken = true;
          break;
        }
        records.sent(o.record.bytes);
        print(line.record(seq, o.record));
      }
      if (seq < o.count) await sleep(o.interval, o.signal);
    }
    // A connection already gone (reset, or closed while we were sending) has no write side left.
    const wasClosed = stream.closed;
    const serverFirst = stream.finAt !== null;
    stream.halfClose();
    if (!wasClosed) await stream.waitFin(o.timeout * 1000);
    const fin = stream.finAt !== null && stream.error === null;
    const tail = stream.take();
    const recordsOutcome = records.count > 0 ? records.judgeTail(tail) : null;
    print(wasClosed ? line.closedEarly(stream, tail) : line.halfClose(fin, tail, o.timeout, serverFirst));
    const end = line.serverEnd(stream);
    if (end) print(end);
    if (recordsOutcome) print(line.records(records, recordsOutcome));
    else if (tail.length > 0 && !broken) print(line.unexpectedTail(tail));
    const stats = summarizeRtts(rtts);
    const echoed = rtts.length;
    for (const l of line.summary(peer, { sent, echoed, mismatched, timedOut, stats })) print(l);
    const tailOk = recordsOutcome === null ? tail.length === 0 : recordsOutcome !== "unexpected";
    return {
      ok: !broken && fin && mismatched === 0 && timedOut === 0 && tailOk && !proxyEchoed,
      peer: conn.peer,
      local: conn.local,
      connectMs: conn.connectMs,
      socket,
      sent,
      echoed,
      mismatched,
      timedOut,
      rtts,
      stats,
      recordsSent: records.count,
      records: recordsOutcome,
      tail,
      fin,
      interrupted: o.signal?.aborted ?? false,
      proxyHeader: header?.bytes ?? null,
      proxyEchoed,
    };
  } finally {
    stream.close();
  }
}
