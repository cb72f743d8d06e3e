import { libc, ptr } from "./libc.ts";
import { scratch } from "./sockopt.ts";

// ioctl(SIOCINQ) (tcp(7); the same number as FIONREAD): unread bytes in the receive queue.
const SIOCINQ = 0x541b;
const inqBuf = new Int32Array(scratch(4));
const inqPtr = ptr(inqBuf);

/**
 * Bytes the kernel has received for `fd` that nobody has read yet. At shutdown this says exactly
 * how much the peer sent before our decision to stop, so all of it is echoed before our FIN.
 * Returns 0 when the fd is gone.
 */
export function unreadBytes(fd: number): number {
  return libc.ioctl(fd, SIOCINQ, inqPtr) === 0 ? inqBuf[0]! : 0;
}
