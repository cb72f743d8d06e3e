import { libc, errno, ptr } from "./libc.ts";
import { check, SyscallError } from "./errno.ts";
import { scratch } from "./sockopt.ts";

// getrlimit(2) / setrlimit(2) for RLIMIT_NOFILE (asm-generic/resource.h: 7), on struct rlimit
// { rlim_t rlim_cur, rlim_max } with 64-bit rlim_t on x86_64 and aarch64.
const RLIMIT_NOFILE = 7;
const limBuf = new BigUint64Array(scratch(16));
const limPtr = ptr(limBuf);

export interface FdLimit {
  /** The soft limit before we touched it, and now. */
  readonly before: number;
  readonly soft: number;
  readonly hard: number;
}

function read(): { soft: number; hard: number } {
  check(libc.getrlimit(RLIMIT_NOFILE, limPtr), "getrlimit", "RLIMIT_NOFILE");
  return { soft: Number(limBuf[0]!), hard: Number(limBuf[1]!) };
}

/**
 * Raises the soft RLIMIT_NOFILE to the hard one: every connection is a descriptor, and the soft
 * limit (often 1024) is a compatibility default for select(2) users, which we are not. Raising it
 * needs no privilege (setrlimit(2)). Children inherit the raised limit.
 */
export function raiseFdLimit(): FdLimit {
  const { soft, hard } = read();
  if (soft < hard) {
    limBuf[0] = BigInt(hard);
    limBuf[1] = BigInt(hard);
    check(libc.setrlimit(RLIMIT_NOFILE, limPtr), "setrlimit", "RLIMIT_NOFILE");
  }
  const now = read();
  return { before: soft, soft: now.soft, hard: now.hard };
}

const EMFILE = 24;
const ENFILE = 23;
const F_DUPFD_CLOEXEC = 1030;

/**
 * How many more descriptors this process can open, counted up to `want`, by duplicating `fd` that
 * many times and closing the copies at once: the only exact answer (the kernel keeps no count we
 * can read cheaply). 0 means the limit is reached (EMFILE, or ENFILE for the whole system).
 */
export function freeFds(fd: number, want: number): number {
  const copies: number[] = [];
  try {
    while (copies.length < want) {
      const d = libc.fcntl(fd, F_DUPFD_CLOEXEC, 0);
      if (d < 0) {
        const e = errno();
        if (e === EMFILE || e === ENFILE) break;
        throw new SyscallError("fcntl", e, "F_DUPFD_CLOEXEC");
      }
      copies.push(d);
    }
    return copies.length;
  } finally {
    for (const d of copies) libc.close(d);
  }
}
