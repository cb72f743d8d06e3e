import { errno, strerror } from "./libc.ts";

// Names for the errnos a socket call can plausibly return (asm-generic/errno*.h), so a failure
// reads "EADDRINUSE: Address already in use" rather than a bare number.
const NAMES: Record<number, string> = {
  1: "EPERM", 2: "ENOENT", 4: "EINTR", 9: "EBADF", 11: "EAGAIN", 12: "ENOMEM", 13: "EACCES",
  14: "EFAULT", 22: "EINVAL", 23: "ENFILE", 24: "EMFILE", 88: "ENOTSOCK", 92: "ENOPROTOOPT",
  93: "EPROTONOSUPPORT", 94: "ESOCKTNOSUPPORT", 95: "EOPNOTSUPP", 97: "EAFNOSUPPORT",
  98: "EADDRINUSE", 99: "EADDRNOTAVAIL", 100: "ENETDOWN", 101: "ENETUNREACH", 103: "ECONNABORTED",
  104: "ECONNRESET", 105: "ENOBUFS", 106: "EISCONN", 107: "ENOTCONN", 110: "ETIMEDOUT",
  111: "ECONNREFUSED", 113: "EHOSTUNREACH", 114: "EALREADY", 115: "EINPROGRESS",
};

export function errnoName(code: number): string {
  return NAMES[code] ?? `errno ${code}`;
}

/** A failed syscall: carries the errno so callers can tell EADDRINUSE from the rest. */
export class SyscallError extends Error {
  readonly code: string;
  constructor(
    readonly syscall: string,
    readonly errno: number,
    detail?: string,
  ) {
    super(`${syscall}${detail ? ` ${detail}` : ""} failed: ${errnoName(errno)}: ${strerror(errno)}`);
    this.name = "SyscallError";
    this.code = errnoName(errno);
  }
}

/** Throws a SyscallError when a libc call returned -1; errno is read before anything else runs. */
export function check(result: number, syscall: string, detail?: string): number {
  if (result < 0) throw new SyscallError(syscall, errno(), detail);
  return result;
}
