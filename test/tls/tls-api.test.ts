// TLS connections through the control API and the faults: GET /connections describes each TLS
// connection as the peer negotiated it (openssl s_client with -servername, -alpn and -cert is the
// peer, and its own report is the reference), a connection still in its handshake says so, and a
// toxic acts on a TLS connection's echo as on a plain one.
import { afterAll, describe, expect, test } from "bun:test";
import { startApiServer, type ApiServer } from "../../src/api/index.ts";
import { parseToxicText } from "../../src/faults/index.ts";
import { createLogger } from "../../src/log/index.ts";
import { readProcessMetrics } from "../../src/ops/index.ts";
import type { TlsConfig } from "../../src/server/index.ts";
import { makePki } from "../helpers/pki.ts";
import { serve, type TestServer } from "../helpers/server.ts";
import { py } from "../helpers/tls-peers.ts";

const pki = makePki();
afterAll(() => pki.dispose());

const TLS: TlsConfig = { cert: { kind: "files", cert: pki.foo.cert, key: pki.foo.key }, sni: [], clientCa: null, clientAuth: "off", alpn: null, minVersion: "1.2" };

function api(s: TestServer): ApiServer {
  return startApiServer({
    host: "127.0.0.1",
    port: 0,
    logger: createLogger({ level: "warn", format: "json", write: s.log.write }),
    control: s.handle.control,
    metrics: { view: async () => ({ stats: s.handle.stats(), processes: [readProcessMetrics()], workers: null }), accepting: s.handle.accepting },
    readOnly: false,
    token: null,
    version: "0.1.0",
  });
}

type Conn = Record<string, any>;

/** Polls GET /connections until `pred` holds for the list; returns it. */
async function connectionsWhen(a: ApiServer, pred: (list: Conn[]) => boolean, ms = 5000): Promise<Conn[]> {
  const deadline = performance.now() + ms;
  for (;;) {
    const list = await connections(a);
    if (pred(list)) return list;
    if (performance.now() > deadline) throw new Error(`GET /connections never matched within ${ms} ms: ${JSON.stringify(list)}`);
    await Bun.sleep(20);
  }
}

async function connections(a: ApiServer): Promise<Conn[]> {
  const r = await fetch(`http://127.0.0.1:${a.port}/connections`);
  expect(r.status).toBe(200);
  return (await r.json()) as Conn[];
}

/**
 * openssl s_client, connected until end(): that sends EOF, awaits its exit and returns its output
 * (s_client buffers its report, so it is read whole once the process is done).
 */
function sClientOpen(port: number, args: string[], line: string) {
  const p = Bun.spawn(["openssl", "s_client", "-connect", `127.0.0.1:${port}`, ...args], { stdin: "pipe", stdout: "pipe", stderr: "pipe", timeout: 20_000, killSignal: "SIGKILL" });
  p.stdin.write(line + "\n");
  void p.stdin.flush();
  const out = new Response(p.stdout).text();
  return {
    async end(): Promise<string> {
      await p.stdin.end();
      await p.exited;
      return out;
    },
  };
}

describe("GET /connections on a TLS listener", () => {
  test("openssl s_client -servername -alpn -cert: version, cipher, SNI, ALPN and the client certificate (subject, SANs, SHA-256) are what s_client negotiated", async () => {
    await using s = serve({ tls: { ...TLS, clientAuth: "require", clientCa: pki.ca, alpn: ["h2", "http/1.1"] }, timeout: 0 });
    const a = api(s);
    try {
      const line = "over tls, listed";
      const c = sClientOpen(s.port, ["-servername", "foo.test", "-alpn", "h2", "-cert", pki.client.cert, "-key", pki.client.key, "-CAfile", pki.ca, "-verify_return_error"], line);
      // Listed once its line has been echoed: the handshake is done and the connection is open.
      const list = await connectionsWhen(a, (l) => l[0]?.bytes_out === line.length + 1, 15_000);
      const out = await c.end();
      expect(out).toContain(line);
      // s_client's own account: "New, TLSv1.3, Cipher is TLS_AES_256_GCM_SHA384" and "ALPN protocol: h2".
      const m = /^New, (TLSv[\d.]+), Cipher is (\S+)$/m.exec(out);
      expect(m).not.toBeNull();
      expect(out).toMatch(/^ALPN protocol: h2$/m);
      expect(list).toHaveLength(1);
      const conn = list[0]!;
      expect(conn.phase).toBe("Open");
      expect(conn.tls).toMatchObject({
        phase: "done",
        result: "ok",
        version: m![1],
        cipher: m![2],
        sni: "foo.test",
        alpn: "h2",
        offered: { sni: "foo.test", alpn: ["h2"] },
        client: {
          subject: "CN=client-one, O=tcp-echo tests",
          sans: ["DNS:client.test", "email:one@client.test"],
          sha256: pki.fingerprint(pki.client.cert),
          verified: true,
        },
      });
    } finally {
      await a.stop();
    }
  });

  test("a connection still in its handshake: phase hello and the bytes of ClientHello held so far; a plain listener's connections have tls null", async () => {
    await using s = serve({ tls: TLS, timeout: 10 });
    const a = api(s);
    // A TLS record header announcing 512 bytes of handshake, and nothing more.
    const raw = await Bun.connect({ hostname: "127.0.0.1", port: s.port, socket: { data() {}, open: (sock) => void sock.write(new Uint8Array([0x16, 0x03, 0x01, 0x02, 0x00])) } });
    try {
      const [conn] = await connectionsWhen(a, (l) => l[0]?.tls?.hello_bytes === 5);
      expect(conn).toMatchObject({ phase: "Header", tls: { phase: "hello", result: null, hello_bytes: 5, offered: null } });
      expect(conn!.tls.version).toBeUndefined();
    } finally {
      raw.end();
      await a.stop();
    }
    await using plain = serve({ timeout: 0 });
    const b = api(plain);
    try {
      const other = await Bun.connect({ hostname: "127.0.0.1", port: plain.port, socket: { data() {} } });
      const [conn] = await connectionsWhen(b, (l) => l.length === 1);
      expect(conn!.tls).toBeNull();
      other.end();
    } finally {
      await b.stop();
    }
  });
});

describe("toxics on TLS connections", () => {
  test("a latency toxic delays the decrypted echo: python ssl's round trip takes at least the toxic's 400 ms, every byte back", async () => {
    const ROUND_TRIP = String.raw`
import json, socket, ssl, sys, time
ctx = ssl.create_default_context(cafile=sys.argv[2])
s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10), server_hostname="foo.test")
data = bytes(range(256)) * 40
t0 = time.monotonic(); s.sendall(data); got = b""
while len(got) < len(data):
    d = s.recv(65536)
    if not d: break
    got += d
print(json.dumps({"rt": time.monotonic() - t0, "ok": got == data}))
s.close()
`;
    const roundTrip = async (port: number) => {
      const r = await py(ROUND_TRIP, [port, pki.ca]);
      if (r.code !== 0) throw new Error(r.err);
      return JSON.parse(r.out) as { rt: number; ok: boolean };
    };
    await using s = serve({ tls: TLS, timeout: 0, toxics: parseToxicText("latency:latency=400") });
    const r = await roundTrip(s.port);
    expect(r.ok).toBe(true);
    expect(r.rt).toBeGreaterThanOrEqual(0.39);
    const close = await s.log.waitFor((e) => e.event === "close");
    expect(close).toMatchObject({ bytes_in: 10240, bytes_out: 10240 });
  });
});
