// Connecting to a name's addresses one after another, as getaddrinfo(3)'s order says: the first
// that completes its handshake wins. Sequential on purpose (not RFC 8305's Happy Eyeballs race):
// the client reports each failure, and a test tool should show a broken first address, not hide it.
import { hostPort } from "./address.ts";
import { connectSocket, ConnectTimeoutError, type ConnectOptions, type Connected } from "./connect.ts";
import { SyscallError } from "./errno.ts";

/** One address that did not connect, and why, in a few words ("ECONNREFUSED", "timed out after 2 s"). */
export interface DialFailure {
  readonly address: string;
  readonly error: Error;
  readonly reason: string;
}

/** "ECONNREFUSED" for a refused connect, the timeout for one that timed out, else the message. */
export function failureReason(e: unknown): string {
  if (e instanceof SyscallError) return e.code;
  if (e instanceof ConnectTimeoutError) return `timed out after ${e.seconds} s`;
  return String((e as Error)?.message ?? e);
}

/**
 * Connects to `hosts[0]:port`, then the next on any failure; `o.timeout` bounds each attempt.
 * `onRetry` hears each failure that is followed by another attempt. Throws the last address's
 * error (so one address fails exactly as connectSocket does) or, when aborted, stops trying.
 */
export async function dialInOrder(
  hosts: readonly string[],
  o: Omit<ConnectOptions, "host">,
  onRetry?: (failed: DialFailure, next: string) => void,
): Promise<Connected> {
  if (hosts.length === 0) throw new TypeError("dialInOrder: no address");
  for (let i = 0; ; i++) {
    const host = hosts[i]!;
    try {
      return await connectSocket({ ...o, host });
    } catch (e) {
      const last = i === hosts.length - 1;
      if (last || o.signal?.aborted) throw e;
      onRetry?.({ address: hostPort(host, o.port), error: e as Error, reason: failureReason(e) }, hostPort(hosts[i + 1]!, o.port));
    }
  }
}
