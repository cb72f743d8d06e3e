// (l) With a prebuilt node:tls SecureContext, which upgradeTLS options does Bun still read? The CA
// and minVersion only from the context; requestCert, rejectUnauthorized and ALPNProtocols from the
// options. Run: bun experiments/tls/l-upgrade-context-options.ts
import { readFileSync } from "node:fs";
import { createSecureContext } from "node:tls";
import { listenFd, makePki, ourListenFd, sClient, grepLines, until } from "./lib.ts";
const pki = makePki();
const pem = (f: string) => readFileSync(f, "utf8");
function server(tls: any) {
  const { fd, port } = ourListenFd();
  const ev: string[] = [];
  const h: any = {
    handshake(s: any, ok: boolean, err: any) { ev.push(`hs ok=${ok} v=${s.getTLSVersion()} alpn=${s.alpnProtocol} auth=${s.authorized} peer=${s.getPeerCertificate()?.subject?.CN} err=${err?.code}|${err?.message}`); },
    data(s: any, d: any) { s.write(d); }, end(s: any) { s.shutdown(); }, close() { ev.push("tls close"); },
  };
  const l: any = listenFd({ fd, allowHalfOpen: true, socket: { binaryType: "uint8array", open(s: any) { s.data = { up: false }; },
    data(s: any, d: any) { if (s.data.up) return; s.data.up = true; s.upgradeTLS({ isServer: true, tls, socket: h, data: {}, initialData: d }); },
    close() { ev.push("raw close"); } } });
  return { port, ev, stop: () => l.stop(true) };
}
const ctx = (o: any) => (createSecureContext(o) as any).context;
const base = { cert: pem(pki.fooCert), key: pem(pki.fooKey) };
async function t(label: string, tls: any, args: string[]) {
  const s = server(tls);
  const r = await sClient(s.port, ["-CAfile", pki.caCert, ...args], "x\n");
  await until(() => s.ev.includes("tls close"), 3000).catch(() => {});
  console.log(`== ${label}\n  client: ${grepLines(r.out + r.err, /(alert|New, |ALPN|Verify return)/).join(" | ")}\n  server: ${s.ev.join(" ; ")}`);
  s.stop();
}
await t("ctx + requestCert/rejectUnauthorized(ca in ctx), client cert", { secureContext: ctx({ ...base, ca: pem(pki.caCert) }), requestCert: true, rejectUnauthorized: true }, ["-cert", pki.clientCert, "-key", pki.clientKey]);
await t("ctx + requestCert/rejectUnauthorized(ca in ctx), no cert", { secureContext: ctx({ ...base, ca: pem(pki.caCert) }), requestCert: true, rejectUnauthorized: true }, []);
await t("ctx + requestCert + ca outside ctx, client cert", { secureContext: ctx(base), ca: pem(pki.caCert), requestCert: true, rejectUnauthorized: false }, ["-cert", pki.clientCert, "-key", pki.clientKey]);
await t("ctx + ALPN h2 outside, client http/1.1", { secureContext: ctx(base), ALPNProtocols: "\x02h2" }, ["-alpn", "http/1.1"]);
await t("ctx + ALPN h2 outside, client h2", { secureContext: ctx(base), ALPNProtocols: "\x02h2" }, ["-alpn", "h2"]);
await t("ctx(minVersion TLSv1.3) client 1.2", { secureContext: ctx({ ...base, minVersion: "TLSv1.3" }) }, ["-tls1_2"]);
await t("ctx + minVersion 0x0304 outside, client 1.2", { secureContext: ctx(base), minVersion: 0x0304 }, ["-tls1_2"]);
await t("ctx plain, client 1.2", { secureContext: ctx(base) }, ["-tls1_2"]);
