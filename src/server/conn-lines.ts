import type { LineBytes } from "../log/line-bytes.ts";
import type { Logger } from "../log/logger.ts";
import type { CloseReason } from "./config.ts";
import type { Connection } from "./connection.ts";

/**
 * The two lines every connection writes at info, open and close, written straight into the log's
 * bytes (Logger.startLine) instead of as a text and a fields object: the same line, byte for byte,
 * that emit() writes from them (test/conn-lines.test.ts holds the two side by side). At info a
 * connect16 server spent 17 % of its samples on these two lines and the peer's name (bun
 * --cpu-prof), and the performance issue asks for 0.85x bare Bun there.
 *
 * Bounds count 6 bytes per character of text a user or a peer chose (JSON's \u0001), 3 per
 * character of UTF-8.
 */

/** `[#7 127.0.0.1:5555] open` with conn, peer and listener. */
export function writeOpenLine(log: Logger, c: Connection, listener: string): void {
  const w = log.startLine("info", "open", 6 * (2 * c.tagLength + listener.length) + 64);
  if (w === null) return;
  c.writeTag(w);
  w.ascii(" open");
  if (log.endMessage(w)) writeWho(w, c, listener);
  log.endLine(w);
}

/** The fields both lines start with: conn, peer, listener. */
function writeWho(w: LineBytes, c: Connection, listener: string): void {
  w.ascii('"conn":');
  w.uint(c.id);
  w.ascii(',"peer":"');
  c.writePeer(w);
  w.ascii('","listener":');
  w.jsonString(listener);
}

/**
 * `[#7 127.0.0.1:5555] close peer-closed: in 5 B, out 5 B, 0.4 ms[, not echoed 3 B][ (error)]`
 * with conn, peer, listener, reason, bytes_in, bytes_out, not_echoed, duration_ms, error, toxic.
 */
export function writeCloseLine(log: Logger, c: Connection, listener: string, reason: CloseReason, ms: number, lost: number): void {
  const toxic = reason === "toxic" ? c.toxic : null;
  const error = c.errorText;
  const chosen = 2 * c.tagLength + listener.length + (toxic ? toxic.type.length + toxic.name.length * 2 : 0) + (error ? error.length * 2 : 0);
  const w = log.startLine("info", "close", 6 * chosen + 400);
  if (w === null) return;
  c.writeTag(w);
  w.ascii(" close ");
  if (toxic) {
    w.say(toxic.type);
    w.ascii(":");
    w.say(toxic.name);
  } else w.ascii(reason);
  w.ascii(": in ");
  w.uint(c.bytesIn);
  w.ascii(" B, out ");
  w.uint(c.bytesOut);
  w.ascii(" B, ");
  w.fixed1(ms);
  w.ascii(" ms");
  if (lost > 0) {
    w.ascii(", not echoed ");
    w.uint(lost);
    w.ascii(" B");
  }
  if (error) {
    w.ascii(" (");
    w.say(error);
    w.ascii(")");
  }
  if (log.endMessage(w)) {
    writeWho(w, c, listener);
    w.ascii(',"reason":"');
    w.ascii(reason);
    w.ascii('","bytes_in":');
    w.uint(c.bytesIn);
    w.ascii(',"bytes_out":');
    w.uint(c.bytesOut);
    w.ascii(',"not_echoed":');
    w.uint(lost);
    w.ascii(',"duration_ms":');
    w.number(Math.round(ms * 1000) / 1000);
    w.ascii(',"error":');
    if (error === null) w.ascii("null");
    else w.jsonString(error);
    w.ascii(',"toxic":');
    if (toxic === null) w.ascii("null");
    else w.jsonString(toxic.name);
  }
  log.endLine(w);
}
