// (h) Half-close over TLS: does `end` fire on the peer's close_notify / bare FIN (allowHalfOpen)?
//     Does socket.shutdown() send close_notify and FIN? Can we still read after our shutdown()?
// (j) write() return values and drain over TLS, with a peer that does not read.
// (k) A client that connects and never sends a ClientHello: which handlers run, can our own timer
//     close it (terminate / end), what does Bun's socket.timeout() do before the handshake?
// Each runs against the native TLS listener (Bun.listen({ fd, tls })) and against a plain listener
// upgraded per connection (socket.upgradeTLS({ isServer: true })).
// Run: bun experiments/tls/h-j-k-halfclose-backpressure-timeout.ts
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { listenFd, makePki, ourListenFd, run, show, until } from "./lib.ts";

const pki = makePki();
const pem = (f: string) => readFileSync(f, "utf8");
const TLS = { cert: pem(pki.fooCert), key: pem(pki.fooKey) };
const PEER = join(import.meta.dir, "peer.py");

type Mode = "native" | "upgrade";
interface Opts {
  /** Server calls shutdown() this many ms after the handshake (server-first half-close). */
  shutdownAfter?: number;
  /** Do not read back-pressure: write N bytes at handshake and report write()'s returns. */
  blast?: number;
  /** Close a connection that has not completed its handshake after this many ms. */
  handshakeDeadline?: { ms: number; how: "terminate" | "end" | "bun-timeout" };
  /** Leave out the handshake handler (native mode). */
  noHandshakeHandler?: boolean;
}

function server(mode: Mode, o: Opts) {
  const { fd, port } = ourListenFd();
  const ev: string[] = [];
  const t0 = performance.now();
  const log = (s: string) => ev.push(`${(performance.now() - t0).toFixed(0)}ms ${s}`);
  let closed = 0;
  const echo: any = {
    binaryType: "uint8array",
    open(s: any) {
      log("open");
      s.data ??= {};
      const d = o.handshakeDeadline;
      if (d?.how === "bun-timeout") s.timeout(Math.ceil(d.ms / 1000));
      else if (d) s.data.timer = setTimeout(() => {
        log(`our deadline: ${d.how}() before handshake`);
        d.how === "terminate" ? s.terminate() : s.end();
      }, d.ms);
    },
    handshake(s: any, ok: boolean, err: Error | null) {
      clearTimeout(s.data?.timer);
      log(`handshake ok=${ok} ${err ? err.message : ""}`);
      if (o.shutdownAfter !== undefined) setTimeout(() => {
        log("server shutdown()");
        s.shutdown();
      }, o.shutdownAfter);
      if (o.blast) {
        const big = new Uint8Array(o.blast);
        const rets: number[] = [];
        for (let off = 0, i = 0; off < big.length && i < 50; i++) {
          const w = s.write(big, off, big.length - off);
          rets.push(w);
          if (w <= 0) break;
          off += w;
        }
        log(`write() returns for ${o.blast} B with a non-reading peer: ${JSON.stringify(rets)}; bufferedAmount? ${s.bufferedAmount}`);
      }
    },
    data(s: any, d: Uint8Array) {
      s.data.in = (s.data.in ?? 0) + d.length;
      const w = s.write(d);
      if (w !== d.length) log(`write ${d.length} -> ${w}`);
    },
    drain(s: any) {
      log("drain");
    },
    end(s: any) {
      log(`end (in=${s.data?.in ?? 0})`);
      s.shutdown();
      log("shutdown() after end");
    },
    timeout(s: any) {
      log("bun timeout handler");
      s.terminate();
    },
    error(_s: any, e: Error) {
      log(`error ${e.message}`);
    },
    close(_s: any, e?: Error) {
      log(`close${e ? " " + e.message : ""}`);
      closed++;
    },
  };
  if (o.noHandshakeHandler) delete echo.handshake;
  let listener: any;
  if (mode === "native") {
    listener = listenFd({ fd, allowHalfOpen: true, tls: TLS, socket: echo });
  } else {
    listener = listenFd({
      fd,
      allowHalfOpen: true,
      socket: {
        binaryType: "uint8array",
        open(s: any) {
          s.data = { up: false };
          log("raw open");
          const d = o.handshakeDeadline;
          if (d?.how === "bun-timeout") s.timeout(Math.ceil(d.ms / 1000));
          else if (d) s.data.timer = setTimeout(() => {
            log(`our deadline (raw, no byte yet): ${d.how}()`);
            d.how === "terminate" ? s.terminate() : s.end();
          }, d.ms);
        },
        data(s: any, d: Uint8Array) {
          if (s.data.up) return;
          s.data.up = true;
          clearTimeout(s.data.timer);
          s.upgradeTLS({ isServer: true, tls: TLS, socket: echo, data: {}, initialData: d });
        },
        end() {
          log("raw end");
        },
        timeout(s: any) {
          log("raw bun timeout handler");
          s.terminate();
        },
        close() {
          log("raw close");
          if (!ev.some((e) => e.includes(" open") && !e.includes("raw"))) closed++;
        },
      },
    });
  }
  return { port, ev, closed: () => closed, stop: () => listener.stop(true) };
}

async function peer(mode: Mode, label: string, o: Opts, actions: string[], ms = 10_000) {
  const s = server(mode, o);
  const r = await run(["python3", PEER, String(s.port), pki.caCert, "foo.test", ...actions], "", ms);
  await until(() => s.closed() > 0, 4000).catch(() => {});
  console.log(`\n=== [${mode}] ${label}`);
  console.log(r.out.trim().split("\n").map((l) => "  client " + l).join("\n"));
  if (r.err.trim()) console.log("  client stderr:", r.err.trim().split("\n").slice(-2).join(" | "));
  show("  server", s.ev);
  s.stop();
}

for (const mode of ["native", "upgrade"] as Mode[]) {
  // (h)
  await peer(mode, "client: data, close_notify, keep reading", {}, ["send:100000", "close_notify", "drain:3000"]);
  await peer(mode, "client: data, bare FIN (no close_notify), keep reading", {}, ["send:100000", "fin", "drain:3000"]);
  await peer(mode, "client: data, close_notify, then FIN", {}, ["send:1000", "close_notify", "fin", "drain:3000"]);
  await peer(mode, "client TLS 1.2: data, close_notify", {}, ["tls12", "send:1000", "close_notify", "drain:3000"]);
  await peer(mode, "server shutdown() first; client keeps sending after it, then close_notify", { shutdownAfter: 50 }, [
    "send:10",
    "read:300",
    "send:10",
    "read:200",
    "close_notify",
    "drain:2000",
  ]);
  // (j)
  await peer(mode, "server writes 8 MB at once to a peer that reads only after 500 ms", { blast: 8 << 20 }, ["read:0", "drain:0", "read:500", "drain:4000"]);
  // (k)
  await peer(mode, "client never sends ClientHello; our timer terminate()s at 300 ms", { handshakeDeadline: { ms: 300, how: "terminate" } }, ["hello_only", "2000"]);
  await peer(mode, "client never sends ClientHello; our timer end()s at 300 ms", { handshakeDeadline: { ms: 300, how: "end" } }, ["hello_only", "2000"]);
  await peer(mode, "client never sends ClientHello; Bun socket.timeout(1)", { handshakeDeadline: { ms: 1000, how: "bun-timeout" } }, ["hello_only", "7000"], 12_000);
}
await peer("native", "no handshake handler: client never sends ClientHello (2 s)", { noHandshakeHandler: true }, ["hello_only", "2000"]);
