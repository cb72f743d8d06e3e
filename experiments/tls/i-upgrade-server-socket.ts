// (i) PROXY protocol, then TLS on the same listener: can a plain accepted server socket be upgraded
// to TLS after we read some bytes ourselves? Bun's node:net does it internally with
// `handle.upgradeTLS({ isServer: true, tls, socket, data, initialData })` (read from the embedded
// node:net source of Bun 1.4.5: adoptServerTLS). This checks that the public socket method does it.
// Also: choosing the certificate per connection from the SNI we parse ourselves (src/tls/client-hello.ts),
// and what the client offered (ALPN list), which Bun's API does not expose.
// Run: bun experiments/tls/i-upgrade-server-socket.ts
import { readFileSync } from "node:fs";
import { listenFd, makePki, ourListenFd, python, show, until } from "./lib.ts";
import { parseClientHello } from "../../src/tls/index.ts";

const pki = makePki();
const pem = (f: string) => readFileSync(f, "utf8");
const foo = { cert: pem(pki.fooCert), key: pem(pki.fooKey) };
const bar = { cert: pem(pki.barCert), key: pem(pki.barKey) };

const { fd, port } = ourListenFd();
const events: string[] = [];
let closed = 0;
const tlsHandlers = {
  open(s: any) {
    events.push(`tls open`);
  },
  handshake(s: any, ok: boolean, err: Error | null) {
    events.push(`tls handshake ok=${ok} v=${s.getTLSVersion()} sni=${s.getServername()} alpn=${s.alpnProtocol} cert=${s.getX509Certificate()?.subject?.split("\n")[0]} peer=${s.getPeerCertificate()?.subject?.CN} err=${err?.message ?? null} data=${JSON.stringify(s.data)}`);
  },
  data(s: any, d: Uint8Array) {
    events.push(`tls data ${JSON.stringify(Buffer.from(d).toString())}`);
    s.write(d);
  },
  end(s: any) {
    events.push("tls end");
    s.shutdown();
  },
  error(_s: any, e: Error) {
    events.push(`tls error ${e.message}`);
  },
  close(_s: any, e?: Error) {
    events.push(`tls close${e ? " " + e.message : ""}`);
  },
};

const listener = listenFd<{ buf: Uint8Array; proxy: string | null; upgraded: boolean }>({
  fd,
  allowHalfOpen: true,
  socket: {
    binaryType: "uint8array",
    open(s: any) {
      s.data = { buf: new Uint8Array(0), proxy: null, upgraded: false };
      events.push("raw open");
    },
    data(s: any, d: Uint8Array) {
      const st = s.data;
      if (st.upgraded) {
        // After upgradeTLS the raw socket's data handler is still called with the ciphertext (measured).
        events.push(`raw data after upgrade ${d.length} B (ignored)`);
        return;
      }
      const all = new Uint8Array(st.buf.length + d.length);
      all.set(st.buf);
      all.set(d, st.buf.length);
      st.buf = all;
      events.push(`raw data ${d.length} B`);
      let rest = st.buf;
      if (st.proxy === null && rest[0] === 0x50 /* 'P' */) {
        const nl = rest.indexOf(0x0a);
        if (nl < 0) return;
        st.proxy = new TextDecoder().decode(rest.subarray(0, nl - 1));
        rest = rest.subarray(nl + 1);
        st.buf = rest;
      }
      const r = parseClientHello(rest);
      if (r.kind === "incomplete") return;
      if (r.kind === "not-tls") {
        events.push("raw: not TLS, closing");
        s.end();
        return;
      }
      const hello = r.hello;
      events.push(`raw: PROXY=${JSON.stringify(st.proxy)} offered sni=${hello.serverName} alpn=${JSON.stringify(hello.alpn)}`);
      const chosen = hello.serverName === "bar.test" ? bar : foo;
      const t0 = performance.now();
      try {
        const [raw, tls] = s.upgradeTLS({
          isServer: true,
          tls: { ...chosen, ca: pem(pki.caCert), requestCert: true, rejectUnauthorized: false, ALPNProtocols: "\x08http/1.1\x02h2" },
          socket: tlsHandlers,
          data: { proxy: st.proxy, sni: hello.serverName },
          initialData: rest,
        });
        st.upgraded = true;
        events.push(`raw: upgradeTLS returned [raw fd=${raw.fd}, tls fd=${tls.fd}] in ${(performance.now() - t0).toFixed(2)} ms`);
      } catch (e) {
        events.push(`raw: upgradeTLS throws ${(e as Error).message}`);
        s.end();
      }
    },
    end() {
      events.push("raw end");
    },
    close() {
      events.push("raw close");
      closed++;
    },
    error(_s: any, e: Error) {
      events.push(`raw error ${e.message}`);
    },
  },
});

async function client(label: string, opts: { proxy?: string; sni: string; alpn?: string[]; cert?: boolean; split?: boolean }) {
  events.length = 0;
  const before = closed;
  const r = await python(`
import socket, ssl
ctx = ssl.create_default_context(cafile=${JSON.stringify(pki.caCert)})
${opts.alpn ? `ctx.set_alpn_protocols(${JSON.stringify(opts.alpn)})` : ""}
${opts.cert ? `ctx.load_cert_chain(${JSON.stringify(pki.clientCert)}, ${JSON.stringify(pki.clientKey)})` : ""}
raw = socket.create_connection(("127.0.0.1", ${port}), timeout=5)
${opts.proxy ? `raw.sendall(${JSON.stringify(opts.proxy)}.encode())` : ""}
t = ctx.wrap_socket(raw, server_hostname=${JSON.stringify(opts.sni)})
print("client: version", t.version(), "alpn", t.selected_alpn_protocol(), "server cert CN", dict(x[0] for x in t.getpeercert()["subject"])["commonName"])
t.sendall(b"hello through the upgrade")
got = b""
while len(got) < 25:
    got += t.recv(100)
print("client: echo", got)
plain = t.unwrap()  # sends close_notify, waits for the server's
print("client: unwrap returned: the server answered close_notify")
plain.shutdown(socket.SHUT_WR)
print("client: then the server sent", plain.recv(100), "(b'' = FIN)")
plain.close()
`);
  await until(() => closed > before, 3000).catch(() => {});
  console.log(`\n=== ${label}`);
  console.log((r.out + r.err).trim());
  show("server", events);
}

await client("PROXY v1 then TLS, SNI bar.test, ALPN offered h2+http/1.1, client cert", {
  proxy: "PROXY TCP4 192.0.2.1 192.0.2.2 51000 443\r\n",
  sni: "bar.test",
  alpn: ["h2", "http/1.1"],
  cert: true,
});
await client("no PROXY, SNI foo.test", { sni: "foo.test" });
listener.stop(true);
