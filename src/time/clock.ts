/**
 * Time as the server sees it: a monotonic now() in ms, and a repeating tick. Real by default;
 * tests pass a virtual clock so timeout logic is tested without waiting on the wall clock.
 */
export interface Clock {
  now(): number;
  /** Calls `fn` every `ms` until the returned function is called; does not keep the process alive. */
  every(ms: number, fn: () => void): () => void;
}

export const realClock: Clock = {
  now: () => performance.now(),
  every(ms, fn) {
    const t = setInterval(fn, ms);
    t.unref?.();
    return () => clearInterval(t);
  },
};
