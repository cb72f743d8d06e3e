import { libc, ptr } from "./libc.ts";

const MSG_DONTWAIT = 0x40;

/**
 * Reads what the kernel already holds for `fd` without waiting (recv(2) with MSG_DONTWAIT), at
 * most `max` bytes. Used once, at shutdown, so that bytes the peer sent before our FIN are echoed
 * rather than lost: Bun would only read them on a later turn of the event loop. Returns the bytes
 * read (possibly none).
 */
export function readAvailable(fd: number, max: number): Uint8Array {
  const buf = new Uint8Array(max);
  let got = 0;
  while (got < max) {
    const n = Number(libc.recv(fd, ptr(buf, got), max - got, MSG_DONTWAIT));
    if (n <= 0) break;
    got += n;
  }
  return buf.subarray(0, got);
}
