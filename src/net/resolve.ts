// A host the user typed (an IP address or a name) to the addresses a client tries, in order.
//
// Names go to the system resolver, getaddrinfo(3) through Bun.dns.lookup's "system" backend: it
// reads /etc/hosts and nsswitch.conf and returns the addresses sorted by glibc's RFC 6724 rules
// (tunable in /etc/gai.conf), the order `getent ahosts NAME` prints and the one we keep. Bun's
// default backend on Linux, c-ares, loses addresses from /etc/hosts: with `::1 localhost`,
// `192.0.2.1 mixed.test` and `::1 mixed.test` it answers only 192.0.2.1 (Bun 1.4.5, measured;
// getaddrinfo answers ::1, 192.0.2.1), so it is not used.
import { formatIp, parseIp, type Family } from "./address.ts";

/** One address a name resolved to. */
export interface LookupAddress {
  readonly address: string;
  readonly family: number;
}

/** A resolver: every address of `name`, in the order to try them. Tests inject their own. */
export type Lookup = (name: string) => Promise<readonly LookupAddress[]>;

export const systemLookup: Lookup = (name) => Bun.dns.lookup(name, { backend: "system", socketType: "tcp" });

export interface ResolvedHost {
  /** What was asked, as given. */
  readonly host: string;
  /** Whether `host` was a name (false: an IP address, used as it is without a lookup). */
  readonly isName: boolean;
  /** Canonical address texts (IPv6 without brackets), in order, without repeats. */
  readonly addresses: readonly string[];
  readonly families: readonly Family[];
  /** The name is localhost (RFC 6761 6.3) and the resolver knew nothing of it: the loopback addresses. */
  readonly fallback: boolean;
}

/** A name that did not resolve: `code` is the resolver's (ENOTFOUND, EAI_AGAIN, ETIMEDOUT...). */
export class ResolveError extends Error {
  override name = "ResolveError";
  constructor(
    readonly host: string,
    readonly code: string,
  ) {
    super(`cannot resolve ${host}: ${code}`);
  }
}

/**
 * RFC 6761 6.3: names in localhost. are the loopback host, whatever the resolver says. We still
 * ask it first (an /etc/hosts entry wins), and fall back only when it has no answer, ::1 first as
 * RFC 6724's default policy table ranks it (precedence 50 over IPv4's 35).
 */
const LOCALHOST = /^(?:[^.]+\.)*localhost\.?$/i;
const LOOPBACK = ["::1", "127.0.0.1"] as const;

/** Bun's errors say "DNS_ENOTFOUND" where getaddrinfo's callers know "ENOTFOUND". */
function errorCode(e: unknown): string {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code.replace(/^DNS_/, "") : String((e as Error)?.message ?? e);
}

function withTimeout<T>(p: Promise<T>, seconds: number, host: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  // getaddrinfo cannot be cancelled; the lookup thread is left to finish on its own.
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ResolveError(host, `ETIMEDOUT (no answer within ${seconds} s)`)), seconds * 1000);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

/**
 * The addresses to try for `host`: an IP address as it is (brackets allowed), a name through
 * `lookup` (bounded by `timeoutS`). Throws ResolveError when a name has no address.
 */
export async function resolveHost(host: string, opts: { readonly lookup?: Lookup; readonly timeoutS?: number } = {}): Promise<ResolvedHost> {
  const bare = host.replace(/^\[(.*)\]$/, "$1");
  const ip = parseIp(bare);
  if (ip) return { host, isName: false, addresses: [formatIp(ip.bytes)], families: [ip.family], fallback: false };
  const lookup = opts.lookup ?? systemLookup;
  let found: readonly LookupAddress[];
  try {
    const p = lookup(bare);
    found = await (opts.timeoutS === undefined ? p : withTimeout(p, opts.timeoutS, host));
  } catch (e) {
    if (LOCALHOST.test(bare)) found = [];
    else throw e instanceof ResolveError ? e : new ResolveError(host, errorCode(e));
  }
  const addresses: string[] = [];
  const families: Family[] = [];
  for (const a of found) {
    const parsed = parseIp(a.address);
    if (!parsed) continue; // a zone-scoped link-local address (fe80::1%eth0): not ours to dial
    const text = formatIp(parsed.bytes);
    if (addresses.includes(text)) continue;
    addresses.push(text);
    families.push(parsed.family);
  }
  if (addresses.length > 0) return { host, isName: true, addresses, families, fallback: false };
  if (LOCALHOST.test(bare)) return { host, isName: true, addresses: [...LOOPBACK], families: [6, 4], fallback: true };
  throw new ResolveError(host, "ENOTFOUND");
}
