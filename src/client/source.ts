// What `client --file` sends, and what it compares the echo with, without holding a large input in
// memory twice. A regular file is read twice: forward to send it, and again at the echo's offset
// (pread) to check it, so memory stays two buffers whatever its size. Standard input, a pipe or a
// device cannot be read again: what was sent is kept until its echo came back, and reading stops
// while STREAM_WINDOW bytes are outstanding (an echo server returns bytes in order, so the window
// moves as the echo progresses).
import { closeSync, fstatSync, openSync, readSync } from "node:fs";

/** Bytes read from a regular file per write. */
const FILE_CHUNK = 256 * 1024;

/**
 * Sent-but-unechoed bytes a stream input may hold. Enough to keep loopback busy (the bytes in
 * flight are bounded by the socket buffers on both ends plus the server's own buffer, about
 * 4 MiB each at Linux's default tcp_wmem/tcp_rmem maxima); a server that holds more than this
 * before it echoes anything stalls the transfer until --timeout.
 */
export const STREAM_WINDOW = 16 * 1024 * 1024;

export interface Source {
  /** The path, or "standard input". */
  readonly label: string;
  /** Bytes in a regular file; null for a stream. */
  readonly size: number | null;
  /** The next bytes to send (valid until the next call), or null at the end. */
  next(): Promise<Uint8Array | null>;
  /**
   * The index in `got` of its first byte that differs from the bytes sent at `offset`, or -1.
   * `got` lies within what was sent and follows what was checked before.
   */
  check(got: Uint8Array, offset: number): number;
  /** Up to `n` bytes from `offset` on, not yet released (a mismatch's context; callers keep within what was sent). */
  sentAt(offset: number, n: number): Uint8Array;
  /** The echo is checked up to `offset`: the bytes before it are no longer needed. */
  release(offset: number): void;
  /** No more sending: next() returns null from now on, a waiting one at once. Checks still work. */
  stop(): void;
  /** Frees what the source holds (the file, the kept bytes). */
  close(): void;
}

/** The index of the first difference between `a` and `b[at..]` over a.length bytes, or -1. */
function firstDifference(a: Uint8Array, b: Uint8Array, at: number): number {
  if (Buffer.compare(a, b.subarray(at, at + a.length)) === 0) return -1;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[at + i]) return i;
  return -1;
}

class FileSource implements Source {
  readonly size: number;
  private readonly sendBuf = new Uint8Array(FILE_CHUNK);
  private checkBuf = new Uint8Array(FILE_CHUNK);
  private readPos = 0;
  private fd: number | null;

  constructor(
    readonly label: string,
    fd: number,
    size: number,
  ) {
    this.fd = fd;
    this.size = size;
  }

  private stopped = false;

  async next(): Promise<Uint8Array | null> {
    if (this.fd === null || this.stopped) return null;
    const n = readSync(this.fd, this.sendBuf, 0, FILE_CHUNK, this.readPos);
    if (n === 0) return null;
    this.readPos += n;
    return this.sendBuf.subarray(0, n);
  }

  private read(offset: number, n: number): Uint8Array {
    if (this.checkBuf.length < n) this.checkBuf = new Uint8Array(n);
    let got = 0;
    while (got < n && this.fd !== null) {
      const r = readSync(this.fd, this.checkBuf, got, n - got, offset + got);
      if (r === 0) break; // the file shrank under us: what is missing compares as different
      got += r;
    }
    return this.checkBuf.subarray(0, got);
  }

  check(got: Uint8Array, offset: number): number {
    const want = this.read(offset, got.length);
    const short = want.length < got.length;
    const i = firstDifference(short ? got.subarray(0, want.length) : got, want, 0);
    return i >= 0 ? i : short ? want.length : -1;
  }

  sentAt(offset: number, n: number): Uint8Array {
    return this.read(offset, n).slice();
  }

  release(): void {}

  stop(): void {
    this.stopped = true;
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}

/** The part of a stream reader used here (Bun's typings differ between its readers). */
interface Reader {
  read(): Promise<{ done: boolean; value?: Uint8Array }>;
  cancel(): Promise<void>;
}

class StreamSource implements Source {
  readonly size = null;
  /** Sent chunks whose echo has not come back whole; the first starts at `heldStart`. */
  private held: Uint8Array[] = [];
  private heldStart = 0;
  private heldBytes = 0;
  private room: (() => void) | null = null;
  private stopped = false;

  constructor(
    readonly label: string,
    private readonly reader: Reader,
  ) {}

  async next(): Promise<Uint8Array | null> {
    while (this.heldBytes >= STREAM_WINDOW && !this.stopped) await new Promise<void>((r) => (this.room = r));
    if (this.stopped) return null;
    const { value, done } = await this.reader.read();
    if (done || !value || this.stopped) return null;
    if (value.length === 0) return this.next();
    this.held.push(value);
    this.heldBytes += value.length;
    return value;
  }

  check(got: Uint8Array, offset: number): number {
    let at = offset - this.heldStart;
    let k = 0;
    for (const chunk of this.held) {
      if (k === got.length) break;
      if (at >= chunk.length) {
        at -= chunk.length;
        continue;
      }
      const n = Math.min(chunk.length - at, got.length - k);
      const i = firstDifference(got.subarray(k, k + n), chunk, at);
      if (i >= 0) return k + i;
      k += n;
      at = 0;
    }
    return k < got.length ? k : -1;
  }

  sentAt(offset: number, n: number): Uint8Array {
    const parts: Uint8Array[] = [];
    let at = offset - this.heldStart;
    let left = n;
    for (const chunk of this.held) {
      if (left === 0) break;
      if (at >= chunk.length) {
        at -= chunk.length;
        continue;
      }
      const part = chunk.subarray(Math.max(0, at), Math.max(0, at) + left);
      parts.push(part);
      left -= part.length;
      at = 0;
    }
    return Buffer.concat(parts);
  }

  release(offset: number): void {
    let drop = offset - this.heldStart;
    while (drop > 0 && this.held.length > 0) {
      const head = this.held[0]!;
      if (drop < head.length) {
        this.held[0] = head.subarray(drop);
        this.heldStart += drop;
        this.heldBytes -= drop;
        break;
      }
      this.held.shift();
      this.heldStart += head.length;
      this.heldBytes -= head.length;
      drop -= head.length;
    }
    if (this.heldBytes < STREAM_WINDOW) this.wake();
  }

  private wake(): void {
    const r = this.room;
    this.room = null;
    r?.();
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.wake();
    this.reader.cancel().catch(() => {});
  }

  close(): void {
    this.stop();
    this.held = [];
    this.heldBytes = 0;
  }
}

/**
 * Opens `path` ("-": standard input). A regular file is read by offset; anything else (a pipe, a
 * FIFO, /dev/stdin, a device) as a stream. Throws the open's error (ENOENT, EACCES, EISDIR).
 */
export function openSource(path: string): Source {
  if (path === "-") return new StreamSource("standard input", Bun.stdin.stream().getReader());
  const fd = openSync(path, "r");
  try {
    const st = fstatSync(fd);
    if (st.isDirectory()) throw Object.assign(new Error(`${path}: is a directory`), { code: "EISDIR" });
    if (st.isFile()) return new FileSource(path, fd, st.size);
  } catch (e) {
    closeSync(fd);
    throw e;
  }
  closeSync(fd);
  return new StreamSource(path, Bun.file(path).stream().getReader());
}
