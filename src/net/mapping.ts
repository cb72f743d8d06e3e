// Memory the JavaScript heap counts and the kernel never backs: an ArrayBuffer over an anonymous,
// read-only mapping. mmap(2): an anonymous mapping reads as zeroes and gets a page only when one
// is touched; read-only, nothing can touch it by writing. (A plain `new ArrayBuffer` of this size
// is zero-filled by the allocator when it reuses freed memory: 8 MiB of it made `serve` 7.3 MB
// larger at start, measured.)
import { toArrayBuffer, type Pointer } from "bun:ffi";
import { MAP_ANONYMOUS, MAP_NORESERVE, MAP_PRIVATE, PROT_READ } from "./constants.ts";
import { errno, libc, strerror } from "./libc.ts";

/**
 * An ArrayBuffer of `bytes` zeroes that costs address space, not memory, for the rest of the
 * process (it is never unmapped). Throws with the kernel's reason when the mapping is refused.
 */
export function untouchedBuffer(bytes: number): ArrayBuffer {
  const at = libc.mmap(null, bytes, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  // MAP_FAILED is (void *) -1, which no JavaScript number holds exactly.
  if (at === null || !Number.isSafeInteger(at)) {
    const e = errno();
    throw new Error(`mmap of ${bytes} bytes failed: ${strerror(e)}`);
  }
  return toArrayBuffer(at as Pointer, 0, bytes);
}
