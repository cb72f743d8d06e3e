import { libc, ptr } from "./libc.ts";
import { check } from "./errno.ts";
import { IPPROTO_TCP, TCP_QUICKACK } from "./constants.ts";

// Scratch buffers reused by every call: option calls run on the JS thread one at a time, and
// allocating per call would put garbage on the data path (quick-ack is re-armed per read). Each
// view sits on an explicit ArrayBuffer: a small `new Int32Array(n)` keeps its bytes in the GC heap
// and JSC moves them once the function using it is optimised, leaving a pointer taken once with
// ptr() dangling (oven-sh/bun#32054; seen here after a few hundred calls). An ArrayBuffer's own
// bytes never move, but ptr() does not keep them alive: a module-level `const` that no function
// refers to is collectable (JSC keeps such bindings out of the module scope), and then the pointer
// reads freed memory. `one` below was such a const: strace showed TCP_QUICKACK set to 0 (quick-ack
// OFF) in 410 of 3,004 calls. So every scratch buffer is held here for the life of the process.
const held: ArrayBuffer[] = [];
export function scratch(bytes: number): ArrayBuffer {
  const b = new ArrayBuffer(bytes);
  held.push(b);
  return b;
}
const intBuf = new Int32Array(scratch(4));
const intPtr = ptr(intBuf);
const lenBuf = new Uint32Array(scratch(4));
const lenPtr = ptr(lenBuf);
const one = new Int32Array(scratch(4));
one[0] = 1;
const onePtr = ptr(one);

export function setIntOption(fd: number, level: number, name: number, value: number, label: string): void {
  intBuf[0] = value;
  check(libc.setsockopt(fd, level, name, intPtr, 4), "setsockopt", label);
}

export function getIntOption(fd: number, level: number, name: number, label: string): number {
  lenBuf[0] = 4;
  check(libc.getsockopt(fd, level, name, intPtr, lenPtr), "getsockopt", label);
  return intBuf[0]!;
}

/**
 * Re-arms quick-ack mode. Linux drops out of it by itself after a few segments (tcp(7): "not
 * permanent"), so it has to be set again after each read whose ACK would otherwise be delayed.
 * Returns false when the fd is already gone (a race with close), which callers may ignore.
 */
export function armQuickAck(fd: number): boolean {
  return libc.setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, onePtr, 4) === 0;
}
