/**
 * Bun's socket.timeout(n), the backstop under our own deadline wheel. Its rule, from uSockets
 * (`us_socket_timeout`, `us_internal_timer_sweep`) and measured on Bun 1.4.5
 * (experiments/socket-timeout.ts on the research branch; README "Idle timeouts"):
 * - The loop sweeps every 4 s. timeout(n) with 1 <= n <= 240 fires at the sweep ceil(n / 4) ticks
 *   after the current one: between 4 * ceil(n / 4) - 4 and 4 * ceil(n / 4) seconds after the
 *   call. timeout(3) may fire at once.
 * - Above 240 Bun moves the socket to its per-minute timer, for which Bun.listen registers no
 *   handler: it never fires. Fractions are truncated (0.5 disarms).
 * - Calling it again restarts it; traffic does not touch it; 0 disarms it. Bun arms 120 s on every
 *   accepted socket by itself, so a server without idle timeout must disarm it.
 * So the backstop is armed for a time whose EARLIEST firing lies past our own deadline plus a
 * margin, re-armed whenever our deadline moves (each time the wheel comes round), and disarmed
 * when no value of 240 or less can promise that.
 */

/** Our wheel must have failed to act for this long past its deadline before Bun's timer may fire. */
export const BACKSTOP_MARGIN_S = 4;

const TICK_S = 4;
const MAX_S = 240;

/**
 * The seconds to pass to socket.timeout() so that it cannot fire before `remainingMs` plus the
 * margin has passed; 0 (disarmed) for deadlines beyond what 240 s can cover.
 */
export function backstopSeconds(remainingMs: number): number {
  const need = Math.max(0, remainingMs) / 1000 + BACKSTOP_MARGIN_S;
  // Earliest firing 4 * (ticks - 1) >= need.
  const ticks = Math.ceil(need / TICK_S) + 1;
  return ticks * TICK_S <= MAX_S ? ticks * TICK_S : 0;
}

/** The earliest time, in seconds after arming, at which Bun may fire timeout(seconds). */
export function earliestFiring(seconds: number): number {
  if (seconds < 1 || seconds > MAX_S) return Infinity;
  return TICK_S * (Math.ceil(Math.floor(seconds) / TICK_S) - 1);
}
