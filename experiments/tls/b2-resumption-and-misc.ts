// (b, continued) Session resumption on the server (isSessionReused), getSharedSigalgs, and the
// handshake handler's arguments when a client resumes; native listener and upgrade path.
// Also: the first `open` of a native TLS listener with a handshake handler comes before the
// handshake (seen in a-b); here, the socket's getTLSVersion() there, and the fd stays usable.
// Run: bun experiments/tls/b2-resumption-and-misc.ts
import { readFileSync } from "node:fs";
import { grepLines, listenFd, makePki, ourListenFd, sClient, show } from "./lib.ts";
import { readSocketOptions } from "../../src/net/index.ts";

const pki = makePki();
const pem = (f: string) => readFileSync(f, "utf8");
const TLS = { cert: pem(pki.fooCert), key: pem(pki.fooKey) };

for (const mode of ["native", "upgrade"]) {
  const { fd, port } = ourListenFd();
  const ev: string[] = [];
  const tlsHandlers: any = {
    open(s: any) {
      let nodelay: unknown;
      try {
        nodelay = readSocketOptions(s.fd).nodelay;
      } catch (e) {
        nodelay = (e as Error).message;
      }
      ev.push(`open fd=${s.fd} nodelay(read through the fd)=${nodelay}`);
    },
    handshake(s: any, ok: boolean) {
      ev.push(`handshake ok=${ok} v=${s.getTLSVersion()} reused=${s.isSessionReused()} sigalgs=${JSON.stringify(s.getSharedSigalgs())}`);
    },
    data(s: any, d: Uint8Array) {
      s.write(d);
    },
  };
  const l: any =
    mode === "native"
      ? listenFd({ fd, tls: TLS, socket: tlsHandlers })
      : listenFd({
          fd,
          socket: {
            data(s: any, d: Uint8Array) {
              if (s.data) return;
              s.data = true;
              s.upgradeTLS({ isServer: true, tls: TLS, socket: tlsHandlers, data: {}, initialData: d });
            },
          },
        });
  for (const v of ["-tls1_2", "-tls1_3"]) {
    const r = await sClient(port, ["-CAfile", pki.caCert, v, "-reconnect"], "", 15_000);
    console.log(`[${mode}] s_client ${v} -reconnect:`, grepLines(r.out, /^(New|Reused),/).map((x) => x.split(",")[0]).join(" "));
  }
  show(`[${mode}] server`, ev);
  l.stop(true);
}

// TLS 1.3 resumption needs the NewSessionTicket, which arrives after the handshake: s_client
// -reconnect may leave before reading it. python3 reads an echo first, then resumes.
import { python } from "./lib.ts";
for (const mode of ["native", "upgrade"]) {
  const { fd, port } = ourListenFd();
  const reused: boolean[] = [];
  const h: any = {
    handshake(s: any) {
      reused.push(s.isSessionReused());
    },
    data(s: any, d: Uint8Array) {
      s.write(d);
    },
  };
  const l: any =
    mode === "native"
      ? listenFd({ fd, tls: TLS, socket: h })
      : listenFd({ fd, socket: { data(s: any, d: Uint8Array) { if (s.data) return; s.data = true; s.upgradeTLS({ isServer: true, tls: TLS, socket: h, data: {}, initialData: d }); } } });
  const r = await python(`
import socket, ssl
ctx = ssl.create_default_context(cafile=${JSON.stringify(pki.caCert)}); ctx.check_hostname = False
sess = None
for i in range(3):
    with ctx.wrap_socket(socket.create_connection(("127.0.0.1", ${port}), timeout=5), session=sess) as t:
        t.sendall(b"x"); t.recv(1)
        print(t.version(), "reused" if t.session_reused else "new", end="; ")
        sess = t.session
`);
  console.log(`[${mode}] python TLS 1.3 with the saved session: ${r.out.trim()} | server isSessionReused: ${JSON.stringify(reused)}`);
  l.stop(true);
}
