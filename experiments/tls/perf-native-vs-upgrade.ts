// Cost of the two ways to serve TLS on our fd: the native TLS listener (Bun.listen({ fd, tls })) and a
// plain listener whose sockets are upgraded with socket.upgradeTLS({ isServer: true }) after we read
// the first bytes ourselves (needed for PROXY-then-TLS and for choosing a certificate by SNI).
// Handshakes: `openssl s_time -new` (one client, full handshakes, 3 s). Throughput: a Bun TLS client
// in its own process echoing 256 MiB through the server in 64 KiB writes.
// Run: bun experiments/tls/perf-native-vs-upgrade.ts
import { readFileSync } from "node:fs";
import { createSecureContext } from "node:tls";
import { listenFd, makePki, ourListenFd, run } from "./lib.ts";

const pki = makePki();
const pem = (f: string) => readFileSync(f, "utf8");
const TLS = { cert: pem(pki.fooCert), key: pem(pki.fooKey) };
const ctx = (createSecureContext(TLS) as unknown as { context: object }).context;

type Mode = "tcp" | "native" | "upgrade-pem" | "upgrade-ctx";

function serve(mode: Mode) {
  const { fd, port } = ourListenFd();
  // Echo with back-pressure: keep what write() did not take, pause reading until drain sends it.
  const echo: any = {
    binaryType: "uint8array",
    open(s: any) {
      s.data = { rest: null };
    },
    data(s: any, d: Uint8Array) {
      const w = s.write(d);
      if (w < d.length) {
        s.data.rest = d.slice(Math.max(0, w));
        s.pause();
      }
    },
    drain(s: any) {
      const r = s.data.rest;
      if (!r) return;
      const w = s.write(r);
      if (w < r.length) s.data.rest = r.subarray(Math.max(0, w));
      else {
        s.data.rest = null;
        s.resume();
      }
    },
    end(s: any) {
      s.shutdown();
    },
  };
  let l: any;
  if (mode === "tcp") l = listenFd({ fd, allowHalfOpen: true, socket: echo });
  else if (mode === "native") l = listenFd({ fd, allowHalfOpen: true, tls: TLS, socket: echo });
  else {
    const tls = mode === "upgrade-pem" ? TLS : { secureContext: ctx };
    l = listenFd({
      fd,
      allowHalfOpen: true,
      socket: {
        binaryType: "uint8array",
        open(s: any) {
          s.data = false;
        },
        data(s: any, d: Uint8Array) {
          // After the upgrade Bun still calls this for every ciphertext chunk: one flag check.
          if (s.data) return;
          s.data = true;
          s.upgradeTLS({ isServer: true, tls, socket: echo, data: { rest: null }, initialData: d });
        },
      },
    });
  }
  return { port, stop: () => l.stop(true) };
}

const CLIENT = `
const [port, tls, total] = [Number(process.argv[1]), process.argv[2] === "1", Number(process.argv[3])]; // bun -e: argv[1] is the first argument
const chunk = new Uint8Array(65536).fill(7);
let got = 0, sent = 0;
const t0 = performance.now();
const { promise, resolve } = Promise.withResolvers();
const pump = (s) => { while (sent < total) { const w = s.write(chunk); if (w <= 0) return; sent += w; if (w < chunk.length) return; } };
await Bun.connect({ hostname: "127.0.0.1", port, tls: tls ? { rejectUnauthorized: false } : undefined,
  socket: { open: pump, drain: pump, data(s, d) { got += d.length; if (got >= total) { s.end(); resolve(); } } } });
await promise;
const s = (performance.now() - t0) / 1000;
console.log(JSON.stringify({ MiBps: Math.round(total / 1048576 / s) }));
`;

// Interleaved rounds (the machine is shared and noisy): medians per mode.
const ROUNDS = Number(process.env.ROUNDS ?? 5);
const modes: Mode[] = ["tcp", "native", "upgrade-pem", "upgrade-ctx"];
const rows: Record<string, { hs: number[]; conns: number[]; mibps: number[] }> = {};
for (const m of modes) rows[m] = { hs: [], conns: [], mibps: [] };
for (let round = 0; round < ROUNDS; round++) {
  for (const mode of modes) {
    const s = serve(mode);
    if (mode !== "tcp") {
      const r = await run(["openssl", "s_time", "-connect", `127.0.0.1:${s.port}`, "-new", "-time", "3"], "", 20_000);
      rows[mode]!.hs.push(Number(/([\d.]+) connections\/user sec/.exec(r.out)?.[1] ?? NaN));
      rows[mode]!.conns.push(Number(/(\d+) connections in [\d.]+s/.exec(r.out)?.[1] ?? NaN) / 3);
    }
    const c = await run(["bun", "-e", CLIENT, String(s.port), mode === "tcp" ? "0" : "1", String(256 << 20)], "", 60_000);
    rows[mode]!.mibps.push(JSON.parse(c.out.trim() || '{"MiBps":null}').MiBps);
    s.stop();
  }
}
const med = (a: number[]) => (a.length ? [...a].sort((x, y) => x - y)[a.length >> 1] : null);
const table: Record<string, unknown> = {};
for (const m of modes) table[m] = { "handshakes/s (wall, median)": med(rows[m]!.conns), "echo MiB/s (median)": med(rows[m]!.mibps), runs: rows[m]!.mibps.join(" ") };
console.table(table);

// Memory per open, idle TLS connection: 500 handshaken connections held by one python process.
// MEM_MODE runs one mode per process: freed memory of an earlier mode would hide the next one's cost.
for (const mode of (process.env.MEM_MODE ? [process.env.MEM_MODE] : ["native", "upgrade-pem"]) as Mode[]) {
  const s = serve(mode);
  Bun.gc(true);
  const before = process.memoryUsage().rss;
  const p = Bun.spawn(["python3", "-c", `
import socket, ssl, sys, time
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
held = []
for i in range(500):
    t = ctx.wrap_socket(socket.create_connection(("127.0.0.1", ${s.port}), timeout=5)); t.sendall(b"x"); t.recv(1); held.append(t)
print("held", len(held), flush=True)
sys.stdin.read()
`], { stdin: "pipe", stdout: "pipe", timeout: 60_000 });
  const reader = p.stdout.getReader();
  await reader.read();
  Bun.gc(true);
  const after = process.memoryUsage().rss;
  p.stdin.end();
  await p.exited;
  console.log(`[${mode}] RSS for 500 idle TLS connections: +${((after - before) / 1048576).toFixed(1)} MiB (${((after - before) / 500 / 1024).toFixed(1)} KiB each)`);
  s.stop();
}
