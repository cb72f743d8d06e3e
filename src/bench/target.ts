// The one address a benchmark runs against. Every connection of a run goes to the same address, so
// a name is resolved once, before the run: with several addresses, the first that accepts a probe
// connection (opened and closed at once, before any measured traffic) is used, as a client trying
// them in order would settle on it. An IP address, or a name with one address, is used without a
// probe: a refused connect is then counted by the run as an error, as loadgen counts it.
import { closeFd, hostPort } from "../net/index.ts";
import { dialInOrder, failureReason, type DialFailure } from "../net/dial.ts";
import { resolveHost, type Lookup, type ResolvedHost } from "../net/resolve.ts";

/** Seconds a probe connect (and a name lookup) may take: loadgen's connect timeout. */
export const PROBE_TIMEOUT_S = 10;

export interface BenchTarget {
  /** The address to run against (canonical, IPv6 without brackets). */
  readonly host: string;
  readonly resolved: ResolvedHost;
  /** A probe connection to `host` succeeded (false: no probe was made, or none succeeded). */
  readonly probed: boolean;
  /** The addresses that refused or timed out before `host` (all of them when none answered), in order. */
  readonly failures: readonly DialFailure[];
}

export interface TargetOptions {
  readonly lookup?: Lookup;
  /** Hears each failed probe that is followed by another. */
  readonly onRetry?: (failed: DialFailure, next: string) => void;
  readonly timeoutS?: number;
}

/** Resolves `host` (ResolveError when a name has no address) and picks the address to run against. */
export async function chooseBenchTarget(host: string, port: number, o: TargetOptions = {}): Promise<BenchTarget> {
  const timeout = o.timeoutS ?? PROBE_TIMEOUT_S;
  const resolved = await resolveHost(host, { lookup: o.lookup, timeoutS: timeout });
  const first = resolved.addresses[0]!;
  if (resolved.addresses.length === 1) return { host: first, resolved, probed: false, failures: [] };
  const failures: DialFailure[] = [];
  try {
    const conn = await dialInOrder(resolved.addresses, { port, synRetries: null, recvBuf: null, sendBuf: null, timeout }, (f, next) => {
      failures.push(f);
      o.onRetry?.(f, next);
    });
    closeFd(conn.fd);
    return { host: conn.peer.host, resolved, probed: true, failures };
  } catch (e) {
    const last = resolved.addresses[resolved.addresses.length - 1]!;
    failures.push({ address: hostPort(last, port), error: e as Error, reason: failureReason(e) });
    return { host: first, resolved, probed: false, failures };
  }
}

/** "localhost:9999 ([::1]:9999)" for a name, "[::1]:9999" for an address: the report's target. */
export function targetLabel(given: string, port: number, address: string): string {
  const used = hostPort(address, port);
  const asked = hostPort(given.replace(/^\[(.*)\]$/, "$1"), port);
  return asked === used ? used : `${asked} (${used})`;
}
