// --tls and its companions for `client` and `bench`: files read and checked before connecting, so
// a wrong path or a key that is not the certificate's is one line naming the option, exit 2.
import { checkCertificateName, readCaFile, readCertificatePair, TlsFileError, type ClientTls } from "../tls/index.ts";
import { UsageError } from "./errors.ts";
import type { Given } from "./options/option.ts";

interface TlsValues {
  readonly tls: boolean;
  readonly tlsCa: string | null;
  readonly tlsInsecure: boolean;
  readonly sni: string | null;
  readonly alpn: readonly string[] | null;
  readonly tlsCert: string | null;
  readonly tlsKey: string | null;
}

type TlsGiven = { readonly [K in keyof TlsValues]: Given };

export function clientTls(v: TlsValues, g: TlsGiven): ClientTls | null {
  if (!v.tls) return null;
  if (v.tlsInsecure && v.tlsCa !== null) throw new UsageError(`${g.tlsInsecure.from} and ${g.tlsCa.from}: one verifies the server's certificate, the other does not; use one`);
  if (v.sni !== null) {
    let kind: "ip" | "dns";
    try {
      kind = checkCertificateName(v.sni);
    } catch {
      throw new UsageError(`${g.sni.from}: ${JSON.stringify(v.sni)} is not a DNS name`);
    }
    if (kind === "ip") throw new UsageError(`${g.sni.from}: ${JSON.stringify(v.sni)} is an IP address; SNI carries names only (RFC 6066 §3): leave it out and the address is verified`);
  }
  if (v.tlsCert !== null && v.tlsKey === null) throw new UsageError(`${g.tlsCert.from} needs --tls-key FILE as well`);
  try {
    const ca = v.tlsCa === null ? null : readCaFile(v.tlsCa);
    const pair = v.tlsCert === null ? null : readCertificatePair(v.tlsCert, v.tlsKey!);
    return {
      ca: ca?.pem ?? null,
      caFile: v.tlsCa,
      insecure: v.tlsInsecure,
      sni: v.sni,
      alpn: v.alpn,
      cert: pair?.certPem ?? null,
      key: pair?.keyPem ?? null,
    };
  } catch (e) {
    if (!(e instanceof TlsFileError)) throw e;
    const from = e.role === "ca" ? g.tlsCa.from : e.role === "key" ? g.tlsKey.from : g.tlsCert.from;
    throw new UsageError(`${from}: ${e.message}`);
  }
}
