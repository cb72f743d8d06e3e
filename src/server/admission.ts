import { plural } from "../log/plural.ts";
import { perIpKey, refusal, type AccessConfig } from "./access.ts";

/** Why a new connection is refused at once (reason, the rule in words, its log fields). */
export interface Refusal {
  readonly reason: "limit" | "denied";
  readonly why: string;
  readonly fields: Readonly<Record<string, unknown>>;
}

/**
 * Who may connect: --max-connections (counted over the listener's open connections), --allow /
 * --deny, and --max-per-ip (open connections per peer address). Decides only; the echo handlers
 * refuse (RST) and log.
 */
export class Admission {
  private readonly perIp = new Map<string, number>();

  constructor(
    private readonly maxConnections: number,
    private readonly access: AccessConfig | null,
  ) {}

  /** admit() reads the peer's address (access rules); without them it need not be read at all. */
  get needsAddress(): boolean {
    return this.access !== null;
  }

  /** Admitted connections count against --max-per-ip until release(); they must be released. */
  get countsPerIp(): boolean {
    return (this.access?.maxPerIp ?? 0) > 0;
  }

  /** null: admitted (and counted per address when countsPerIp); else why not. `address` is only
   * looked at when needsAddress. */
  admit(address: string, open: number): Refusal | null {
    return this.limit(open) ?? this.judge(address);
  }

  /** --max-connections alone: decided at accept, whoever the client turns out to be. */
  limit(open: number): Refusal | null {
    if (this.maxConnections > 0 && open > this.maxConnections) {
      return { reason: "limit", why: `${plural(open - 1, "connection")} open, --max-connections is ${this.maxConnections}`, fields: { max_connections: this.maxConnections } };
    }
    return null;
  }

  /** --allow, --deny, --max-per-ip for an address (the peer, or the client a PROXY header named). */
  judge(address: string): Refusal | null {
    const access = this.access;
    if (!access) return null;
    const why = refusal(access, address);
    if (why) return { reason: "denied", why, fields: { rule: why } };
    const max = access.maxPerIp;
    if (max > 0) {
      const key = perIpKey(address, access.perIpPrefix6);
      const n = this.perIp.get(key) ?? 0;
      if (n >= max) return { reason: "denied", why: `--max-per-ip ${max}: ${n} open from ${key}`, fields: { rule: `--max-per-ip ${max}` } };
      this.perIp.set(key, n + 1);
    }
    return null;
  }

  release(address: string): void {
    const key = perIpKey(address, this.access?.perIpPrefix6 ?? 128);
    const n = (this.perIp.get(key) ?? 1) - 1;
    if (n > 0) this.perIp.set(key, n);
    else this.perIp.delete(key);
  }
}
