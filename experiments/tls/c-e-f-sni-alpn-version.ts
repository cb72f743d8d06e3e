// (c) SNI: several certificates chosen by the client's server name (tls: [ {serverName, cert, key}, ...]).
// (e) ALPN on the server: ALPNProtocols format and what happens without overlap.
// (f) Minimum version: minVersion? secureOptions (SSL_OP_NO_TLSv1_2)?
// Run: bun experiments/tls/c-e-f-sni-alpn-version.ts
import { readFileSync } from "node:fs";
import { constants } from "node:crypto";
import { grepLines, listenFd, makePki, ourListenFd, sClient, show, until } from "./lib.ts";

const pki = makePki();
const pem = (f: string) => readFileSync(f, "utf8");
const foo = { cert: pem(pki.fooCert), key: pem(pki.fooKey) };
const bar = { cert: pem(pki.barCert), key: pem(pki.barKey) };

function server(tls: unknown) {
  const { fd, port } = ourListenFd();
  const events: string[] = [];
  let closed = 0;
  let listener;
  try {
    listener = listenFd<unknown>({
      fd,
      allowHalfOpen: true,
      tls,
      socket: {
        handshake(s: any, ok: boolean, err: Error | null) {
          events.push(`handshake ok=${ok} sni=${s.getServername()} cert=${s.getX509Certificate()?.subject?.replace(/\n/g, ",")} v=${s.getTLSVersion()} alpn=${s.alpnProtocol} err=${err?.message ?? null}`);
        },
        data(s: any, d: Buffer) {
          s.write(d);
        },
        end(s: any) {
          s.shutdown();
        },
        close() {
          closed++;
        },
      },
    });
  } catch (e) {
    return { error: `${(e as any).code ?? ""} ${(e as Error).message}` };
  }
  return { port, events, listener, closed: () => closed };
}

async function probe(label: string, tls: unknown, clients: string[][]) {
  console.log(`\n=== ${label}`);
  const s = server(tls);
  if ("error" in s) return console.log("Bun.listen throws:", s.error);
  for (const args of clients) {
    const before = s.closed();
    const r = await sClient(s.port!, ["-CAfile", pki.caCert, ...args], "x\n");
    await until(() => s.closed() > before, 3000).catch(() => {});
    const subj = grepLines(r.out, /^subject=/)[0];
    console.log(`  s_client ${args.join(" ")} -> exit ${r.code} ${subj ?? ""} ${grepLines(r.out + r.err, /(New, |alert)/).join(" | ")}`);
  }
  show("  server", s.events);
  s.listener!.stop(true);
}

// (c) SNI
await probe("tls: array, foo default + bar by serverName", [foo, { ...bar, serverName: "bar.test" }], [
  ["-servername", "bar.test"],
  ["-servername", "foo.test"],
  ["-servername", "other.test"],
  ["-noservername"],
]);
await probe("tls: array, both with serverName", [{ ...foo, serverName: "foo.test" }, { ...bar, serverName: "bar.test" }], [
  ["-servername", "bar.test"],
  ["-servername", "foo.test"],
  ["-servername", "other.test"],
]);
await probe("tls: array, wildcard serverName", [foo, { ...bar, serverName: "*.bar.test" }], [["-servername", "x.bar.test"], ["-servername", "bar.test"]]);
await probe("tls: array, serverName on the first entry only", [{ ...bar, serverName: "bar.test" }, foo], [["-servername", "bar.test"], ["-servername", "foo.test"]]);
await probe("tls: array, one entry", [foo], [["-servername", "bar.test"]]);
await probe("tls: object with serverName (single)", { ...bar, serverName: "bar.test" }, [["-servername", "foo.test"], ["-servername", "bar.test"]]);
await probe("cert/key arrays (RSA+EC style: several chains, one context)", { cert: [foo.cert, bar.cert], key: [foo.key, bar.key] }, [["-servername", "bar.test"], ["-servername", "foo.test"]]);
await probe("cert/key arrays, order swapped", { cert: [bar.cert, foo.cert], key: [bar.key, foo.key] }, [["-servername", "bar.test"], ["-servername", "foo.test"]]);

// (e) ALPN formats
await probe("ALPNProtocols wire format \\x02h2\\x08http/1.1", { ...foo, ALPNProtocols: "\x02h2\x08http/1.1" }, [
  ["-alpn", "http/1.1,h2"],
  ["-alpn", "foo"],
  [],
]);
await probe("ALPNProtocols as Uint8Array wire format", { ...foo, ALPNProtocols: new Uint8Array([2, 104, 50]).buffer }, [["-alpn", "h2"]]);
await probe("ALPNProtocols per SNI entry", [{ ...foo, ALPNProtocols: "\x02h2" }, { ...bar, serverName: "bar.test", ALPNProtocols: "\x08http/1.1" }], [
  ["-servername", "bar.test", "-alpn", "h2,http/1.1"],
  ["-servername", "foo.test", "-alpn", "h2,http/1.1"],
]);

// (f) versions
const v = [["-tls1_2"], ["-tls1_3"]];
await probe("minVersion: 'TLSv1.3'", { ...foo, minVersion: "TLSv1.3" }, v);
show("crypto.constants SSL_OP_NO_TLSv1_2 / NO_TLSv1_3", [constants.SSL_OP_NO_TLSv1_2, constants.SSL_OP_NO_TLSv1_3]);
await probe("secureOptions: SSL_OP_NO_TLSv1_2 (crypto.constants)", { ...foo, secureOptions: constants.SSL_OP_NO_TLSv1_2 }, v);
await probe("secureOptions: SSL_OP_NO_TLSv1_2|TLSv1|TLSv1_1", { ...foo, secureOptions: constants.SSL_OP_NO_TLSv1_2 | constants.SSL_OP_NO_TLSv1 | constants.SSL_OP_NO_TLSv1_1 }, v);
await probe("maxVersion: 'TLSv1.2'", { ...foo, maxVersion: "TLSv1.2" }, v);
await probe("default (no limit)", foo, [["-tls1_1"], ["-tls1"], ...v]);
await probe("ciphers 'ECDHE-ECDSA-CHACHA20-POLY1305' (1.2 only)", { ...foo, ciphers: "ECDHE-ECDSA-CHACHA20-POLY1305" }, v);
