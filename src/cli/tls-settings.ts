// A serve listener's TLS from its options: --tls-* values (flags, variables, the file, a
// [[listener]] table) and the config file's tls-sni tables. Every combination is checked and every
// file read here, so a mistake is one line naming the option (or table) and the file, exit 2,
// before anything is bound.
import { resolve as resolvePath } from "node:path";
import { checkTlsFiles, type TlsConfig, type TlsSniCert } from "../server/index.ts";
import { checkCertificateName, TlsFileError } from "../tls/index.ts";
import { UsageError } from "./errors.ts";
import type { Given, Values } from "./options/option.ts";
import type { SERVE_OPTIONS } from "./options/table.ts";

type Serve = typeof SERVE_OPTIONS;
type GivenOf = { readonly [K in keyof Serve]: Given };

/** tls-sni tables as written in a config file, with where they came from. */
export interface SniTables {
  readonly entries: readonly TlsSniCert[];
  /** "tcp-echo.toml: tls-sni" or "tcp-echo.toml: listener[2]: tls-sni". */
  readonly from: string;
}

export const NO_SNI: SniTables = { entries: [], from: "tls-sni" };

const SNI_KEYS = ["names", "cert", "key"];

/**
 * `[[tls-sni]]` (every TLS listener) or `[[listener.tls-sni]]` (that listener): a certificate for
 * clients asking for one of `names`. Paths are taken from the working directory.
 */
export function parseSniTables(value: unknown, from: string): SniTables {
  if (!Array.isArray(value)) throw new UsageError(`${from}: must be a list of tables ([[tls-sni]] with names, cert, key)`);
  const entries = value.map((t, i): TlsSniCert => {
    const where = `${from}[${i + 1}]`;
    if (t === null || typeof t !== "object" || Array.isArray(t)) throw new UsageError(`${where}: must be a table (names, cert, key)`);
    const o = t as Record<string, unknown>;
    for (const k of Object.keys(o)) if (!SNI_KEYS.includes(k)) throw new UsageError(`${where}: unknown key ${JSON.stringify(k)} (a tls-sni table takes names, cert, key)`);
    const names = typeof o.names === "string" ? [o.names] : o.names;
    if (!Array.isArray(names) || names.length === 0 || names.some((n) => typeof n !== "string"))
      throw new UsageError(`${where}: names must be a server name or a list of them (names = ["example.com", "*.example.com"])`);
    for (const n of names as string[]) {
      let kind: "ip" | "dns";
      try {
        kind = checkCertificateName(n);
      } catch {
        throw new UsageError(`${where}: names: ${JSON.stringify(n)} is not a DNS name (or a "*." wildcard)`);
      }
      // RFC 6066 §3: "Literal IPv4 and IPv6 addresses are not permitted in HostName".
      if (kind === "ip") throw new UsageError(`${where}: names: ${JSON.stringify(n)} is an IP address; clients send no SNI for an address (RFC 6066 §3)`);
    }
    for (const k of ["cert", "key"] as const) if (typeof o[k] !== "string" || (o[k] as string).trim() === "") throw new UsageError(`${where}: needs ${k} = "FILE" (PEM)`);
    return { names: names as string[], cert: resolvePath(o.cert as string), key: resolvePath(o.key as string) };
  });
  return { entries, from };
}

const OTHER_TLS = ["tlsClientCa", "tlsClientAuth", "tlsAlpn", "tlsMinVersion", "tlsKey"] as const;

/** The listener's TLS, or null for plain TCP; a self-signed certificate's names are filled in by the caller (they need the address). */
export function listenerTls(v: Values<Serve>, g: GivenOf, sni: SniTables): TlsConfig | null {
  const files = v.tlsCert !== null;
  if (!files && !v.tlsSelfSigned) {
    const stray = OTHER_TLS.find((k) => g[k].source !== "default");
    if (stray) throw new UsageError(`${g[stray].from} needs --tls-cert FILE and --tls-key FILE, or --tls-self-signed`);
    if (sni.entries.length > 0) throw new UsageError(`${sni.from}: SNI certificates need a default one: --tls-cert FILE and --tls-key FILE, or --tls-self-signed`);
    return null;
  }
  if (files && v.tlsSelfSigned) throw new UsageError(`${g.tlsSelfSigned.from} and ${g.tlsCert.from} both give the certificate: use one`);
  if (files && v.tlsKey === null) throw new UsageError(`${g.tlsCert.from} needs --tls-key FILE as well (the certificate's private key)`);
  if (v.tlsClientCa !== null && v.tlsClientAuth === "off") throw new UsageError(`${g.tlsClientCa.from} needs --tls-client-auth request or require`);
  if (v.tlsClientAuth === "require" && v.tlsClientCa === null)
    throw new UsageError(`${g.tlsClientAuth.from} require needs --tls-client-ca FILE (the CA certificates client certificates must chain to)`);
  const path = (p: string, from: string) => {
    if (p.trim() === "") throw new UsageError(`${from}: needs a file path`);
    return resolvePath(p);
  };
  const cfg: TlsConfig = {
    cert: files ? { kind: "files", cert: path(v.tlsCert!, g.tlsCert.from), key: path(v.tlsKey!, g.tlsKey.from) } : { kind: "self-signed", names: [], pem: null },
    sni: sni.entries,
    clientCa: v.tlsClientCa === null ? null : path(v.tlsClientCa, g.tlsClientCa.from),
    clientAuth: v.tlsClientAuth,
    alpn: v.tlsAlpn,
    minVersion: v.tlsMinVersion,
  };
  try {
    checkTlsFiles(cfg);
  } catch (e) {
    if (!(e instanceof TlsFileError)) throw e;
    throw new UsageError(`${fileFrom(e, cfg, g, sni)}: ${e.message}`);
  }
  return cfg;
}

/** The option (or tls-sni table) that named the file at fault. */
function fileFrom(e: TlsFileError, cfg: TlsConfig, g: GivenOf, sni: SniTables): string {
  if (e.sni !== null) return `${sni.from}[${e.sni + 1}]: ${e.role}`;
  if (e.role === "ca") return g.tlsClientCa.from;
  return e.role === "key" ? g.tlsKey.from : g.tlsCert.from;
}
