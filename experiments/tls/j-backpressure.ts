// (j) Back-pressure over TLS, in detail: a peer that sends and never reads. Does write() ever return
// less than asked (as over TCP), when does drain fire, how much does the server hold (RSS), and
// does pause() stop reading? Compared with plain TCP on the same fd-made listener.
// Run: bun experiments/tls/j-backpressure.ts
import { readFileSync } from "node:fs";
import { listenFd, makePki, ourListenFd, show, until } from "./lib.ts";

const pki = makePki();
const pem = (f: string) => readFileSync(f, "utf8");
const TLS = { cert: pem(pki.fooCert), key: pem(pki.fooKey) };

type Mode = "tcp" | "native" | "upgrade";

async function trial(mode: Mode, total: number) {
  const { fd, port } = ourListenFd();
  const st = { in: 0, writes: 0, short: 0, firstShortAt: -1, firstShortRet: 0, drains: 0, neg: 0, openedAt: 0 };
  let sock: any = null;
  const handlers: any = {
    binaryType: "uint8array",
    open(s: any) {
      sock = s;
    },
    data(s: any, d: Uint8Array) {
      st.in += d.length;
      st.writes++;
      const w = s.write(d);
      if (w < 0) st.neg++;
      else if (w < d.length && st.firstShortAt < 0) {
        st.firstShortAt = st.in;
        st.firstShortRet = w;
      }
      if (w >= 0 && w < d.length) st.short++;
    },
    drain() {
      st.drains++;
    },
  };
  let l: any;
  if (mode === "tcp") l = listenFd({ fd, socket: handlers });
  else if (mode === "native") l = listenFd({ fd, tls: TLS, socket: handlers });
  else
    l = listenFd({
      fd,
      socket: {
        data(s: any, d: Uint8Array) {
          if (s.data?.up) return;
          s.data = { up: true };
          s.upgradeTLS({ isServer: true, tls: TLS, socket: handlers, data: {}, initialData: d });
        },
      },
    });
  const rss0 = process.memoryUsage().rss;
  // The peer: sends `total` bytes as fast as it can, never reads; SO_RCVBUF small so the server's
  // kernel send buffer fills quickly. Exits after sending (or after 20 s).
  const tlsPeer = mode !== "tcp";
  const p = Bun.spawn(["python3", "-c", `
import socket, ssl, time
raw = socket.socket(); raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
raw.connect(("127.0.0.1", ${port}))
s = raw
if ${tlsPeer ? "True" : "False"}:
    ctx = ssl.create_default_context(cafile=${JSON.stringify(pki.caCert)}); ctx.check_hostname = False
    s = ctx.wrap_socket(raw)
chunk = b"x" * 65536; sent = 0; end = time.time() + 20
s.settimeout(2)
try:
    while sent < ${total} and time.time() < end:
        s.sendall(chunk); sent += len(chunk)
except Exception as e:
    print("peer stopped sending:", type(e).__name__, e)
print("peer sent", sent, flush=True)
time.sleep(1.5)
`], { stdout: "pipe", stderr: "pipe", timeout: 30_000 });
  const out = await new Response(p.stdout).text();
  await p.exited;
  const rss1 = process.memoryUsage().rss;
  console.log(`\n=== [${mode}] peer sends ${total >> 20} MiB, never reads`);
  console.log("  " + out.trim().replace(/\n/g, "\n  "));
  show("  server", { ...st, rssGrowthMiB: Math.round((rss1 - rss0) / 1048576) });
  l.stop(true);
}

for (const mode of ["tcp", "native", "upgrade"] as Mode[]) await trial(mode, 64 << 20);

// pause() over TLS: does it stop data events (so the kernel window closes and the peer blocks)?
{
  const { fd, port } = ourListenFd();
  let got = 0;
  let pausedAt = -1;
  const l: any = listenFd({
    fd,
    tls: TLS,
    socket: {
      data(s: any, d: Uint8Array) {
        got += d.length;
        if (got > 1 << 20 && pausedAt < 0) {
          pausedAt = got;
          s.pause();
        }
      },
    },
  });
  const p = Bun.spawn(["python3", "-c", `
import socket, ssl, time
ctx = ssl.create_default_context(cafile=${JSON.stringify(pki.caCert)}); ctx.check_hostname = False
s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", ${port})))
s.settimeout(2); sent = 0
try:
    while sent < (64 << 20): s.sendall(b"y" * 65536); sent += 65536
except Exception as e: print("peer blocked:", type(e).__name__)
print("peer sent", sent)
`], { stdout: "pipe", stderr: "pipe", timeout: 30_000 });
  const out = await new Response(p.stdout).text();
  await p.exited;
  console.log(`\n=== [native] pause() after 1 MiB received`);
  console.log("  " + out.trim().replace(/\n/g, "\n  "));
  show("  server", { pausedAt, gotTotal: got });
  l.stop(true);
}
