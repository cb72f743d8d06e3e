// (i, continued) Details of the server-side upgrade path (plain Bun.listen on our fd, then
// socket.upgradeTLS({ isServer: true, initialData })):
//  1. cost of the upgradeTLS call itself with PEM options vs a prebuilt node:tls SecureContext;
//  2. handshake failures after an upgrade (no client cert when required, ALPN mismatch, TLS 1.2
//     under a 1.3 minimum): same handshake(ok=false, error) as the native listener?
//  3. which close handlers run (raw and TLS), and in what order;
//  4. whether raw.reload({ socket }) silences the raw data handler for that socket only.
// Run: bun experiments/tls/i2-upgrade-details.ts
import { readFileSync } from "node:fs";
import { createSecureContext } from "node:tls";
import { listenFd, makePki, ourListenFd, python, sClient, grepLines, show, until } from "./lib.ts";

const pki = makePki();
const pem = (f: string) => readFileSync(f, "utf8");
const TLS = { cert: pem(pki.fooCert), key: pem(pki.fooKey) };

function upgradeServer(tls: object, opts: { reloadRaw?: boolean } = {}) {
  const { fd, port } = ourListenFd();
  const ev: string[] = [];
  const upgradeMs: number[] = [];
  let rawDataAfter = 0;
  let closes = 0;
  const tlsHandlers: any = {
    handshake(s: any, ok: boolean, err: Error | null) {
      ev.push(`handshake ok=${ok} v=${s.getTLSVersion()} alpn=${s.alpnProtocol} err=${err ? `${(err as any).code ?? ""}|${err.message}` : null}`);
    },
    data(s: any, d: Uint8Array) {
      s.write(d);
    },
    end(s: any) {
      s.shutdown();
    },
    error(_s: any, e: Error) {
      ev.push(`tls error ${e.message}`);
    },
    close() {
      ev.push("tls close");
      closes++;
    },
  };
  const l: any = listenFd({
    fd,
    allowHalfOpen: true,
    socket: {
      binaryType: "uint8array",
      open(s: any) {
        s.data = { up: false };
      },
      data(s: any, d: Uint8Array) {
        if (s.data.up) {
          rawDataAfter++;
          return;
        }
        s.data.up = true;
        const t0 = performance.now();
        const [raw] = s.upgradeTLS({ isServer: true, tls, socket: tlsHandlers, data: {}, initialData: d });
        upgradeMs.push(performance.now() - t0);
        if (opts.reloadRaw) raw.reload({ socket: { data() {}, close() { ev.push("raw close (reloaded handlers)"); } } });
      },
      close() {
        ev.push("raw close");
      },
    },
  });
  return { port, ev, upgradeMs, rawDataAfter: () => rawDataAfter, closes: () => closes, stop: () => l.stop(true) };
}

const median = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1]!;

// 1. cost of the call
const ctx = (createSecureContext(TLS) as unknown as { context: object }).context;
for (const [label, tls] of [["PEM options", TLS], ["secureContext", { secureContext: ctx }], ["PEM options again", TLS]] as const) {
  const s = upgradeServer(tls);
  await python(`
import socket, ssl
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
for i in range(200):
    with ctx.wrap_socket(socket.create_connection(("127.0.0.1", ${s.port}), timeout=5)) as t: pass
`, 60_000);
  console.log(`upgradeTLS call with ${label}: first ${s.upgradeMs[0]!.toFixed(2)} ms, median of ${s.upgradeMs.length} ${median(s.upgradeMs).toFixed(3)} ms`);
  s.stop();
}

// 2 + 3. failures after the upgrade
async function fail(label: string, tls: object, args: string[]) {
  const s = upgradeServer(tls);
  const r = await sClient(s.port, ["-CAfile", pki.caCert, ...args], "x\n");
  await until(() => s.ev.includes("raw close") && s.closes() > 0, 3000).catch(() => {});
  console.log(`\n=== ${label}`);
  console.log("  client:", grepLines(r.out + r.err, /(alert|New, )/).join(" | "));
  show("  server", s.ev);
  s.stop();
}
await fail("require a client cert, none sent", { ...TLS, ca: pem(pki.caCert), requestCert: true, rejectUnauthorized: true }, []);
await fail("ALPN h2 only, client offers http/1.1", { ...TLS, ALPNProtocols: "\x02h2" }, ["-alpn", "http/1.1"]);
await fail("minVersion 1.3, client TLS 1.2", { ...TLS, minVersion: 0x0304 }, ["-tls1_2"]);
await fail("good handshake", TLS, []);

// 4. reload the raw socket's handlers (the second connection shows whether it was per socket)
{
  const s = upgradeServer(TLS, { reloadRaw: true });
  const r = await python(`
import socket, ssl
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
with ctx.wrap_socket(socket.create_connection(("127.0.0.1", ${s.port}), timeout=5)) as t:
    for i in range(20):
        t.sendall(b"x" * 1000); t.recv(1000)
try:
    with ctx.wrap_socket(socket.create_connection(("127.0.0.1", ${s.port}), timeout=3)) as t:
        t.sendall(b"y"); t.recv(10)
    print("second connection: ok")
except Exception as e:
    print("second connection:", type(e).__name__, e)
`);
  console.log("  python:", (r.out + r.err).trim());
  await until(() => s.closes() >= 2, 3000).catch(() => {});
  console.log(`\n=== raw.reload({ socket: noop }) right after upgradeTLS: raw data calls after upgrade = ${s.rawDataAfter()}`);
  show("  server", s.ev);
  s.stop();
}
