import { libc, errno, ptr } from "./libc.ts";
import { scratch } from "./sockopt.ts";

// Writing to a descriptor we do not own the mode of (stderr: a terminal, a pipe, a file, the
// journal's socket) without ever blocking the event loop, and without setting O_NONBLOCK on a file
// description other processes share. poll(2) says whether there is room; a write of at most
// PIPE_BUF bytes then fits in a pipe with room (pipe(7): a write of n <= PIPE_BUF needs one free
// buffer page, which POLLOUT promises), and sockets and terminals report POLLOUT only with room too.
const POLLOUT = 0x4;
const POLLERR = 0x8;
const POLLHUP = 0x10;
const POLLNVAL = 0x20;
const EAGAIN = 11;
const EINTR = 4;
/** pipe(7): writes of at most this many bytes are atomic. */
export const PIPE_BUF = 4096;
const NEWLINE = 0x0a;

const pollBuf = new Int32Array(scratch(8));
const pollPtr = ptr(pollBuf);

/** Room to write now: true, false (would block), or null when the descriptor is broken or gone. */
function writable(fd: number, ms: number): boolean | null {
  pollBuf[0] = fd;
  pollBuf[1] = POLLOUT;
  const n = libc.poll(pollPtr, 1, ms);
  if (n < 0) return errno() === EINTR ? false : null;
  if (n === 0) return false;
  const revents = pollBuf[1]! >>> 16;
  if (revents & (POLLERR | POLLHUP | POLLNVAL)) return null;
  return (revents & POLLOUT) !== 0;
}

/**
 * Writes as much of bytes[offset..] as the descriptor takes without blocking, in pieces of at most
 * PIPE_BUF bytes that end at a newline where one is in reach.
 * Returns the bytes written (0: no room now), or -1 when the descriptor is broken (a reader that
 * went away: EPIPE, POLLHUP). `waitMs` lets the first poll wait (used when flushing at exit).
 */
export function writeSome(fd: number, bytes: Uint8Array, offset: number, waitMs = 0): number {
  let done = 0;
  let wait = waitMs;
  while (offset + done < bytes.length) {
    const room = writable(fd, wait);
    wait = 0;
    if (room === null) return done > 0 ? done : -1;
    if (!room) break;
    const start = offset + done;
    let len = Math.min(PIPE_BUF, bytes.length - start);
    // Worker processes share one stderr: only a write of at most PIPE_BUF bytes is atomic (pipe(7)),
    // so a piece ends at a newline, or another process's piece lands inside a line and tears it.
    // A line longer than PIPE_BUF cannot be atomic anyway and goes in PIPE_BUF pieces.
    if (start + len < bytes.length) {
      const nl = bytes.lastIndexOf(NEWLINE, start + len - 1);
      if (nl >= start) len = nl - start + 1;
    }
    const n = Number(libc.write(fd, ptr(bytes, start), len));
    if (n < 0) {
      const e = errno();
      if (e === EAGAIN || e === EINTR) break;
      return done > 0 ? done : -1;
    }
    done += n;
  }
  return done;
}

/**
 * writeSome for a regular file: poll(2) always reports one writable and write(2) to one takes
 * what it is given (up to the disk's errors), so the whole batch goes in one write, without the
 * poll and the PIPE_BUF pieces (two syscalls per 4 KiB; a fifth of the server's time at info
 * in connect16, measured). Returns what writeSome returns.
 */
export function writeFileSome(fd: number, bytes: Uint8Array, offset: number): number {
  let done = 0;
  while (offset + done < bytes.length) {
    const n = Number(libc.write(fd, ptr(bytes, offset + done), bytes.length - offset - done));
    if (n < 0) {
      const e = errno();
      if (e === EINTR) continue;
      if (e === EAGAIN) break;
      return done > 0 ? done : -1;
    }
    done += n;
  }
  return done;
}
