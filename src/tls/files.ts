// Certificate, key and CA files read and checked before any connection needs them, so that a bad
// file is one line naming it (at start: exit 2; on a reload: the old certificate stays). Bun's
// createSecureContext alone is not enough: it accepts an empty certificate or key, and a private
// key given as the CA, without a word (measured, experiments/tls/g2-validate.ts), and its messages
// name no file ("error:0900006e:PEM routines:OPENSSL_internal:NO_START_LINE").
import { readFileSync } from "node:fs";
import { createPrivateKey, X509Certificate, type KeyObject } from "node:crypto";
import { describeCertificate, type CertificateSummary } from "./describe.ts";

/** Which file of a pair, or the CA file, is at fault (the CLI names the option that gave it). */
export type TlsFileRole = "cert" | "key" | "ca";

export class TlsFileError extends Error {
  override readonly name = "TlsFileError";
  /** Which [[tls-sni]] certificate (0-based) the file belongs to; null: the default certificate or the CA. */
  sni: number | null = null;

  constructor(
    readonly role: TlsFileRole,
    readonly file: string,
    message: string,
  ) {
    super(message);
  }
}

/** A certificate (with its chain, if the file holds one) and its private key, as PEM text. */
export interface CertificatePair {
  /** Every certificate of the file, leaf first, as PEM (Bun sends them as the chain). */
  readonly certPem: string;
  readonly keyPem: string;
  /** The leaf certificate. */
  readonly summary: CertificateSummary;
  /** Certificates in the file (1: the leaf alone). */
  readonly chainLength: number;
  /** Where it came from, for logs: the files, or "self-signed". */
  readonly source: string;
}

export interface CaBundle {
  readonly pem: string;
  readonly file: string;
  /** Subjects of its certificates, for the start-up report. */
  readonly subjects: readonly string[];
}

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

function readText(role: TlsFileRole, file: string): string {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    const code = (e as { code?: string }).code;
    const why = code === "ENOENT" ? "no such file" : code === "EACCES" ? "permission denied" : code === "EISDIR" ? "is a directory" : String((e as Error).message);
    throw new TlsFileError(role, file, `${JSON.stringify(file)}: ${why}`);
  }
  // A DER file starts with an ASN.1 SEQUENCE (0x30); PEM is text.
  if (bytes.length > 0 && bytes[0] === 0x30)
    throw new TlsFileError(role, file, `${JSON.stringify(file)} is DER, not PEM (convert it: openssl ${role === "key" ? "pkey" : "x509"} -inform DER -in FILE -out FILE.pem)`);
  return bytes.toString("utf8");
}

/** The PEM certificates of a text, each checked; throws when there is none or one does not parse. */
function certificates(role: TlsFileRole, file: string, text: string): { pem: string[]; x509: X509Certificate[] } {
  const pem = text.match(PEM_CERT) ?? [];
  if (pem.length === 0) {
    const hint = /-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text) ? ": it holds a private key" : text.trim() === "" ? ": it is empty" : "";
    throw new TlsFileError(role, file, `${JSON.stringify(file)} holds no PEM certificate (-----BEGIN CERTIFICATE-----)${hint}`);
  }
  const x509 = pem.map((p, i) => {
    try {
      return new X509Certificate(p);
    } catch (e) {
      throw new TlsFileError(role, file, `${JSON.stringify(file)}: certificate ${i + 1} does not parse (${(e as Error).message})`);
    }
  });
  return { pem, x509 };
}

function privateKey(file: string, text: string): KeyObject {
  if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text)) {
    const hint = text.includes("-----BEGIN CERTIFICATE-----") ? ": it holds a certificate" : text.trim() === "" ? ": it is empty" : "";
    throw new TlsFileError("key", file, `${JSON.stringify(file)} holds no PEM private key (-----BEGIN PRIVATE KEY-----)${hint}`);
  }
  try {
    return createPrivateKey(text);
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === "ERR_MISSING_PASSPHRASE" || /ENCRYPTED/.test(text))
      throw new TlsFileError("key", file, `${JSON.stringify(file)} is encrypted; tcp-echo reads unencrypted keys (openssl pkey -in FILE -out FILE.plain, and keep that file's permissions tight)`);
    throw new TlsFileError("key", file, `${JSON.stringify(file)}: the private key does not parse (${(e as Error).message})`);
  }
}

/** Reads and checks a certificate file and its key file: both PEM, the key unencrypted and the certificate's. */
export function readCertificatePair(certFile: string, keyFile: string): CertificatePair {
  return checkPair(readText("cert", certFile), readText("key", keyFile), certFile, keyFile, `${certFile} + ${keyFile}`);
}

/** The same checks for PEM text already in memory (a self-signed certificate). */
export function pairFromPem(certPem: string, keyPem: string, source: string): CertificatePair {
  return checkPair(certPem, keyPem, source, source, source);
}

function checkPair(certText: string, keyText: string, certFile: string, keyFile: string, source: string): CertificatePair {
  const { pem, x509 } = certificates("cert", certFile, certText);
  const key = privateKey(keyFile, keyText);
  if (!x509[0]!.checkPrivateKey(key))
    throw new TlsFileError("key", keyFile, `${JSON.stringify(keyFile)} is not the private key of the certificate in ${JSON.stringify(certFile)} (${describeCertificate(x509[0]!).subject})`);
  return { certPem: pem.join("\n") + "\n", keyPem: keyText, summary: describeCertificate(x509[0]!), chainLength: pem.length, source };
}

/** Reads a CA bundle: one or more PEM certificates that client certificates are verified against. */
export function readCaFile(file: string): CaBundle {
  const { pem, x509 } = certificates("ca", file, readText("ca", file));
  return { pem: pem.join("\n") + "\n", file, subjects: x509.map((x) => describeCertificate(x).subject) };
}
