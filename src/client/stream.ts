// The connected fd handed to Bun, with what the client needs on top: everything received kept in
// order until taken, and waits that end on enough bytes, on the server's FIN, or on a deadline.
import type { Socket } from "bun";
import { connectOnFd } from "../net/index.ts";
import { settleHandshake, type ClientTlsPlan, type ServerSession, type TlsSocketView } from "../tls/index.ts";

/** How a wait ended: with enough bytes, the server's FIN (or a close) first, or the deadline. */
export type WaitOutcome = "ok" | "closed" | "timeout";

interface Waiter {
  readonly done: () => boolean;
  readonly finish: (outcome: WaitOutcome) => void;
}

export class EchoStream {
  private chunks: Uint8Array[] = [];
  private buffered = 0;
  private waiters: Waiter[] = [];
  private drainWaiter: (() => void) | null = null;
  private socket: Socket<undefined> | null = null;
  /** Set once the server's FIN arrived, or the connection closed. */
  finAt: number | null = null;
  closed = false;
  /** performance.now() of the last byte received, of our last write completing, and of our FIN. */
  lastRecvAt: number | null = null;
  lastSendAt: number | null = null;
  ourFinAt: number | null = null;
  /** Our last completed write when the server's FIN arrived, and our first write after it. */
  lastSendBeforeFin: number | null = null;
  firstSendAfterFin: number | null = null;
  /** Why the connection closed, when it was an error (ECONNRESET and the like). */
  error: Error | null = null;
  /**
   * When set, received bytes go here as they arrive instead of into the buffer (--file checks a
   * transfer of any size chunk by chunk and keeps none of it); `onEnd` hears the FIN or close.
   */
  sink: ((d: Uint8Array) => void) | null = null;
  onEnd: (() => void) | null = null;
  /** With TLS: settles when the handshake is done (or the connection closed first). */
  private handshakeDone: PromiseWithResolvers<{ ok: boolean; session: ServerSession | null; at: number }> | null = null;

  private readonly adoptedAt = performance.now();

  private constructor(private readonly tls: ClientTlsPlan | null) {}

  /** Hands a connected fd to Bun (with TLS: Bun starts the client handshake on it); Bun owns and closes it from then on. */
  static async adopt(fd: number, tls: ClientTlsPlan | null = null): Promise<EchoStream> {
    const s = new EchoStream(tls);
    if (tls) s.handshakeDone = Promise.withResolvers();
    // We send our FIN ourselves, after the last message; the server's FIN must not end ours
    // (connectOnFd adopts with allowHalfOpen).
    s.socket = await connectOnFd<undefined>(fd, {
      binaryType: "uint8array",
      data: (_sock, d) => s.onData(d),
      drain: () => s.wake(),
      end: () => s.ended(null),
      close: (_sock, err) => s.ended(err ?? null, true),
      error: (_sock, err) => {
        s.error ??= err;
      },
      handshake: (sock, ok, err) => s.handshaken(sock as unknown as TlsSocketView, ok, err),
    }, tls?.options);
    return s;
  }

  /**
   * TLS: waits for the handshake (at most `ms`). `ok` false: it failed, or the server's certificate
   * did not verify (unless --tls-insecure); `session` then says why. Resolves at once without TLS.
   */
  async handshake(ms: number): Promise<{ ok: boolean; session: ServerSession | null; timedOut: boolean; ms: number }> {
    const h = this.handshakeDone;
    if (!h) return { ok: true, session: null, timedOut: false, ms: 0 };
    const t0 = this.adoptedAt;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<null>((r) => (timer = setTimeout(() => r(null), ms)));
    const r = await Promise.race([h.promise, timeout]);
    clearTimeout(timer);
    if (r === null) return { ok: false, session: null, timedOut: true, ms: performance.now() - t0 };
    return { ok: r.ok, session: r.session, timedOut: false, ms: r.at - t0 };
  }

  private handshaken(sock: TlsSocketView, ok: boolean, err: Error | null): void {
    const at = performance.now();
    const r = settleHandshake(sock, ok, err, this.tls!);
    this.handshakeDone?.resolve({ ...r, at });
  }

  private onData(d: Uint8Array): void {
    this.lastRecvAt = performance.now();
    if (this.sink) return this.sink(d);
    this.chunks.push(d);
    this.buffered += d.length;
    this.settle();
  }

  private ended(err: Error | null, closed = false): void {
    // A connection that ends before its handshake: the handshake failed.
    this.handshakeDone?.resolve({ ok: false, session: null, at: performance.now() });
    if (this.finAt === null) {
      this.finAt = performance.now();
      this.lastSendBeforeFin = this.lastSendAt;
    }
    if (err) this.error ??= err;
    if (closed) this.closed = true;
    this.wake();
    this.settle();
    this.onEnd?.();
  }

  private settle(): void {
    this.waiters = this.waiters.filter((w) => {
      if (w.done()) w.finish("ok");
      else if (this.finAt !== null) w.finish("closed");
      else return true;
      return false;
    });
  }

  private wait(done: () => boolean, ms: number): Promise<{ outcome: WaitOutcome; at: number }> {
    if (done()) return Promise.resolve({ outcome: "ok", at: performance.now() });
    if (this.finAt !== null) return Promise.resolve({ outcome: "closed", at: performance.now() });
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        resolve({ outcome: "timeout", at: performance.now() });
      }, ms);
      // The time is taken in the data callback itself, before any promise machinery runs, so a
      // round-trip time is the network's and not the event loop's.
      const waiter: Waiter = {
        done,
        finish: (outcome) => {
          const at = performance.now();
          clearTimeout(timer);
          resolve({ outcome, at });
        },
      };
      this.waiters.push(waiter);
    });
  }

  /** Waits until `done()` holds (checked as bytes arrive), the server's FIN, or the deadline. */
  waitUntil(done: () => boolean, ms: number): Promise<{ outcome: WaitOutcome; at: number }> {
    return this.wait(done, ms);
  }

  /** Waits until at least `n` bytes are buffered; `at` is when that happened. */
  waitBytes(n: number, ms: number): Promise<{ outcome: WaitOutcome; at: number }> {
    return this.wait(() => this.buffered >= n, ms);
  }

  /** Waits for the server's FIN (or a close); "ok" when it came. */
  async waitFin(ms: number): Promise<WaitOutcome> {
    const { outcome } = await this.wait(() => this.finAt !== null, ms);
    return outcome === "closed" ? "ok" : outcome;
  }

  /** The first `n` buffered bytes (all of them when n is larger), without taking them. */
  peek(n = this.buffered): Uint8Array {
    const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
    this.chunks = all.length > 0 ? [all] : [];
    return all.subarray(0, Math.min(n, all.length));
  }

  /** Removes and returns the first `n` buffered bytes (all of them when n is larger). */
  take(n = this.buffered): Uint8Array {
    const head = this.peek(n).slice();
    const all = this.chunks[0];
    this.chunks = all && all.length > head.length ? [all.subarray(head.length)] : [];
    this.buffered -= head.length;
    return head;
  }

  /** Writes all of `data`, waiting on drain when the kernel takes only part; false once closed. */
  async writeAll(data: Uint8Array): Promise<boolean> {
    for (let off = 0; off < data.length; ) {
      const n = this.writeSome(data, off);
      if (n < 0) return false;
      off += n;
      if (off < data.length) await this.waitDrain();
    }
    return true;
  }

  /**
   * One write of `data[off..]`: the bytes the kernel took (Bun keeps none of the rest, so `data`
   * may be reused once all of it is taken), or -1 once the connection is closed.
   */
  writeSome(data: Uint8Array, off = 0): number {
    const sock = this.socket;
    if (!sock || this.closed) return -1;
    const n = sock.write(data, off, data.length - off);
    if (n < 0) return -1;
    if (n > 0) {
      this.lastSendAt = performance.now();
      if (this.finAt !== null) this.firstSendAfterFin ??= this.lastSendAt;
    }
    return n;
  }

  /** Resolves on the socket's next drain, its close, or wake(). */
  waitDrain(): Promise<void> {
    return new Promise<void>((r) => (this.drainWaiter = r));
  }

  /** Ends a waitDrain early (the writer is to stop). */
  wake(): void {
    const w = this.drainWaiter;
    this.drainWaiter = null;
    w?.();
  }

  /** shutdown(SHUT_WR): our FIN; the server may still send. */
  halfClose(): void {
    if (this.closed) return;
    this.socket?.shutdown();
    this.ourFinAt = performance.now();
  }

  /** Closes the socket; when the server never sent its FIN this resets the connection. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.finAt !== null) this.socket?.end();
    else this.socket?.terminate();
  }
}
