// The client side of TLS, shared by `tcp-echo client` and `tcp-echo bench`: the options Bun's
// client sockets take, the identity check, and what a handshake negotiated.
//
// Measured on Bun 1.4.5, Bun.connect({ fd, tls }) on our own connected fd (the client) and
// Bun.connect({ hostname, tls }) (bench):
// - a name in `serverName` is sent as SNI and the certificate checked for it: what we want;
// - an IP address anywhere (serverName, or the hostname without a serverName) is sent as SNI,
//   which RFC 6066 §3 forbids; `serverName: ""` sends none;
// - on an fd without a name Bun checks the certificate against "localhost" (it has no host);
// - with rejectUnauthorized false the connection stays usable whatever `ok` says, and the error
//   is the chain's (UNABLE_TO_VERIFY_LEAF_SIGNATURE...) or, once the chain verified, the name's
//   (ERR_TLS_CERT_ALTNAME_INVALID), as in Node's onConnectSecure.
// So for an address: no SNI, Bun verifies only, and we decide: the chain by Bun's verdict, the
// address with node:tls checkServerIdentity against the certificate's IP SANs.
import { isIP } from "node:net";
import { checkServerIdentity, type PeerCertificate } from "node:tls";
import type { X509Certificate } from "node:crypto";
import { alpnWire } from "./alpn.ts";
import { describeCertificate, type CertificateSummary } from "./describe.ts";

export interface ClientTls {
  /** PEM CA certificates to verify the server against; null: Bun's bundled Mozilla roots. */
  readonly ca: string | null;
  /** Where `ca` came from, for messages ("ca.pem"); null with no CA file. */
  readonly caFile: string | null;
  /** --tls-insecure: report the certificate, verify nothing. */
  readonly insecure: boolean;
  /** --sni: the name to send and to verify; null: the host when it is a name. */
  readonly sni: string | null;
  readonly alpn: readonly string[] | null;
  /** A client certificate and its key (PEM), for servers that ask for one. */
  readonly cert: string | null;
  readonly key: string | null;
}

/** How one connection to `host` does TLS: Bun's options, and the name checked afterwards (an IP). */
export interface ClientTlsPlan {
  readonly options: Record<string, unknown>;
  /** The SNI sent, or null. */
  readonly sni: string | null;
  /** The name or address the certificate must be for; null with --tls-insecure. */
  readonly verifyName: string | null;
  /** An address, checked by us after the handshake (Bun checks names given as serverName). */
  readonly checkAddress: string | null;
}

export function clientTlsPlan(t: ClientTls, host: string): ClientTlsPlan {
  const sni = t.sni ?? (isIP(host) === 0 ? host : null);
  const options: Record<string, unknown> = sni !== null ? { serverName: sni, rejectUnauthorized: !t.insecure } : { serverName: "", rejectUnauthorized: false };
  if (t.ca !== null) options.ca = t.ca;
  if (t.alpn) options.ALPNProtocols = alpnWire(t.alpn);
  if (t.cert !== null) options.cert = t.cert;
  if (t.key !== null) options.key = t.key;
  return { options, sni, verifyName: t.insecure ? null : (sni ?? host), checkAddress: !t.insecure && sni === null ? host : null };
}

/** What a handshake negotiated, from the client's side. */
export interface ServerSession {
  readonly version: string;
  readonly cipher: string | null;
  readonly alpn: string | null;
  readonly server: CertificateSummary | null;
  /** The chain verified and the certificate is for `verifyName` (false with --tls-insecure, or on failure). */
  readonly verified: boolean;
  /** Why it did not verify; null when it did. */
  readonly verifyError: string | null;
}

/** The parts of a Bun client TLS socket read after its handshake. */
export interface TlsSocketView {
  readonly authorized: boolean;
  readonly alpnProtocol: string | false | null;
  getTLSVersion(): string | null;
  getCipher(): unknown;
  getPeerCertificate(): PeerCertificate | object | undefined;
  getPeerX509Certificate(): X509Certificate | undefined;
}

/**
 * The outcome of a handshake: `ok` false when it failed or (unless insecure) the certificate did
 * not verify, with the reason in `session.verifyError`.
 */
export function settleHandshake(s: TlsSocketView, ok: boolean, err: Error | null, plan: ClientTlsPlan): { ok: boolean; session: ServerSession } {
  const x = s.getPeerX509Certificate();
  const server = x ? describeCertificate(x) : null;
  const cipher = s.getCipher() as { name?: string | null } | null;
  // A handshake that did not complete has no cipher (whatever the verdict on the certificate).
  const completed = Boolean(cipher?.name);
  let verified = ok && s.authorized;
  let why: string | null = err ? reason(err) : verified ? null : plan.verifyName === null ? "not checked (--tls-insecure)" : "not verified";
  if (completed && plan.checkAddress !== null) {
    const chainOk = s.authorized || (err as { code?: string } | null)?.code === "ERR_TLS_CERT_ALTNAME_INVALID";
    verified = false;
    if (chainOk) {
      const bad = checkServerIdentity(plan.checkAddress, s.getPeerCertificate() as PeerCertificate);
      verified = bad === undefined;
      why = bad ? reason(bad) : null;
    }
  }
  const alpn = s.alpnProtocol;
  const session: ServerSession = {
    version: s.getTLSVersion() ?? "unknown",
    cipher: cipher?.name ?? null,
    alpn: typeof alpn === "string" && alpn !== "" ? alpn : null,
    server,
    verified,
    verifyError: verified ? null : why,
  };
  return { ok: completed && (verified || plan.verifyName === null), session };
}

function reason(e: Error): string {
  const code = (e as { code?: string }).code;
  return code && !e.message.includes(code) ? `${e.message} (${code})` : e.message;
}

/** "TLSv1.3 TLS_AES_256_GCM_SHA384, ALPN h2, server certificate CN=foo.test (SHA-256 AB:...), verified for foo.test" */
export function sessionLine(s: ServerSession, plan: ClientTlsPlan, caFile: string | null): string {
  const cert = s.server ? `server certificate ${s.server.subject} (SHA-256 ${s.server.fingerprint256}, valid to ${s.server.notAfter})` : "no server certificate";
  const check = s.verified
    ? `verified for ${plan.verifyName}${caFile ? ` against ${caFile}` : " against the bundled root CAs"}`
    : plan.verifyName === null
      ? `NOT verified (--tls-insecure)${s.verifyError && !s.verifyError.startsWith("not checked") ? `: ${s.verifyError}` : ""}`
      : `NOT verified: ${s.verifyError}`;
  return `tls: ${s.version} ${s.cipher ?? "(no cipher)"}, ALPN ${s.alpn ?? "none"}${plan.sni ? `, SNI ${plan.sni}` : ", no SNI"}, ${cert}, ${check}`;
}
