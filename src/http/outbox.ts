import type { Socket } from "bun";

const EMPTY = new Uint8Array(0);

/**
 * Reply bytes the kernel has not taken yet. socket.write() takes what fits and returns the count;
 * Bun keeps nothing, so the rest waits here until `drain`. Most replies go out whole and never
 * allocate a queue.
 */
export class Outbox {
  /** Bytes waiting. */
  unsent = 0;
  private queue: Uint8Array[] | null = null;
  private head = 0;
  private offset = 0;

  /**
   * Writes `data` (`bytes` long: the caller knows it, an ASCII head plus a body) behind whatever
   * waits. Returns the bytes written now, or -1 when the socket is closed (its close handler
   * follows, maybe only after the caller's loop: a stream must not go on writing into nothing).
   */
  send(socket: Socket<unknown>, data: string | Uint8Array, bytes: number): number {
    if (bytes === 0) return 0;
    if (this.unsent === 0) {
      const w = socket.write(data);
      if (w >= bytes) return bytes;
      if (w < 0) return -1;
      // Copied: the caller may reuse its array once send() returns.
      const rest = typeof data === "string" ? Buffer.from(data, "utf8").subarray(w) : data.slice(w);
      this.push(rest);
      return w;
    }
    this.push(typeof data === "string" ? Buffer.from(data, "utf8") : data.slice());
    return 0;
  }

  /** Writes queued bytes until the kernel stops taking them; returns how many went. */
  flush(socket: Socket<unknown>): number {
    const q = this.queue;
    if (!q) return 0;
    let written = 0;
    while (this.head < q.length) {
      const chunk = q[this.head]!;
      const len = chunk.length - this.offset;
      const n = socket.write(chunk, this.offset, len);
      if (n <= 0) break;
      written += n;
      if (n < len) {
        this.offset += n;
        break;
      }
      q[this.head++] = EMPTY;
      this.offset = 0;
    }
    if (this.head === q.length) {
      this.queue = null;
      this.head = 0;
    }
    this.unsent -= written;
    return written;
  }

  private push(chunk: Uint8Array): void {
    (this.queue ??= []).push(chunk);
    this.unsent += chunk.length;
  }
}
