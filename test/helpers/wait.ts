/** Resolves once `cond()` holds, checking every 10 ms; rejects after `ms` with `what`. */
export async function until(cond: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = performance.now() + ms;
  while (!cond()) {
    if (performance.now() > deadline) throw new Error(`timed out after ${ms} ms waiting until ${what}`);
    await Bun.sleep(10);
  }
}
