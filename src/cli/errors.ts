/** Exit codes, documented in the README. */
export const EXIT = {
  ok: 0,
  /** A failed syscall (address in use, permission denied), a failed echo, a timeout. */
  failure: 1,
  /** Bad input: unknown option, bad value. */
  usage: 2,
} as const;

/** A mistake in what the user typed; printed as one line, exit code 2. */
export class UsageError extends Error {
  override name = "UsageError";
}
