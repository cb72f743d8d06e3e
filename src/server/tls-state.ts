// One connection's TLS: the ClientHello gathered before the upgrade, what the client offered, and
// once the handshake is done what was negotiated. It hangs off the Connection (`c.tls`), so whatever
// describes a connection (logs now, a /connections API later) finds it there.
import { isGrease, tlsVersionName, type CertificateSummary, type ClientHello } from "../tls/index.ts";
import { sessionJson } from "./tls-log.ts";

/**
 * How a handshake ended, as the metrics count it (tcp_echo_tls_handshakes_total{result}): ok;
 * failed (the TLS library refused it: an alert, no common version or ALPN, not TLS at all);
 * rejected (client auth: no client certificate, or one that does not verify, where one is
 * required); timeout (not done within --timeout); aborted (the peer left before it was done).
 */
export const TLS_RESULTS = ["ok", "failed", "rejected", "timeout", "aborted"] as const;
export type TlsResult = (typeof TLS_RESULTS)[number];

/** Version label values: the negotiated version, or for a failed handshake the highest the client offered. */
const KNOWN_VERSIONS = new Set(["TLSv1.3", "TLSv1.2", "TLSv1.1", "TLSv1", "SSLv3"]);

/** What the client offered in its ClientHello (GREASE values left out). */
export interface TlsOffer {
  readonly sni: string | null;
  readonly alpn: readonly string[];
  readonly versions: readonly string[];
}

/** The client's certificate (client auth), with whether it verified. */
export interface TlsClientCertificate extends CertificateSummary {
  readonly verified: boolean;
  /** Why it did not verify ("UNABLE_TO_VERIFY_LEAF_SIGNATURE: unable to verify the first certificate"); null when it did. */
  readonly verifyError: string | null;
}

/** What was negotiated; the `tls` field of the open line (JSON field names). */
export interface TlsSession {
  readonly version: string;
  readonly cipher: string | null;
  /** The server name the client sent (SNI), or null. */
  readonly sni: string | null;
  /** The protocol chosen by ALPN, or null. */
  readonly alpn: string | null;
  /** An abbreviated handshake (a resumed session: a TLS 1.2 session id, a TLS 1.3 ticket). */
  readonly resumed: boolean;
  /** The subject of the certificate we served (SNI chooses it). */
  readonly served: string;
  readonly offered: TlsOffer | null;
  readonly client: TlsClientCertificate | null;
  /** From the first ClientHello byte to the end of the handshake. */
  readonly handshakeMs: number;
}

export class TlsState {
  /** ClientHello bytes gathered across reads until it is complete. */
  pending: Uint8Array | null = null;
  hello: ClientHello | null = null;
  /** Why the first bytes are not a ClientHello we could read (the TLS engine then gets them anyway). */
  helloProblem: string | null = null;
  /** When the first ClientHello byte arrived (clock ms); 0 before. */
  firstByteAt = 0;
  upgraded = false;
  /** The subject of the certificate chosen for this connection. */
  served = "";
  session: TlsSession | null = null;
  /** Set once, when the handshake's fate is known (counted then). */
  result: TlsResult | null = null;

  /** The client's offer, once its ClientHello was read. */
  offer(): TlsOffer | null {
    const h = this.hello;
    if (!h) return null;
    return { sni: h.serverName, alpn: h.alpn, versions: h.versions.filter((v) => !isGrease(v)).map(tlsVersionName) };
  }

  /**
   * What a description of the connection (a /connections API, a status page) shows: where the
   * handshake is, what the client offered, and once done what was negotiated (the open line's
   * `tls` field).
   */
  toJSON(): Record<string, unknown> {
    const phase = this.session ? "done" : this.result ? this.result : this.upgraded ? "handshake" : "hello";
    return {
      phase,
      result: this.result,
      hello_bytes: this.pending?.length ?? null,
      offered: this.offer(),
      ...(this.session ? sessionJson(this.session) : {}),
    };
  }

  /** The metrics' version label: negotiated, else the highest offered, else "unknown" (bounded: no hex values). */
  versionLabel(): string {
    if (this.session) return KNOWN_VERSIONS.has(this.session.version) ? this.session.version : "unknown";
    const h = this.hello;
    if (!h) return "unknown";
    const real = h.versions.filter((v) => !isGrease(v));
    if (real.length === 0) return "unknown";
    const name = tlsVersionName(Math.max(...real));
    return KNOWN_VERSIONS.has(name) ? name : "unknown";
  }
}
