import type { HttpConn } from "./conn.ts";
import type { HttpRequest } from "./request.ts";
import type { StreamSink } from "./types.ts";

/** What a sink needs from the server that owns its connection. */
export interface SinkOwner {
  /** Frames and sends `n` bytes of `chunk`; false when the stream was closed for it (too slow a peer). */
  streamWrite(sink: StreamSinkImpl, chunk: string | Uint8Array, n: number): boolean;
  streamEnd(sink: StreamSinkImpl): void;
  unsent(sink: StreamSinkImpl): number;
  /** A close callback threw: logged, never rethrown into the server. */
  callbackFailed(sink: StreamSinkImpl, error: unknown): void;
}

/** The body of a streaming reply, given to the handler's `stream` callback. */
export class StreamSinkImpl implements StreamSink {
  closed = false;
  /** What `stream` returned: runs first when the stream closes. */
  private cleanup: (() => void) | null = null;
  /** Body bytes sent, framing included (for the request's log line). */
  bytes = 0;
  private callbacks: (() => void)[] | null = null;

  constructor(
    private readonly owner: SinkOwner,
    readonly conn: HttpConn,
    readonly req: HttpRequest,
    readonly status: number,
    /** HTTP/1.1: each write is one chunk. HTTP/1.0: raw bytes, and the close ends the body. */
    readonly chunked: boolean,
    /** The connection closes when the stream ends. */
    readonly closeAfter: boolean,
  ) {}

  get unsent(): number {
    return this.closed ? 0 : this.owner.unsent(this);
  }

  write(chunk: string | Uint8Array): boolean {
    if (this.closed) return false;
    const n = typeof chunk === "string" ? Buffer.byteLength(chunk, "utf8") : chunk.length;
    if (n === 0) return true;
    return this.owner.streamWrite(this, chunk, n);
  }

  end(): void {
    if (!this.closed) this.owner.streamEnd(this);
  }

  onClose(cb: () => void): void {
    if (this.closed) this.run(cb);
    else (this.callbacks ??= []).push(cb);
  }

  /** What `stream` returned; run at once when the stream already closed inside that call. */
  setCleanup(cb: () => void): void {
    if (this.closed) this.run(cb);
    else this.cleanup = cb;
  }

  /** The server closes the stream (once): cleanup, then the callbacks, in order. */
  finish(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.cleanup) this.run(this.cleanup);
    const cbs = this.callbacks;
    this.callbacks = null;
    if (cbs) for (const cb of cbs) this.run(cb);
  }

  private run(cb: () => void): void {
    try {
      cb();
    } catch (e) {
      this.owner.callbackFailed(this, e);
    }
  }
}
