// (c, g) The other route to SNI and reload: node:tls. Its Server runs on Bun.listen too (Bun's
// node:net passes { fd, tls } through), with addContext / SNICallback for SNI and setSecureContext
// for a reload. Does tls.createServer().listen({ fd }) serve our libc-made fd, pick certificates by
// SNI, and swap the default certificate while a connection stays open?
// Run: bun experiments/tls/c2-node-tls-on-fd.ts
import { readFileSync } from "node:fs";
import { createServer } from "node:tls";
import { makePki, ourListenFd, python } from "./lib.ts";

const pki = makePki();
const pem = (f: string) => readFileSync(f, "utf8");
const foo = { cert: pem(pki.fooCert), key: pem(pki.fooKey) };
const bar = { cert: pem(pki.barCert), key: pem(pki.barKey) };
const { fd, port } = ourListenFd();

const server = createServer({ ...foo, ALPNProtocols: ["h2", "http/1.1"] }, (sock) => {
  sock.pipe(sock);
});
server.addContext("bar.test", bar);
await new Promise<void>((resolve, reject) => {
  server.once("error", reject);
  server.listen({ fd }, resolve);
});
console.log("node:tls listening on our fd", fd, "address", server.address());

const seen = async (sni: string) =>
  (
    await python(`
import socket, ssl
ctx = ssl.create_default_context(cafile=${JSON.stringify(pki.caCert)}); ctx.check_hostname = False
ctx.set_alpn_protocols(["http/1.1"])
with ctx.wrap_socket(socket.create_connection(("127.0.0.1", ${port}), timeout=3), server_hostname=${JSON.stringify(sni)}) as t:
    t.sendall(b"ping"); echo = t.recv(10)
    print(dict(x[0] for x in t.getpeercert()["subject"])["commonName"], t.selected_alpn_protocol(), echo)
`)
  ).out.trim() || "failed";

console.log("SNI bar.test ->", await seen("bar.test"));
console.log("SNI foo.test ->", await seen("foo.test"));
console.log("SNI other.test ->", await seen("other.test"));
server.setSecureContext(bar);
console.log("after setSecureContext(bar): SNI other.test ->", await seen("other.test"));
server.close();
