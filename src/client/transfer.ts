// `client --file`: the input's bytes sent once, with back-pressure, then our FIN; every byte that
// comes back is checked against the byte sent at its offset as it arrives (an echo server returns
// bytes in order), and the run is good only when exactly the bytes sent came back before the
// server's FIN.
import type { ClientSocketOptions, SockAddress } from "../net/index.ts";
import * as line from "./file-output.ts";
import { openConnection, type Print } from "./open.ts";
import type { ClientOptions } from "./options.ts";
import { buildProxyHeader, echoedLine, HeaderEchoFilter, REFUSED_HINT, sentLine, type SentHeader } from "./proxy.ts";
import { openSource } from "./source.ts";

/** Bytes of context shown on each side of the first difference. */
const CONTEXT = 8;

export interface FileResult {
  /** Everything was sent, exactly those bytes came back, and then the server's FIN. */
  readonly ok: boolean;
  readonly peer: SockAddress;
  readonly local: SockAddress;
  readonly connectMs: number;
  readonly socket: ClientSocketOptions;
  /** The path, or "standard input". */
  readonly source: string;
  /** A regular file's size; null for a stream. */
  readonly size: number | null;
  /** Bytes the kernel took from us. */
  readonly sent: number;
  /** Bytes that came back, checked or not. */
  readonly back: number;
  /** The whole input was sent. */
  readonly complete: boolean;
  /** The first byte back that differs from the byte sent at its offset, or that was never sent. */
  readonly mismatch: line.Mismatch | null;
  /** Bytes were outstanding and none came back for --timeout. */
  readonly stalled: boolean;
  /** The server's FIN came (after ours, within --timeout once the echo was complete). */
  readonly fin: boolean;
  /** From the first byte sent to the last byte back. */
  readonly seconds: number;
  readonly interrupted: boolean;
  /** The PROXY header sent first (--proxy-protocol), and whether it came back (the server does not read it). */
  readonly proxyHeader: Uint8Array | null;
  readonly proxyEchoed: boolean;
}

/**
 * Connects as runClient does, then sends `o.file` ("-": standard input) and checks the echo. Throws
 * only when the input cannot be opened or the connect fails; every later failure is a line and a
 * field of the result.
 */
export async function runFileClient(o: ClientOptions, print: Print): Promise<FileResult> {
  if (o.file === null) throw new TypeError("runFileClient: no file");
  const src = openSource(o.file);
  try {
    const { conn, stream, socket, peer } = await openConnection(o, print);
    const timeoutMs = o.timeout * 1000;
    let sent = 0;
    let back = 0;
    let mismatch: line.Mismatch | null = null;
    let stalled = false;
    let stopping = false;
    let firstSendAt: number | null = null;
    /** When bytes last became outstanding with nothing outstanding before. */
    let waitingSince = 0;
    let wakeMain: (() => void) | null = null;
    const notify = () => {
      const w = wakeMain;
      wakeMain = null;
      w?.();
    };
    const changed = () => new Promise<void>((r) => (wakeMain = r));
    const stop = () => {
      stopping = true;
      src.stop();
      stream.wake();
      notify();
    };

    // The last checked bytes, so a difference at the start of a chunk still shows what preceded it.
    const tail = new Uint8Array(CONTEXT);
    let tailLength = 0;
    const keepTail = (d: Uint8Array, end: number) => {
      if (end >= CONTEXT) {
        tail.set(d.subarray(end - CONTEXT, end));
        tailLength = CONTEXT;
        return;
      }
      // Fewer new bytes than the context: the newest of the old ones stay in front of them.
      const keep = Math.min(tailLength, CONTEXT - end);
      tail.copyWithin(0, tailLength - keep, tailLength);
      tail.set(d.subarray(0, end), keep);
      tailLength = keep + end;
    };
    let gotMore: Uint8Array[] | null = null;

    const check = (d: Uint8Array) => {
      const off = back;
      back += d.length;
      if (mismatch === null) {
        const n = Math.min(d.length, sent - off);
        const i = n > 0 ? src.check(n === d.length ? d : d.subarray(0, n), off) : -1;
        if (i >= 0 || n < d.length) {
          // A differing byte, or bytes beyond what was ever sent.
          const k = i >= 0 ? i : n;
          const at = off + k;
          keepTail(d, k);
          mismatch = {
            at,
            before: tail.slice(0, tailLength),
            // The input's bytes there (a regular file's, or what a stream has read).
            sent: i >= 0 ? src.sentAt(at, CONTEXT) : new Uint8Array(0),
            got: d.slice(k, k + CONTEXT),
          };
          gotMore = mismatch.got.length < CONTEXT ? [mismatch.got] : null;
          stop();
        } else {
          keepTail(d, n);
          src.release(off + n);
        }
      } else if (gotMore) {
        // The bytes back after the difference, to CONTEXT, even when it fell at a chunk's end.
        gotMore.push(d);
        const got = Buffer.concat(gotMore).subarray(0, CONTEXT);
        mismatch = { ...mismatch, got };
        if (got.length === CONTEXT) gotMore = null;
      }
      notify();
    };
    // --proxy-protocol: the header goes first, and what comes back passes a filter that takes the
    // header off when the server sends it back, before the echo check.
    const header: SentHeader | null = o.proxy ? { bytes: buildProxyHeader(o.proxy, conn), version: o.proxy.version } : null;
    const headerFilter = header ? new HeaderEchoFilter(header.bytes) : null;
    let headerSaid = false;
    stream.sink = !headerFilter
      ? check
      : (d) => {
          for (const part of headerFilter.feed(d)) check(part);
          if (headerFilter.echoed && !headerSaid) {
            headerSaid = true;
            print(echoedLine(header!));
          }
        };
    stream.onEnd = () => {
      // Bytes back that were still a beginning of the header when the connection ended are echo.
      if (headerFilter) for (const part of headerFilter.end()) check(part);
      // The server is gone or done: sending more is pointless (and the write side may be dead).
      stopping = true;
      src.stop();
      notify();
    };

    // No byte back for --timeout while some are outstanding: the echo has stalled.
    let stallTimer: ReturnType<typeof setTimeout> | null = null;
    const watch = (ms: number) => {
      stallTimer = setTimeout(() => {
        if (sent > back && mismatch === null) {
          const idle = performance.now() - Math.max(waitingSince, stream.lastRecvAt ?? 0);
          if (idle >= timeoutMs) {
            stalled = true;
            stop();
            return;
          }
          return watch(timeoutMs - idle);
        }
        watch(timeoutMs);
      }, ms);
    };
    watch(timeoutMs);
    const onAbort = () => stop();
    o.signal?.addEventListener("abort", onAbort);

    if (header) {
      if (await stream.writeAll(header.bytes)) print(sentLine(o.proxy!, header.bytes));
      // The connection is gone already: the lines below say so.
      else stopping = true;
    }
    print(line.sending(src.label, src.size));
    let complete = false;
    let lost = false;
    try {
      while (!stopping) {
        const chunk = await src.next();
        if (chunk === null) {
          complete = !stopping;
          break;
        }
        for (let at = 0; at < chunk.length && !stopping; ) {
          const n = stream.writeSome(chunk, at);
          if (n < 0) {
            lost = true;
            break;
          }
          if (n > 0) {
            const now = stream.lastSendAt!;
            firstSendAt ??= now;
            if (sent === back) waitingSince = now;
            sent += n;
            at += n;
          }
          if (at < chunk.length) await stream.waitDrain();
        }
        if (lost) break;
      }
      if (lost || (stream.finAt !== null && !complete && !stalled && mismatch === null && !o.signal?.aborted)) {
        print(line.lostWhileSending(peer, stream, sent) + (header && back === 0 && !headerFilter!.echoed ? REFUSED_HINT : ""));
      }

      const wasClosed = stream.closed;
      stream.halfClose();
      if (stalled) stream.close();
      while (!stream.closed && stream.finAt === null && !stalled) {
        if (back >= sent || mismatch !== null) {
          await stream.waitFin(timeoutMs);
          break;
        }
        await changed();
      }
      const fin = stream.finAt !== null && stream.error === null && !stalled;
      if (mismatch) for (const l of line.mismatch(mismatch)) print(l);
      if (stalled) print(line.stalled(o.timeout, sent, back));
      else print(line.halfClose(stream, sent, back, fin, o.timeout, wasClosed));

      const end = stream.lastRecvAt ?? performance.now();
      const seconds = firstSendAt === null ? 0 : Math.max(0, end - firstSendAt) / 1000;
      const m = mismatch as line.Mismatch | null;
      const checked = m ? m.at : Math.min(back, sent);
      const interrupted = o.signal?.aborted ?? false;
      const verdict = m
        ? `different from offset ${m.at}`
        : stalled
          ? `the echo stalled (no byte back for ${o.timeout} s)`
          : interrupted && !complete
            ? `interrupted: ${sent}${src.size === null ? "" : ` of ${src.size}`} B sent`
            : back < sent
              ? `${sent - back} B never came back`
              : !complete
                ? `incomplete: the connection ended after ${sent}${src.size === null ? "" : ` of ${src.size}`} B sent`
                : !fin
                  ? "all bytes back and identical, but no FIN from the server"
                  : "identical";
      const said = headerFilter?.echoed ? `the server echoed the PROXY header (it does not read the PROXY protocol), then ${verdict === "identical" ? "the input identical" : verdict}` : verdict;
      for (const l of line.summary(peer, sent, back, seconds, checked, said)) print(l);
      return {
        ok: verdict === "identical" && !headerFilter?.echoed,
        peer: conn.peer,
        local: conn.local,
        connectMs: conn.connectMs,
        socket,
        source: src.label,
        size: src.size,
        sent,
        back,
        complete,
        mismatch: m,
        stalled,
        fin,
        seconds,
        interrupted,
        proxyHeader: header?.bytes ?? null,
        proxyEchoed: headerFilter?.echoed ?? false,
      };
    } finally {
      if (stallTimer) clearTimeout(stallTimer);
      o.signal?.removeEventListener("abort", onAbort);
      stream.sink = null;
      stream.onEnd = null;
      stream.close();
    }
  } finally {
    src.close();
  }
}
