// (m) The client side on our own fd: what Bun.connect({ fd, tls }) sends as SNI and which name it
// checks the server's certificate against, with and without serverName; and Bun.connect with a
// host (bench). bar.test's certificate names bar.test only; foo's names foo.test, localhost, 127.0.0.1.
// Run: bun experiments/tls/m-client-identity.ts
import { readFileSync } from "node:fs";
import { listenFd, makePki, ourListenFd } from "./lib.ts";
import { connectSocket } from "../../src/net/index.ts";
import { parseClientHello } from "../../src/tls/index.ts";

const pki = makePki();
const pem = (f: string) => readFileSync(f, "utf8");
const ca = pem(pki.caCert);

for (const [name, cert, key] of [["bar", pki.barCert, pki.barKey], ["foo", pki.fooCert, pki.fooKey]] as const) {
  const { fd, port } = ourListenFd();
  let sni: string | null = null;
  // A plain listener that reads the ClientHello (the SNI as sent), then upgrades and echoes.
  const l = listenFd<{ up: boolean }>({
    fd,
    allowHalfOpen: true,
    socket: {
      binaryType: "uint8array",
      open(s: any) {
        s.data = { up: false };
      },
      data(s: any, d: Uint8Array) {
        if (s.data.up) return;
        const r = parseClientHello(d);
        sni = r.kind === "hello" ? r.hello.serverName : `(${r.kind})`;
        s.data.up = true;
        s.upgradeTLS({ isServer: true, tls: { cert: pem(cert), key: pem(key) }, socket: { data(t: any, x: Uint8Array) { t.write(x); }, end(t: any) { t.shutdown(); } }, data: {}, initialData: d });
      },
    },
  });
  const once = async (label: string, tls: object, viaFd: boolean, hostname?: string) => {
    sni = null;
    const c = viaFd ? await connectSocket({ host: "127.0.0.1", port, synRetries: null, recvBuf: null, sendBuf: null, timeout: 2 }) : null;
    const { promise, resolve } = Promise.withResolvers<string>();
    let hs = "";
    await (Bun.connect as any)({
      ...(c ? { fd: c.fd } : { port }),
      ...(hostname ? { hostname } : {}),
      allowHalfOpen: true,
      tls,
      socket: {
        handshake(s: any, ok: boolean, err: any) {
          hs = `ok=${ok} authorized=${s.authorized} err=${err?.code ?? null}`;
          s.write("ping");
        },
        data(s: any, d: Uint8Array) {
          resolve(`${hs}, echo ${JSON.stringify(Buffer.from(d).toString())}`);
          s.end();
        },
        close() {
          resolve(`${hs}, closed`);
        },
      },
    });
    const outcome = await promise;
    console.log(`${name}: ${label.padEnd(44)} SNI sent ${JSON.stringify(sni)}; ${outcome}`);
  };
  await once("fd, no serverName", { ca }, true);
  await once("fd, hostname 127.0.0.1, no serverName", { ca }, true, "127.0.0.1");
  await once("fd, serverName 127.0.0.1", { ca, serverName: "127.0.0.1" }, true);
  await once("fd, serverName ''", { ca, serverName: "" }, true);
  await once("fd, serverName '', rejectUnauthorized false", { ca, serverName: "", rejectUnauthorized: false }, true);
  await once("fd, serverName bar.test", { ca, serverName: "bar.test" }, true);
  await once("host 127.0.0.1, no serverName", { ca }, false, "127.0.0.1");
  await once("host 127.0.0.1, serverName ''", { ca, serverName: "" }, false, "127.0.0.1");
  l.stop(true);
}
