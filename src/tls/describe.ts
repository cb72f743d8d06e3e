// Certificates as the logs show them: subject, SANs, SHA-256 fingerprint, validity. Parsing goes
// through node:crypto's X509Certificate (BoringSSL in Bun), not @peculiar/x509, so describing a
// client certificate costs no library load (measured: about 26 µs a certificate).
import { X509Certificate } from "node:crypto";
import type { PeerCertificate } from "node:tls";

export interface CertificateSummary {
  /** RFC 4514-like, in the certificate's order: "CN=client-one, O=tcp-echo tests". */
  readonly subject: string;
  readonly issuer: string;
  /** As OpenSSL and Node print them: "DNS:foo.test", "IP Address:127.0.0.1", "email:a@b.test". */
  readonly sans: readonly string[];
  /** SHA-256 of the DER certificate, colon-separated upper-case hex (`openssl x509 -fingerprint -sha256`). */
  readonly fingerprint256: string;
  /** Hex, upper-case, as OpenSSL prints it. */
  readonly serialNumber: string;
  /** ISO 8601 (UTC). */
  readonly notBefore: string;
  readonly notAfter: string;
}

/** What Bun hands us for a peer (getPeerCertificate / getPeerX509Certificate) or what a file holds. */
export type CertificateInput = string | Uint8Array | X509Certificate | PeerCertificate;

/**
 * Summarizes a certificate given as PEM text, DER bytes, a node:crypto X509Certificate, or the
 * object socket.getPeerCertificate() returns (its DER `raw` is parsed). Throws on text or bytes that
 * are not a certificate.
 */
export function describeCertificate(input: CertificateInput): CertificateSummary {
  const x = toX509(input);
  return {
    subject: dn(x.subject),
    issuer: dn(x.issuer),
    sans: splitSubjectAltName(x.subjectAltName),
    fingerprint256: x.fingerprint256,
    serialNumber: x.serialNumber.toUpperCase(),
    notBefore: x.validFromDate.toISOString(),
    notAfter: x.validToDate.toISOString(),
  };
}

/**
 * The peer's certificate after a handshake, or null when it sent none: Bun's getPeerCertificate()
 * returns undefined or an empty object then (measured), and getPeerX509Certificate() undefined.
 */
export function describePeerCertificate(socket: { getPeerX509Certificate(): X509Certificate | undefined }): CertificateSummary | null {
  const x = socket.getPeerX509Certificate();
  return x ? describeCertificate(x) : null;
}

function toX509(input: CertificateInput): X509Certificate {
  if (input instanceof X509Certificate) return input;
  if (typeof input === "string" || input instanceof Uint8Array) return new X509Certificate(input);
  const raw = (input as { raw?: Uint8Array }).raw;
  if (!raw) throw new TypeError("no certificate: the peer certificate object has no DER `raw` field");
  return new X509Certificate(raw);
}

/** "CN=a\nO=b" (node:crypto's form, one attribute a line) to "CN=a, O=b". */
function dn(s: string): string {
  return s.split("\n").filter(Boolean).join(", ");
}

/**
 * Splits "DNS:a, IP Address:1.2.3.4". Since the fix for CVE-2021-44532, Node quotes a value that
 * holds a comma or a quote as a JSON string (DNS:"a, b"); a plain split on ", " would cut it.
 */
export function splitSubjectAltName(text: string | undefined): string[] {
  if (!text) return [];
  const out: string[] = [];
  let i = 0;
  while (i < text.length) {
    const colon = text.indexOf(":", i);
    if (colon < 0) break;
    const type = text.slice(i, colon);
    let value: string;
    let next: number;
    if (text[colon + 1] === '"') {
      let j = colon + 2;
      while (j < text.length && text[j] !== '"') j += text[j] === "\\" ? 2 : 1;
      value = JSON.parse(text.slice(colon + 1, j + 1)) as string;
      next = text.indexOf(", ", j + 1);
    } else {
      next = text.indexOf(", ", colon + 1);
      value = text.slice(colon + 1, next < 0 ? text.length : next);
    }
    out.push(`${type}:${value}`);
    if (next < 0) break;
    i = next + 2;
  }
  return out;
}
