/**
 * Bun's socket.timeout(n), the backstop under our own deadline wheel. Its rule, from uSockets
 * (`us_socket_timeout`, `us_internal_timer_sweep`) and measured here on Bun 1.4.5:
 * - The loop sweeps every 4 s. timeout(n) with n <= 240 sets the socket to fire at the sweep
 *   ceil(n / 4) ticks after the current one, so it fires between 4 * ceil(n / 4) - 4 and
 *   4 * ceil(n / 4) seconds after the call: timeout(3) may fire at once (0..4 s).
 * - Above 240 s Bun switches to the long timer: floor(n / 60) minutes on a 60 s sweep, so it
 *   fires between 60 * (m - 1) and 60 * m seconds after the call. Both counters wrap at 240.
 * - Calling it again replaces the previous setting; traffic does not touch it; 0 disarms it.
 * So the backstop is armed for a time whose EARLIEST firing lies past our own deadline plus a
 * margin, and it is re-armed whenever our deadline moves (each time the wheel comes round).
 */

/** Our wheel must have failed to act for this long past its deadline before Bun's timer may fire. */
export const BACKSTOP_MARGIN_S = 4;

const TICK_S = 4;
const SHORT_MAX_S = 240;
const LONG_TICK_S = 60;
/** The long counter wraps at 240 minutes; stay one short of it. */
const LONG_MAX_MIN = 239;

/**
 * The seconds to pass to socket.timeout() so that it cannot fire before `remainingMs` plus the
 * margin has passed; 0 (disarmed) when no setting can promise that (deadlines beyond ~4 hours).
 */
export function backstopSeconds(remainingMs: number): number {
  const need = Math.max(0, remainingMs) / 1000 + BACKSTOP_MARGIN_S;
  // Earliest firing 4 * (ticks - 1) >= need.
  const ticks = Math.ceil(need / TICK_S) + 1;
  if (ticks * TICK_S <= SHORT_MAX_S) return ticks * TICK_S;
  // Earliest firing 60 * (minutes - 1) >= need; Bun passes floor(n / 60) as minutes.
  const minutes = Math.ceil(need / LONG_TICK_S) + 1;
  return minutes <= LONG_MAX_MIN ? minutes * LONG_TICK_S : 0;
}

/** The earliest time, in seconds after arming, at which Bun may fire timeout(seconds). */
export function earliestFiring(seconds: number): number {
  if (seconds <= 0) return Infinity;
  if (seconds <= SHORT_MAX_S) return TICK_S * (Math.ceil(seconds / TICK_S) - 1);
  return LONG_TICK_S * (Math.floor(seconds / LONG_TICK_S) - 1);
}
