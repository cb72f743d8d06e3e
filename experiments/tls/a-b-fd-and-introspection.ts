// (a) Does Bun.listen({ fd, tls }) serve TLS on a listening fd made through libc?
// (b) What does the accepted server socket expose after the handshake, and which handler sees it?
// Run: bun experiments/tls/a-b-fd-and-introspection.ts
import { readFileSync } from "node:fs";
import { grepLines, listenFd, makePki, ourListenFd, sClient, show } from "./lib.ts";

const pki = makePki();
const { fd, port } = ourListenFd();
const events: string[] = [];

function probe(s: any, where: string) {
  const call = (name: string, ...args: unknown[]) => {
    try {
      if (typeof s[name] !== "function") return `<${typeof s[name]}>`;
      return s[name](...args);
    } catch (e) {
      return `throws ${(e as Error).message}`;
    }
  };
  const peer = call("getPeerCertificate");
  const peerX = call("getPeerX509Certificate");
  const ownX = call("getX509Certificate");
  return {
    where,
    getTLSVersion: call("getTLSVersion"),
    getCipher: call("getCipher"),
    getServername: call("getServername"),
    servername: s.servername,
    alpnProtocol: s.alpnProtocol,
    authorized: s.authorized,
    getAuthorizationError: String(call("getAuthorizationError")),
    isSessionReused: call("isSessionReused"),
    getSharedSigalgs: call("getSharedSigalgs"),
    getEphemeralKeyInfo: call("getEphemeralKeyInfo"),
    getTLSTicket: call("getTLSTicket"),
    getCertificateSubject: (call("getCertificate") as any)?.subject,
    peerCertKeys: peer && typeof peer === "object" ? Object.keys(peer) : peer,
    peerSubject: peer?.subject,
    peerSubjectaltname: peer?.subjectaltname,
    peerFingerprint256: peer?.fingerprint256,
    peerValid: peer && [peer.valid_from, peer.valid_to],
    peerRawIsBuffer: peer?.raw ? Buffer.isBuffer(peer.raw) : undefined,
    peerX509: peerX && typeof peerX === "object" ? { subject: peerX.subject, san: peerX.subjectAltName, fp: peerX.fingerprint256 } : peerX,
    ownX509Subject: ownX && typeof ownX === "object" ? ownX.subject : ownX,
    fd: s.fd,
  };
}

const listener = listenFd<unknown>({
  fd,
  allowHalfOpen: true,
  tls: {
    cert: readFileSync(pki.fooCert, "utf8"),
    key: readFileSync(pki.fooKey, "utf8"),
    ca: readFileSync(pki.caCert, "utf8"),
    requestCert: true,
    rejectUnauthorized: false,
    // A string or ArrayBuffer only (an array throws ERR_INVALID_ARG_TYPE). Which format? ALPN_FORM picks.
    ALPNProtocols: process.env.ALPN_FORM === "comma" ? "h2,http/1.1" : "\x02h2\x08http/1.1",
  },
  socket: {
    open(s: any) {
      events.push("open");
      show("open (before handshake?)", { version: s.getTLSVersion?.(), alpn: s.alpnProtocol });
    },
    handshake(s: any, success: boolean, authErr: Error | null) {
      events.push(`handshake success=${success} authErr=${authErr?.message ?? null}`);
      show("handshake probe", probe(s, "handshake"));
    },
    data(s: any, d: Buffer) {
      events.push(`data ${JSON.stringify(d.toString())}`);
      s.write(d);
    },
    end(s: any) {
      events.push("end");
      s.shutdown();
    },
    error(_s: any, e: Error) {
      events.push(`error ${(e as any).code ?? ""} ${e.message}`);
    },
    close(_s: any, e?: Error) {
      events.push(`close ${e ? e.message : ""}`);
    },
  },
});
show("listener", { port: listener.port, hostname: listener.hostname, ourPort: port });

async function attempt(label: string, args: string[]) {
  events.length = 0;
  const r = await sClient(port, args, "hello over tls\n");
  console.log(`\n=== ${label}: s_client exit ${r.code}`);
  console.log(grepLines(r.out + r.err, /^(Protocol|Cipher is|New, |ALPN|hello over|Verify return|verify error|.*alert|.*error)/i).slice(0, 12).join("\n"));
  await Bun.sleep(100);
  show("server events", events);
}

await attempt("client cert + ALPN + SNI", ["-CAfile", pki.caCert, "-cert", pki.clientCert, "-key", pki.clientKey, "-alpn", "h2,http/1.1", "-servername", "foo.test"]);
await attempt("no client cert, ALPN http/1.1 only, no SNI", ["-CAfile", pki.caCert, "-alpn", "http/1.1", "-noservername"]);
await attempt("rogue client cert, ALPN not offered by server", ["-CAfile", pki.caCert, "-cert", pki.rogueCert, "-key", pki.rogueKey, "-alpn", "spdy/3"]);
await attempt("TLS 1.2", ["-CAfile", pki.caCert, "-tls1_2", "-servername", "foo.test"]);
listener.stop(true);
