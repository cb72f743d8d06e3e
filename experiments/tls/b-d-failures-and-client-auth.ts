// (b) How a failed handshake surfaces on the server: which handlers run, what error text, which alert.
// (d) Client auth: requestCert / rejectUnauthorized / ca, request vs require.
// Run: bun experiments/tls/b-d-failures-and-client-auth.ts
import { readFileSync } from "node:fs";
import { grepLines, listenFd, makePki, ourListenFd, python, sClient, show, until } from "./lib.ts";

const pki = makePki();
const pem = (f: string) => readFileSync(f, "utf8");

function server(tlsExtra: object) {
  const { fd, port } = ourListenFd();
  const events: string[] = [];
  let closed = 0;
  const listener = listenFd<unknown>({
    fd,
    allowHalfOpen: true,
    tls: { cert: pem(pki.fooCert), key: pem(pki.fooKey), ...tlsExtra },
    socket: {
      open() {
        events.push("open");
      },
      handshake(s: any, ok: boolean, err: Error | null) {
        events.push(`handshake ok=${ok} authorized=${s.authorized} err=${err ? `${(err as any).code ?? ""}|${err.message}` : null} peerCN=${s.getPeerCertificate?.()?.subject?.CN}`);
      },
      data(s: any, d: Buffer) {
        events.push(`data ${d.length} B`);
        s.write(d);
      },
      end(s: any) {
        events.push("end");
        s.shutdown();
      },
      error(_s: any, e: Error) {
        events.push(`error ${(e as any).code ?? ""}|${e.message}`);
      },
      close(_s: any, e?: Error) {
        events.push(`close${e ? ` ${(e as any).code ?? ""}|${e.message}` : ""}`);
        closed++;
      },
    },
  });
  return { port, events, listener, closed: () => closed };
}

async function sc(label: string, tlsExtra: object, args: string[]) {
  const s = server(tlsExtra);
  const r = await sClient(s.port, ["-CAfile", pki.caCert, ...args], "ping\n");
  await until(() => s.closed() > 0, 3000, "close").catch(() => {});
  console.log(`\n=== ${label} | s_client exit ${r.code}`);
  console.log(grepLines(r.out + r.err, /(alert|error:|^Protocol|New, |ping)/i).slice(0, 6).join("\n"));
  show("server", s.events);
  s.listener.stop(true);
}

const py = (port: number, body: string) => `
import socket, ssl, sys
ctx = ssl.create_default_context(cafile=${JSON.stringify(pki.caCert)})
${body}
try:
    with socket.create_connection(("127.0.0.1", ${port}), timeout=5) as raw:
        with ctx.wrap_socket(raw, server_hostname="foo.test") as t:
            print("version", t.version())
            t.sendall(b"ping\\n")
            print("echo", t.recv(100))
except Exception as e:
    print("client error:", type(e).__name__, e)
`;

async function pyCase(label: string, tlsExtra: object, body: string) {
  const s = server(tlsExtra);
  const r = await python(py(s.port, body));
  await until(() => s.closed() > 0, 3000, "close").catch(() => {});
  console.log(`\n=== ${label} | python`);
  console.log((r.out + r.err).trim());
  show("server", s.events);
  s.listener.stop(true);
}

async function rawCase(label: string, bytes: string) {
  const s = server({});
  const r = await python(`
import socket
s = socket.create_connection(("127.0.0.1", ${s.port}), timeout=5)
s.sendall(bytes.fromhex(${JSON.stringify(bytes)}))
got = b""
try:
    while True:
        b = s.recv(100)
        if not b: break
        got += b
    print("server closed (FIN) after sending", got.hex())
except ConnectionResetError:
    print("reset after", got.hex())
`);
  await until(() => s.closed() > 0, 3000, "close").catch(() => {});
  console.log(`\n=== ${label} | raw`);
  console.log((r.out + r.err).trim());
  show("server", s.events);
  s.listener.stop(true);
}

// Hostile / broken ClientHellos.
await rawCase("garbage instead of ClientHello (HTTP request)", Buffer.from("GET / HTTP/1.1\r\n\r\n").toString("hex"));
await rawCase("TLS record header claiming a handshake, then garbage", "160301000501deadbeef00");

// (d) client auth matrix
const CA = { ca: pem(pki.caCert) };
await sc("require (requestCert+rejectUnauthorized), no client cert", { ...CA, requestCert: true, rejectUnauthorized: true }, []);
await sc("require, rogue CA client cert", { ...CA, requestCert: true, rejectUnauthorized: true }, ["-cert", pki.rogueCert, "-key", pki.rogueKey]);
await sc("require, good client cert", { ...CA, requestCert: true, rejectUnauthorized: true }, ["-cert", pki.clientCert, "-key", pki.clientKey]);
await sc("require over TLS 1.2, rogue cert", { ...CA, requestCert: true, rejectUnauthorized: true }, ["-tls1_2", "-cert", pki.rogueCert, "-key", pki.rogueKey]);
await sc("request (requestCert, rejectUnauthorized:false), rogue cert", { ...CA, requestCert: true, rejectUnauthorized: false }, ["-cert", pki.rogueCert, "-key", pki.rogueKey]);
await sc("ca only (no requestCert), good cert offered", { ...CA }, ["-cert", pki.clientCert, "-key", pki.clientKey]);
await sc("requestCert without ca, good cert", { requestCert: true, rejectUnauthorized: true }, ["-cert", pki.clientCert, "-key", pki.clientKey]);

// python: wrong CA on the client side (server cert not trusted by client), and require without cert.
await pyCase("client trusts another CA (client aborts)", {}, `ctx = ssl.create_default_context(cafile=${JSON.stringify(pki.dir + "/rogue-ca.pem")})`);
await pyCase("require, python without a cert (TLS 1.3)", { ...CA, requestCert: true, rejectUnauthorized: true }, "");
await pyCase("require, python with client cert", { ...CA, requestCert: true, rejectUnauthorized: true }, `ctx.load_cert_chain(${JSON.stringify(pki.clientCert)}, ${JSON.stringify(pki.clientKey)})`);

// What the client sees when Bun rejects its certificate after the handshake (alert, or a bare close?).
await pyCase("require, python with a rogue-CA cert", { ...CA, requestCert: true, rejectUnauthorized: true }, `ctx.load_cert_chain(${JSON.stringify(pki.rogueCert)}, ${JSON.stringify(pki.rogueKey)})`);
await pyCase("require, python with a rogue-CA cert, TLS 1.2", { ...CA, requestCert: true, rejectUnauthorized: true }, `ctx.load_cert_chain(${JSON.stringify(pki.rogueCert)}, ${JSON.stringify(pki.rogueKey)}); ctx.maximum_version = ssl.TLSVersion.TLSv1_2`);
// The client aborts on the server's certificate: which alert text does the server report?
await sc("s_client trusting another CA, -verify_return_error", {}, ["-CAfile", pki.dir + "/rogue-ca.pem", "-verify_return_error"]);
await sc("same over TLS 1.2", {}, ["-CAfile", pki.dir + "/rogue-ca.pem", "-verify_return_error", "-tls1_2"]);
