// A TLS listener's certificates, ready to hand to Bun per connection: for each certificate a
// node:tls SecureContext built once (parsing PEM per handshake would be wasted work) and the
// options object upgradeTLS takes, reused by every connection it serves. SIGHUP re-reads the files:
// a complete new set replaces the old one for the next handshakes, and a bad file leaves the old
// set in place. Connections already open keep the context they were made with.
import { createSecureContext } from "node:tls";
import { alpnWire, pairFromPem, readCaFile, readCertificatePair, sniTable, TlsFileError, type CaBundle, type CertificatePair, type SniTable } from "../tls/index.ts";
import type { TlsConfig } from "./tls-config.ts";

/** What socket.upgradeTLS({ tls }) takes. Measured (experiments/tls/FINDINGS.md and this module's
 * tests): with a secureContext, Bun still reads requestCert, rejectUnauthorized and ALPNProtocols
 * from the options, but the CA and minVersion only from the context. */
export interface UpgradeTlsOptions {
  readonly secureContext: object;
  readonly requestCert: boolean;
  readonly rejectUnauthorized: boolean;
  readonly ALPNProtocols?: string;
}

export interface ServedCertificate {
  readonly pair: CertificatePair;
  readonly options: UpgradeTlsOptions;
  /** The SNI names it answers (empty: the default certificate). */
  readonly names: readonly string[];
}

interface CertificateSet {
  readonly fallback: ServedCertificate;
  readonly byName: SniTable<ServedCertificate>;
  readonly all: readonly ServedCertificate[];
  readonly ca: CaBundle | null;
}

/** One certificate as the start-up report and the reload line show it. */
export interface CertificateReport {
  /** SNI names it answers; empty for the default certificate. */
  readonly names: readonly string[];
  /** "/etc/tls/a.pem + /etc/tls/a.key", or "self-signed". */
  readonly source: string;
  readonly subject: string;
  readonly sans: readonly string[];
  readonly fingerprint256: string;
  readonly notBefore: string;
  readonly notAfter: string;
  readonly chainLength: number;
}

/** A listener's TLS settings, for the start-up report (JSON: the supervisor relays a worker's). */
export interface TlsReport {
  readonly certificates: readonly CertificateReport[];
  readonly clientAuth: TlsConfig["clientAuth"];
  readonly clientCa: { readonly file: string; readonly subjects: readonly string[] } | null;
  readonly alpn: readonly string[] | null;
  readonly minVersion: string;
}

const MIN_VERSION = { "1.2": "TLSv1.2", "1.3": "TLSv1.3" } as const;

export class TlsCertificates {
  private set: CertificateSet;

  /** Reads and checks every file; throws TlsFileError naming the file at fault. */
  constructor(private readonly cfg: TlsConfig) {
    this.set = load(cfg)!;
  }

  get clientAuth(): TlsConfig["clientAuth"] {
    return this.cfg.clientAuth;
  }

  /** The certificate for a client's server name (null or unknown: the default). */
  choose(serverName: string | null): ServedCertificate {
    return this.set.byName.lookup(serverName) ?? this.set.fallback;
  }

  /** Re-reads the files; on success the new set serves the next handshakes. Throws TlsFileError (the old set stays). */
  reload(): TlsReport {
    this.set = load(this.cfg)!;
    return this.report();
  }

  report(): TlsReport {
    const s = this.set;
    return {
      certificates: s.all.map((c) => ({
        names: c.names,
        source: c.pair.source,
        subject: c.pair.summary.subject,
        sans: c.pair.summary.sans,
        fingerprint256: c.pair.summary.fingerprint256,
        notBefore: c.pair.summary.notBefore,
        notAfter: c.pair.summary.notAfter,
        chainLength: c.pair.chainLength,
      })),
      clientAuth: this.cfg.clientAuth,
      clientCa: s.ca && { file: s.ca.file, subjects: s.ca.subjects },
      alpn: this.cfg.alpn,
      minVersion: MIN_VERSION[this.cfg.minVersion],
    };
  }
}

/**
 * Reads and checks every file of a TLS configuration without serving it (the CLI, before start);
 * a self-signed certificate not made yet is skipped. Throws TlsFileError naming the file at fault.
 */
export function checkTlsFiles(cfg: TlsConfig): void {
  load(cfg, true);
}

function load(cfg: TlsConfig, unmadeOk = false): CertificateSet | null {
  const ca = cfg.clientCa === null ? null : readCaFile(cfg.clientCa);
  const serve = (pair: CertificatePair, names: readonly string[], certFile: string): ServedCertificate => {
    let context: object;
    try {
      context = (createSecureContext({ cert: pair.certPem, key: pair.keyPem, ...(ca ? { ca: ca.pem } : {}), minVersion: MIN_VERSION[cfg.minVersion] }) as unknown as { context: object }).context;
    } catch (e) {
      // Our own checks passed, so this is the TLS library refusing something they do not cover.
      throw new TlsFileError("cert", certFile, `${JSON.stringify(certFile)}: the TLS library refuses it (${(e as Error).message})`);
    }
    const options: UpgradeTlsOptions = {
      secureContext: context,
      requestCert: cfg.clientAuth !== "off",
      rejectUnauthorized: cfg.clientAuth === "require",
      ...(cfg.alpn ? { ALPNProtocols: alpnWire(cfg.alpn) } : {}),
    };
    return { pair, options, names };
  };
  const src = cfg.cert;
  let fallback: ServedCertificate | null;
  if (src.kind === "files") fallback = serve(readCertificatePair(src.cert, src.key), [], src.cert);
  else if (src.pem !== null) fallback = serve(pairFromPem(src.pem.cert, src.pem.key, "self-signed"), [], "self-signed");
  else if (unmadeOk) fallback = null;
  else throw new TypeError("a self-signed TLS certificate must be made first (prepareTls)");
  const named = cfg.sni.map((e, i) => {
    try {
      return serve(readCertificatePair(e.cert, e.key), e.names, e.cert);
    } catch (err) {
      if (err instanceof TlsFileError) err.sni = i;
      throw err;
    }
  });
  if (fallback === null) return null;
  return {
    fallback,
    byName: sniTable(named.map((c) => ({ names: c.names, value: c }))),
    all: [fallback, ...named],
    ca,
  };
}
