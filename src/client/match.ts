// Telling an echo from the rest of the stream. The client does not know what is on the other end:
// tcp-echo with record framing "interleaved" echoes each message line but keeps the binary record
// after it; with "stream" framing, or any plain echo server, the record comes back too, right
// before the next message's echo. The first reply after a record settles which it is.
import type { EchoStream, WaitOutcome } from "./stream.ts";

export type RecordsOutcome = "echoed" | "not-echoed" | "unexpected";

function concat(parts: readonly Uint8Array[]): Uint8Array {
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
}

function startsWith(data: Uint8Array, prefix: Uint8Array): boolean {
  if (data.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (data[i] !== prefix[i]) return false;
  return true;
}

/** The records sent, and whether the server has been seen echoing them. */
export class RecordTracker {
  mode: "unknown" | "echoed" | "not-echoed" = "unknown";
  count = 0;
  /** Records seen coming back before a later message's echo. */
  echoedInline = 0;
  private pending: Uint8Array[] = [];

  sent(bytes: Uint8Array): void {
    this.count++;
    if (this.mode !== "not-echoed") this.pending.push(bytes);
  }

  /** Records sent whose echo, if the server echoes them, has not been read yet. */
  pendingBytes(): Uint8Array {
    return concat(this.pending);
  }

  markEchoed(): void {
    this.mode = "echoed";
    this.echoedInline += this.pending.length;
    this.pending = [];
  }

  markNotEchoed(): void {
    if (this.pending.length === 0) return;
    this.mode = "not-echoed";
    this.pending = [];
  }

  /** What came back after the last echo: the outstanding records, or nothing, or neither. */
  judgeTail(tail: Uint8Array): RecordsOutcome {
    if (this.mode !== "not-echoed" && this.pending.length > 0 && Buffer.compare(tail, this.pendingBytes()) === 0) return "echoed";
    if (this.mode !== "echoed" && tail.length === 0) return "not-echoed";
    return "unexpected";
  }
}

export type EchoMatch =
  | { readonly outcome: "ok"; readonly at: number; readonly reply: Uint8Array; readonly matched: boolean }
  | { readonly outcome: Exclude<WaitOutcome, "ok"> };

/**
 * Waits for the echo of `message` (after the outstanding records when the server echoes them) and
 * takes it from the stream. The reply is everything buffered once enough bytes arrived: more than
 * the message (bytes nobody sent) is a mismatch, as is any differing byte. `at` is when the last
 * byte of the echo arrived.
 */
export async function matchEcho(stream: EchoStream, message: Uint8Array, records: RecordTracker, ms: number): Promise<EchoMatch> {
  const deadline = performance.now() + ms;
  const first = await stream.waitBytes(message.length, ms);
  if (first.outcome !== "ok") return { outcome: first.outcome };
  let at = first.at;
  const pending = records.mode === "not-echoed" ? new Uint8Array(0) : records.pendingBytes();
  if (records.mode !== "echoed" && startsWith(stream.peek(message.length), message)) {
    records.markNotEchoed();
  } else if (pending.length > 0) {
    const both = concat([pending, message]);
    const head = stream.peek(both.length);
    if (startsWith(both, head)) {
      const rest = await stream.waitBytes(both.length, Math.max(0, deadline - performance.now()));
      if (rest.outcome !== "ok") return { outcome: rest.outcome };
      at = rest.at;
      if (startsWith(stream.peek(both.length), both)) {
        stream.take(pending.length);
        records.markEchoed();
      }
    }
  }
  const reply = stream.take();
  return { outcome: "ok", at, reply, matched: Buffer.compare(reply, message) === 0 };
}
