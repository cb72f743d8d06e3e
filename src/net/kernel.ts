import { readFileSync } from "node:fs";

/** Kernel limits that bound what the socket options can achieve; null where /proc does not say. */
export interface KernelLimits {
  /** net.core.somaxconn: listen() silently caps its backlog here. */
  readonly somaxconn: number | null;
  /** net.ipv4.tcp_max_syn_backlog: half-open (SYN_RECV) connections per listener. */
  readonly synBacklog: number | null;
  /** net.core.rmem_max / wmem_max: caps on SO_RCVBUF / SO_SNDBUF before the kernel doubles them. */
  readonly rmemMax: number | null;
  readonly wmemMax: number | null;
  /** net.ipv4.tcp_synack_retries: how often an unanswered SYN-ACK is resent. */
  readonly synackRetries: number | null;
  /** Seconds a half-open connection can wait for the client's final ACK; see synackTimeout(). */
  readonly maxConnectTimeout: number | null;
}

function readInt(path: string): number | null {
  try {
    const n = Number.parseInt(readFileSync(path, "utf8").trim(), 10);
    return Number.isFinite(n) ? n : null;
  } catch {
    return null;
  }
}

/**
 * The server-side connect timeout: the SYN-ACK is retransmitted with an initial RTO of 1 s that
 * doubles each time (RFC 6298 section 5.5), and after the last retry the kernel waits one more
 * doubled RTO, so r retries give 1 + 2 + ... + 2^r = 2^(r+1) - 1 seconds (5 retries: 63 s).
 */
export function synackTimeout(retries: number): number {
  return 2 ** (retries + 1) - 1;
}

export function readKernelLimits(): KernelLimits {
  const synackRetries = readInt("/proc/sys/net/ipv4/tcp_synack_retries");
  return {
    somaxconn: readInt("/proc/sys/net/core/somaxconn"),
    synBacklog: readInt("/proc/sys/net/ipv4/tcp_max_syn_backlog"),
    rmemMax: readInt("/proc/sys/net/core/rmem_max"),
    wmemMax: readInt("/proc/sys/net/core/wmem_max"),
    synackRetries,
    maxConnectTimeout: synackRetries === null ? null : synackTimeout(synackRetries),
  };
}
