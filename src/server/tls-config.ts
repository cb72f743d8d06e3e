// What a TLS listener is configured with (--tls-* options, [[listener.tls-sni]] tables), and the
// one step that cannot happen inside startServer: making self-signed certificates (WebCrypto is
// asynchronous). With --workers the supervisor makes them once and hands the PEM text to every
// worker, so all of them serve the same certificate.
import { hostname } from "node:os";
import { checkCertificateName, makeSelfSigned } from "../tls/index.ts";

export const TLS_CLIENT_AUTH = ["off", "request", "require"] as const;
/** off: no certificate asked; request: asked, reported, not required; require: a certificate that verifies against --tls-client-ca, or the handshake fails. */
export type TlsClientAuth = (typeof TLS_CLIENT_AUTH)[number];

export const TLS_MIN_VERSIONS = ["1.2", "1.3"] as const;
export type TlsMinVersion = (typeof TLS_MIN_VERSIONS)[number];

/** The default certificate: a pair of PEM files, or one made at start. */
export type TlsCertSource =
  | { readonly kind: "files"; readonly cert: string; readonly key: string }
  | {
      readonly kind: "self-signed";
      /** The names it is for (subjectAltName entries; the first is also the CN). */
      readonly names: readonly string[];
      /** Made by prepareTls(); startServer refuses a self-signed source without it. */
      readonly pem: { readonly cert: string; readonly key: string } | null;
    };

/** A certificate served to clients whose SNI matches one of `names` (exact, or "*." one label). */
export interface TlsSniCert {
  readonly names: readonly string[];
  readonly cert: string;
  readonly key: string;
}

export interface TlsConfig {
  readonly cert: TlsCertSource;
  /** Checked in order; an exact name wins over a wildcard. No match: the default certificate. */
  readonly sni: readonly TlsSniCert[];
  /** PEM file of the CAs client certificates are verified against; null: Bun's bundled roots. */
  readonly clientCa: string | null;
  readonly clientAuth: TlsClientAuth;
  /** ALPN protocols in the server's order of preference (the server's order wins, RFC 7301 §3.2); null: no ALPN. */
  readonly alpn: readonly string[] | null;
  readonly minVersion: TlsMinVersion;
}

/**
 * The names a self-signed certificate is made for: the listener's address unless it is a wildcard
 * (0.0.0.0 and :: are not addresses a client connects to), the machine's host name, and the
 * loopback names, so `openssl s_client -connect localhost:PORT -verify_hostname localhost` and a
 * client on 127.0.0.1 or ::1 verify it as well.
 */
export function selfSignedNames(host: string): string[] {
  const names: string[] = [];
  const add = (n: string) => {
    if (names.includes(n)) return;
    try {
      checkCertificateName(n);
      names.push(n);
    } catch {
      // A host name that is not a DNS name (an underscore, say) is left out rather than refused.
    }
  };
  if (host !== "0.0.0.0" && host !== "::") add(host);
  add(hostname().toLowerCase());
  for (const n of ["localhost", "127.0.0.1", "::1"]) add(n);
  return names;
}

/**
 * Makes the self-signed certificate of every listener that asks for one and has none yet. One
 * certificate per set of names: listeners with the same names share it.
 */
export async function prepareTls<L extends { readonly tls: TlsConfig | null }>(listeners: readonly L[]): Promise<L[]> {
  const made = new Map<string, { cert: string; key: string }>();
  const out: L[] = [];
  for (const l of listeners) {
    const src = l.tls?.cert;
    if (!l.tls || src?.kind !== "self-signed" || src.pem !== null) {
      out.push(l);
      continue;
    }
    const key = src.names.join(",");
    let pem = made.get(key);
    if (!pem) {
      const c = await makeSelfSigned({ names: src.names });
      pem = { cert: c.certPem, key: c.keyPem };
      made.set(key, pem);
    }
    out.push({ ...l, tls: { ...l.tls, cert: { ...src, pem } } });
  }
  return out;
}
