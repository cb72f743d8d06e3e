// TLS listeners through the library, against independent peers: python3's ssl module and openssl
// s_client (both OpenSSL 3), with a PKI made by the openssl CLI. What the peers see (version,
// cipher, ALPN, the certificate served, the echo) must be what the server reports.
import { afterAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { renderMetrics } from "../../src/ops/metrics.ts";
import type { TlsConfig } from "../../src/server/index.ts";
import { makePki, type Pair } from "../helpers/pki.ts";
import { serve, type LogEvent } from "../helpers/server.ts";
import { py, sClientEcho } from "../helpers/tls-peers.ts";

const pki = makePki();
afterAll(() => pki.dispose());

const CLIENT = join(import.meta.dir, "tls_client.py");
const PEER = join(import.meta.dir, "tls_peer.py");

function tls(pair: Pair, extra: Partial<TlsConfig> = {}): TlsConfig {
  return { cert: { kind: "files", cert: pair.cert, key: pair.key }, sni: [], clientCa: null, clientAuth: "off", alpn: null, minVersion: "1.2", ...extra };
}

interface ClientResult {
  version?: string;
  cipher?: string;
  alpn?: string | null;
  server_sha256?: string;
  echo_ok?: boolean;
  resumed?: boolean;
  error?: string;
  stage?: string;
  second?: ClientResult;
}

async function client(port: number, o: Record<string, unknown>): Promise<ClientResult> {
  return (await clients(port, [o]))[0]!;
}

/** One python process for several connections, one after the other (python starts slowly). */
async function clients(port: number, list: Record<string, unknown>[]): Promise<ClientResult[]> {
  const r = await py(`exec(open(${JSON.stringify(CLIENT)}).read())`, [JSON.stringify(list.map((o) => ({ port, ...o })))]);
  if (r.code !== 0) throw new Error(`tls_client.py exited ${r.code}: ${r.err}`);
  return JSON.parse(r.out) as ClientResult[];
}

/** python's hex digest to openssl's colon form. */
const colons = (hex: string) => hex.toUpperCase().match(/../g)!.join(":");

const tlsOf = (e: LogEvent) => e.tls as Record<string, any>;

describe("TLS listener: handshakes as peers see them", () => {
  test("TLS 1.3 (python): the open line's version, cipher, SNI and ALPN are what the client negotiated; the server's ALPN order wins; echo byte-exact", async () => {
    await using s = serve({ tls: tls(pki.foo, { alpn: ["h2", "http/1.1"] }) });
    const r = await client(s.port, { ca: pki.ca, sni: "foo.test", alpn: ["http/1.1", "h2"], send: "x".repeat(5000) });
    expect(r).toMatchObject({ version: "TLSv1.3", alpn: "h2", echo_ok: true });
    const open = await s.log.waitFor((e) => e.event === "open");
    expect(tlsOf(open)).toMatchObject({ version: r.version, cipher: r.cipher, sni: "foo.test", alpn: "h2", resumed: false, served: "CN=foo.test, O=tcp-echo tests", offered: { sni: "foo.test", alpn: ["http/1.1", "h2"] }, client: null });
    expect(tlsOf(open).offered.versions).toContain("TLSv1.3");
    const close = await s.log.waitFor((e) => e.event === "close");
    expect(close).toMatchObject({ reason: "peer-closed", bytes_in: 5000, bytes_out: 5000 });
    expect(s.handle.stats().byListener.main!.tlsHandshakes).toEqual({ "TLSv1.3 ok": 1 });
  });

  test("TLS 1.2 (openssl s_client -tls1_2): version and cipher in the open line are s_client's; the line it sends comes back", async () => {
    await using s = serve({ tls: tls(pki.foo) });
    const r = await sClientEcho(s.port, ["-tls1_2", "-servername", "foo.test", "-CAfile", pki.ca, "-verify_return_error"], "ping over tls 1.2");
    const cipher = /Cipher is (\S+)/.exec(r.out)?.[1];
    expect(r.out).toContain("Protocol  : TLSv1.2");
    expect(r.echoed).toBe(true);
    expect(r.out).toContain("Verify return code: 0 (ok)");
    const open = await s.log.waitFor((e) => e.event === "open");
    expect(tlsOf(open)).toMatchObject({ version: "TLSv1.2", cipher, sni: "foo.test", alpn: null });
  });

  test("SNI chooses the certificate: exact and wildcard names get theirs, no SNI and unknown names the default (fingerprints as openssl computes them)", async () => {
    await using s = serve({ tls: tls(pki.foo, { sni: [{ names: ["bar.test", "*.bar.test"], cert: pki.bar.cert, key: pki.bar.key }] }) });
    const foo = pki.fingerprint(pki.foo.cert);
    const bar = pki.fingerprint(pki.bar.cert);
    const cases: [string | null, string][] = [["bar.test", bar], ["api.bar.test", bar], ["BAR.Test", bar], ["foo.test", foo], [null, foo], ["other.test", foo], ["a.b.bar.test", foo]];
    const results = await clients(s.port, cases.map(([sni]) => ({ ca: null, sni })));
    expect(results.map((r, i) => [cases[i]![0], colons(r.server_sha256!)])).toEqual(cases);
    await s.log.waitFor(() => s.log.of("open").length === cases.length);
    const opens = s.log.of("open").map(tlsOf);
    // Reported as the client sent it.
    expect(opens.map((t) => t.sni)).toEqual(cases.map(([sni]) => sni));
    expect(opens.map((t) => t.served)).toEqual([...Array(3).fill("CN=bar.test, O=tcp-echo tests"), ...Array(4).fill("CN=foo.test, O=tcp-echo tests")]);
  });

  test("--tls-min-version 1.3: a TLS 1.2 client gets alert protocol_version; the close says tls-error UNSUPPORTED_PROTOCOL and the metrics count it as a TLSv1.2 failure", async () => {
    await using s = serve({ tls: tls(pki.foo, { minVersion: "1.3" }) });
    const r = await client(s.port, { ca: pki.ca, sni: "foo.test", version: "TLSv1_2" });
    expect(r.stage).toBe("handshake");
    expect(r.error).toContain("PROTOCOL_VERSION");
    const close = await s.log.waitFor((e) => e.event === "close");
    expect(close).toMatchObject({ reason: "tls-error", bytes_in: 0, bytes_out: 0 });
    expect(close.error).toContain("UNSUPPORTED_PROTOCOL");
    expect(s.handle.stats().byListener.main!.tlsHandshakes).toEqual({ "TLSv1.2 failed": 1 });
    expect(renderMetrics({ stats: s.handle.stats(), processes: [], workers: null }, true)).toContain('tcp_echo_tls_handshakes_total{listener="main",version="TLSv1.2",result="failed"} 1');
  });

  test("ALPN without overlap: alert no_application_protocol; the tls-error line says what the client offered", async () => {
    await using s = serve({ tls: tls(pki.foo, { alpn: ["h2"] }) });
    const r = await client(s.port, { ca: pki.ca, sni: "foo.test", alpn: ["http/1.1", "spdy/3"] });
    expect(r.error).toContain("no application protocol");
    const line = await s.log.waitFor((e) => e.event === "tls-error");
    expect(line.error).toContain("NO_APPLICATION_PROTOCOL");
    expect(line.offered).toMatchObject({ sni: "foo.test", alpn: ["http/1.1", "spdy/3"] });
    expect(line.msg).toContain("client offered SNI foo.test, ALPN http/1.1,spdy/3");
  });

  test("session resumption (a TLS 1.3 ticket): the second open line says resumed", async () => {
    await using s = serve({ tls: tls(pki.foo) });
    const r = await client(s.port, { ca: pki.ca, sni: "foo.test", session_reuse: true });
    expect(r.second).toMatchObject({ resumed: true, echo_ok: true });
    await s.log.waitFor(() => s.log.of("open").length === 2);
    expect(s.log.of("open").map((e) => tlsOf(e).resumed)).toEqual([false, true]);
  });
});

describe("TLS listener: client certificates", () => {
  const auth = (clientAuth: "request" | "require") => tls(pki.foo, { clientAuth, clientCa: pki.ca });

  test("require: a certificate from the CA is reported with subject, SANs and the SHA-256 openssl computes, verified", async () => {
    await using s = serve({ tls: auth("require") });
    const r = await client(s.port, { ca: pki.ca, sni: "foo.test", cert: pki.client.cert, key: pki.client.key });
    expect(r.echo_ok).toBe(true);
    const open = await s.log.waitFor((e) => e.event === "open");
    expect(tlsOf(open).client).toMatchObject({
      subject: "CN=client-one, O=tcp-echo tests",
      issuer: "CN=ca CA, O=tcp-echo tests",
      sans: ["DNS:client.test", "email:one@client.test"],
      sha256: pki.fingerprint(pki.client.cert),
      verified: true,
      verify_error: null,
    });
    expect(open.msg).toContain(`client CN=client-one, O=tcp-echo tests [DNS:client.test, email:one@client.test] SHA-256 ${pki.fingerprint(pki.client.cert)}, verified`);
  });

  test("require, no certificate: the handshake fails (PEER_DID_NOT_RETURN_A_CERTIFICATE), nothing is echoed", async () => {
    await using s = serve({ tls: auth("require") });
    const r = await client(s.port, { ca: pki.ca, sni: "foo.test" });
    // TLS 1.3: the client's handshake ends before the server checks; the alert comes at its first read.
    expect(r.echo_ok).not.toBe(true);
    expect(r.error).toBeDefined();
    const close = await s.log.waitFor((e) => e.event === "close");
    expect(close).toMatchObject({ reason: "tls-error", bytes_out: 0 });
    expect(close.error).toContain("PEER_DID_NOT_RETURN_A_CERTIFICATE");
    expect(s.handle.stats().byListener.main!.tlsHandshakes).toEqual({ "TLSv1.3 rejected": 1 });
  });

  test("require, a certificate from another CA: rejected, closed before any echo, counted as rejected", async () => {
    await using s = serve({ tls: auth("require") });
    const r = await client(s.port, { ca: pki.ca, sni: "foo.test", cert: pki.rogue.cert, key: pki.rogue.key });
    expect(r.echo_ok).not.toBe(true);
    const close = await s.log.waitFor((e) => e.event === "close");
    expect(close).toMatchObject({ reason: "tls-error", bytes_out: 0 });
    expect(close.error).toContain("client certificate rejected");
    const line = await s.log.waitFor((e) => e.event === "tls-error");
    expect(line.client).toMatchObject({ subject: "CN=rogue-client, O=tcp-echo tests", verified: false });
    expect(s.handle.stats().byListener.main!.tlsHandshakes).toEqual({ "TLSv1.3 rejected": 1 });
  });

  test("request: no certificate is served normally; one from another CA is served and reported as not verified", async () => {
    await using s = serve({ tls: auth("request") });
    const rs = await clients(s.port, [{ ca: pki.ca, sni: "foo.test" }, { ca: pki.ca, sni: "foo.test", cert: pki.rogue.cert, key: pki.rogue.key }]);
    expect(rs.map((r) => r.echo_ok)).toEqual([true, true]);
    await s.log.waitFor(() => s.log.of("open").length === 2);
    const [none, rogue] = s.log.of("open").map(tlsOf);
    expect(none!.client).toBeNull();
    expect(rogue!.client).toMatchObject({ subject: "CN=rogue-client, O=tcp-echo tests", verified: false });
    expect(rogue!.client.verify_error).toMatch(/unable to (get|verify)/);
  });
});
