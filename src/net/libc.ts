// The one place that talks to libc through bun:ffi (the rest of src/net builds on it). Bun's socket
// API cannot create a socket with options set before bind(), read options back, re-arm TCP_QUICKACK
// or query the kernel's sock_diag interface; these symbols do that on the fds Bun hands us.
import { dlopen, FFIType, ptr, read, CString, type Pointer } from "bun:ffi";

const { i32, u32, ptr: pointer, cstring } = FFIType;

const lib = dlopen("libc.so.6", {
  socket: { args: [i32, i32, i32], returns: i32 },
  bind: { args: [i32, pointer, u32], returns: i32 },
  listen: { args: [i32, i32], returns: i32 },
  connect: { args: [i32, pointer, u32], returns: i32 },
  getsockname: { args: [i32, pointer, pointer], returns: i32 },
  getpeername: { args: [i32, pointer, pointer], returns: i32 },
  setsockopt: { args: [i32, i32, i32, pointer, u32], returns: i32 },
  getsockopt: { args: [i32, i32, i32, pointer, pointer], returns: i32 },
  send: { args: [i32, pointer, FFIType.u64, i32], returns: FFIType.i64 },
  recv: { args: [i32, pointer, FFIType.u64, i32], returns: FFIType.i64 },
  close: { args: [i32], returns: i32 },
  // The log writer's own non-blocking path to stderr (fd-write.ts).
  write: { args: [i32, pointer, FFIType.u64], returns: FFIType.i64 },
  // A second fd on the same listening socket: a new Bun.listen (new TLS certificate) can take it
  // over while the old one stops, with no moment where the port refuses connections.
  fcntl: { args: [i32, i32, i32], returns: i32 },
  // Variadic in C; the x86_64 and aarch64 calling conventions pass this pointer like a fixed arg.
  ioctl: { args: [i32, FFIType.u64, pointer], returns: i32 },
  // The client waits for its non-blocking connect with it (connect(2): "poll(2) for completion").
  poll: { args: [pointer, FFIType.u64, i32], returns: i32 },
  getrlimit: { args: [i32, pointer], returns: i32 },
  // The GC ballast's pages (mapping.ts): address space the process holds and never touches.
  mmap: { args: [pointer, FFIType.u64, i32, i32, i32, FFIType.i64], returns: pointer },
  setrlimit: { args: [i32, pointer], returns: i32 },
  __errno_location: { args: [], returns: pointer },
  strerror: { args: [i32], returns: cstring },
});

export const libc = lib.symbols;

/** errno of the calling thread; read it right after the failing call, before any other libc call. */
export function errno(): number {
  const p = lib.symbols.__errno_location() as Pointer;
  return read.i32(p, 0);
}

export function strerror(code: number): string {
  return String(lib.symbols.strerror(code) as unknown as CString);
}

export { ptr };
