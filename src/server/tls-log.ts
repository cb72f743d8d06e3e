// How TLS shows in the logs: the negotiated session in the open line (text and JSON), what a
// client offered in a failed handshake's line, and a listener's TLS settings in the start-up report.
import type { Logger } from "../log/index.ts";
import type { TlsReport } from "./tls-store.ts";
import type { TlsClientCertificate, TlsOffer, TlsSession } from "./tls-state.ts";

/** "TLSv1.3 TLS_AES_256_GCM_SHA384, SNI foo.test, ALPN h2 (offered h2,http/1.1), client CN=c [DNS:c.test] SHA-256 AB:..., verified" */
export function sessionText(s: TlsSession): string {
  const parts = [`${s.version} ${s.cipher ?? "(no cipher)"}`, s.sni === null ? "no SNI" : `SNI ${s.sni}`];
  const offered = s.offered?.alpn ?? [];
  if (s.alpn !== null || offered.length > 0) parts.push(`ALPN ${s.alpn ?? "none"}${offered.length > 0 ? ` (offered ${offered.join(",")})` : ""}`);
  if (s.resumed) parts.push("resumed");
  if (s.client) parts.push(`client ${clientText(s.client)}`);
  return parts.join(", ");
}

export function clientText(c: TlsClientCertificate): string {
  return `${c.subject}${c.sans.length ? ` [${c.sans.join(", ")}]` : ""} SHA-256 ${c.fingerprint256}, ${c.verified ? "verified" : `not verified (${c.verifyError})`}`;
}

/** The open line's `tls` field. */
export function sessionJson(s: TlsSession): Record<string, unknown> {
  return {
    version: s.version,
    cipher: s.cipher,
    sni: s.sni,
    alpn: s.alpn,
    resumed: s.resumed,
    served: s.served,
    offered: s.offered,
    client: s.client && {
      subject: s.client.subject,
      issuer: s.client.issuer,
      sans: s.client.sans,
      sha256: s.client.fingerprint256,
      serial: s.client.serialNumber,
      not_before: s.client.notBefore,
      not_after: s.client.notAfter,
      verified: s.client.verified,
      verify_error: s.client.verifyError,
    },
    handshake_ms: Math.round(s.handshakeMs * 1000) / 1000,
  };
}

/** "client offered SNI foo.test, ALPN h2,http/1.1, TLSv1.3,TLSv1.2"; what a failed handshake's line adds. */
export function offerText(o: TlsOffer | null): string {
  if (!o) return "no ClientHello read";
  return `client offered ${o.sni === null ? "no SNI" : `SNI ${o.sni}`}, ${o.alpn.length ? `ALPN ${o.alpn.join(",")}` : "no ALPN"}, ${o.versions.join(",")}`;
}

/** A listener's TLS block of the start-up report: one line per certificate, one for the settings. */
export function logTlsReport(log: Logger, level: "info" | "debug", listener: string, r: TlsReport): void {
  for (const c of r.certificates) {
    const which = c.names.length === 0 ? "certificate" : `certificate for SNI ${c.names.join(", ")}`;
    const expired = Date.parse(c.notAfter) < Date.now() ? " EXPIRED" : "";
    log.log(
      level,
      "tls-certificate",
      `  tls ${which}: ${c.subject} [${c.sans.join(", ")}] SHA-256 ${c.fingerprint256}, valid ${c.notBefore} to ${c.notAfter}${expired}${c.chainLength > 1 ? `, chain of ${c.chainLength}` : ""} (${c.source})`,
      { listener, names: c.names, source: c.source, subject: c.subject, sans: c.sans, sha256: c.fingerprint256, not_before: c.notBefore, not_after: c.notAfter, chain: c.chainLength },
    );
  }
  const auth = r.clientAuth === "off" ? "off" : `${r.clientAuth} (${r.clientCa ? `CA ${r.clientCa.subjects.join("; ")} from ${r.clientCa.file}` : "verified against the bundled root CAs"})`;
  log.log(level, "tls", `  tls: min version ${r.minVersion}, ALPN ${r.alpn ? r.alpn.join(",") : "off"}, client certificates ${auth}`, {
    listener,
    min_version: r.minVersion,
    alpn: r.alpn,
    client_auth: r.clientAuth,
    client_ca: r.clientCa?.file ?? null,
  });
}
