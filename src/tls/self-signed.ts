// A certificate made at start for --tls-self-signed: ECDSA P-256 on WebCrypto, the X.509 encoding
// by @peculiar/x509 (ASN.1 DER by hand would be ours to get wrong). The library and its Reflect
// polyfill are imported on first use only, so a server without TLS never loads them (measured:
// about 120 ms to import cold, see the README).
import { isIP } from "node:net";
import { describeCertificate } from "./describe.ts";

export interface SelfSignedOptions {
  /**
   * DNS names and IP addresses (v4 or v6) the certificate is for; each becomes a subjectAltName
   * entry (DNS or IP, by its form), and the first one the subject CN. At least one.
   */
  readonly names: readonly string[];
  /** Days of validity from `now`. Default 365. */
  readonly days?: number;
  /** The clock (tests pin it). Default: the current time. */
  readonly now?: Date;
}

export interface SelfSignedCertificate {
  /** The certificate, PEM ("-----BEGIN CERTIFICATE-----"). */
  readonly certPem: string;
  /** The private key, PKCS#8 PEM ("-----BEGIN PRIVATE KEY-----"), as Bun's tls.key takes it. */
  readonly keyPem: string;
  /** SHA-256 of the DER certificate, colon-separated upper-case hex, as `openssl x509 -fingerprint -sha256` prints it. */
  readonly fingerprint256: string;
  /** "CN=<first name>, O=tcp-echo self-signed" */
  readonly subject: string;
  /** In the form OpenSSL and Node print them: "DNS:localhost", "IP Address:127.0.0.1". */
  readonly sans: readonly string[];
  readonly notBefore: Date;
  readonly notAfter: Date;
}

/**
 * Backdating notBefore: a peer whose clock is a little behind ours would otherwise reject the
 * certificate as "not yet valid" for its first minutes (RFC 5280 §4.1.2.5 validity).
 */
const BACKDATE_MS = 60 * 60 * 1000;
const DAY_MS = 24 * 60 * 60 * 1000;
const ORGANIZATION = "tcp-echo self-signed";
const EC = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;

const DNS_NAME = /^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.?$/i;
/** A last label of digits only: not a host name (RFC 3696 §2), most likely a mistyped IPv4 address. */
const NUMERIC_TLD = /(^|\.)\d+\.?$/;

/** Throws TypeError for a name that is neither an IP address nor a DNS name (RFC 1123 labels, "*." allowed first). */
export function checkCertificateName(name: string): "ip" | "dns" {
  if (isIP(name) !== 0) return "ip";
  if (name.length > 253 || !DNS_NAME.test(name) || NUMERIC_TLD.test(name)) throw new TypeError(`"${name}" is neither an IP address nor a DNS name`);
  return "dns";
}

export async function makeSelfSigned(o: SelfSignedOptions): Promise<SelfSignedCertificate> {
  if (o.names.length === 0) throw new TypeError("a self-signed certificate needs at least one name");
  const kinds = o.names.map(checkCertificateName);
  const days = o.days ?? 365;
  if (!(days > 0)) throw new TypeError(`days must be positive, not ${days}`);
  const now = (o.now ?? new Date()).getTime();
  const notBefore = new Date(Math.floor((now - BACKDATE_MS) / 1000) * 1000);
  const notAfter = new Date(Math.floor((now + days * DAY_MS) / 1000) * 1000);

  // tsyringe, under @peculiar/x509, throws at import unless a Reflect metadata polyfill is loaded.
  await import("reflect-metadata");
  const x509 = await import("@peculiar/x509");
  x509.cryptoProvider.set(crypto);

  const keys = await crypto.subtle.generateKey(EC, true, ["sign", "verify"]);
  const cn = o.names[0]!;
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: [{ CN: [cn] }, { O: [ORGANIZATION] }],
    notBefore,
    notAfter,
    signingAlgorithm: EC,
    keys,
    extensions: [
      // An end-entity certificate that is its own trust anchor: OpenSSL 3.0 (`verify`, python's
      // ssl) and BoringSSL (Bun) accept it as the CA file as it is (measured; also with
      // -x509_strict), and no client mistakes it for a CA that may sign others.
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]),
      // Clients match names against the SANs only; CN is not consulted when SANs are present
      // (RFC 6125 §6.4.4), so every name goes here, the first one included.
      new x509.SubjectAlternativeNameExtension(o.names.map((value, i) => ({ type: kinds[i]!, value }))),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  const pkcs8 = await crypto.subtle.exportKey("pkcs8", keys.privateKey);
  const certPem = cert.toString("pem");
  const summary = describeCertificate(certPem);
  return {
    certPem,
    keyPem: x509.PemConverter.encode(pkcs8, "PRIVATE KEY"),
    fingerprint256: summary.fingerprint256,
    subject: summary.subject,
    sans: summary.sans,
    notBefore,
    notAfter,
  };
}

/**
 * 16 random bytes, first bit clear so the DER INTEGER stays positive: RFC 5280 §4.1.2.2 wants a
 * positive serial of at most 20 octets; the CA/Browser Forum asks for at least 64 random bits.
 */
function randomSerial(): string {
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[0] = (b[0]! & 0x7f) | 0x40;
  return Buffer.from(b).toString("hex");
}
