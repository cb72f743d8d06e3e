// Echo semantics over TLS as over TCP (byte-exact, half-close in both orders, back-pressure, the
// idle timeout), hostile handshakes, and PROXY protocol then TLS on one listener. Peers: python3's
// ssl module on a MemoryBIO (tls_peer.py sees close_notify and FIN apart) and raw sockets.
import { afterAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import type { TlsConfig } from "../../src/server/index.ts";
import { makePki } from "../helpers/pki.ts";
import { serve, type LogEvent } from "../helpers/server.ts";
import { py } from "../helpers/tls-peers.ts";
import { until } from "../helpers/wait.ts";

const pki = makePki();
afterAll(() => pki.dispose());

const PEER = join(import.meta.dir, "tls_peer.py");
const CLIENT = join(import.meta.dir, "tls_client.py");
const TLS: TlsConfig = { cert: { kind: "files", cert: pki.foo.cert, key: pki.foo.key }, sni: [], clientCa: null, clientAuth: "off", alpn: null, minVersion: "1.2" };

interface PeerResult {
  handshake: { version?: string; error?: string } | null;
  sent: number;
  received: number;
  mismatch_at: number | null;
  events: { ev: string; received: number; t: number }[];
}

async function peer(port: number, actions: string[]): Promise<PeerResult> {
  const r = await py(`import sys; sys.argv[0] = "tls_peer.py"; exec(open(${JSON.stringify(PEER)}).read())`, [port, pki.ca, "foo.test", ...actions]);
  if (r.code !== 0) throw new Error(`tls_peer.py exited ${r.code}: ${r.err}`);
  return JSON.parse(r.out) as PeerResult;
}

const names = (r: PeerResult) => r.events.map((e) => e.ev);

/** A real ClientHello from python's ssl (OpenSSL), taken off a MemoryBIO. */
const HELLO = String.raw`
import ssl
ctx = ssl.create_default_context()
inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
t = ctx.wrap_bio(inc, out, server_hostname="foo.test")
try:
    t.do_handshake()
except ssl.SSLWantReadError:
    pass
HELLO = out.read()
`;

/** Connects, sends `what` (python expression of bytes), and reports how and when the server ended it. */
async function rawPeer(port: number, what: string): Promise<{ outcome: string; after_s: number; got: number; head: string }> {
  const r = await py(
    `${HELLO}
import json, socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
s.sendall(${what})
t0 = time.monotonic(); got = b""; outcome = "fin"
try:
    while True:
        d = s.recv(65536)
        if not d: break
        got += d
except ConnectionResetError:
    outcome = "rst"
except socket.timeout:
    outcome = "still open"
print(json.dumps({"outcome": outcome, "after_s": time.monotonic() - t0, "got": len(got), "head": got[:16].hex()}))
`,
    [port],
  );
  if (r.code !== 0) throw new Error(r.err);
  return JSON.parse(r.out);
}

describe("hostile handshakes", () => {
  test("an HTTP request instead of a ClientHello: closed at once with tls-error and the TLS library's message; nothing echoed", async () => {
    await using s = serve({ tls: TLS, timeout: 5 });
    const r = await rawPeer(s.port, `b"GET / HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n"`);
    expect(r.got).toBe(0);
    expect(r.after_s).toBeLessThan(2);
    const close = await s.log.waitFor((e) => e.event === "close");
    expect(close).toMatchObject({ reason: "tls-error", bytes_in: 0, bytes_out: 0 });
    expect(close.error).toContain("HTTP_REQUEST");
    const line = await s.log.waitFor((e) => e.event === "tls-error");
    expect(line.hello_problem).toBe("not a TLS handshake record (first byte 0x47)");
  });

  test("binary garbage instead of a ClientHello (512 bytes, first 0x0b): answered with a fatal alert and closed at once with tls-error, counted as failed; nothing echoed", async () => {
    await using s = serve({ tls: TLS, timeout: 5 });
    const r = await rawPeer(s.port, "bytes((i * 37 + 11) % 256 for i in range(512))");
    // All that comes back is one alert record (RFC 8446 §5.1, §6: type 21, level 2 fatal), not an echo.
    expect(r.got).toBe(7);
    expect(r.head).toMatch(/^15030[0-4]000202/);
    // Long before --timeout 5: the TLS library refused the bytes, nobody waited for more.
    expect(r.after_s).toBeLessThan(2);
    const close = await s.log.waitFor((e) => e.event === "close");
    expect(close).toMatchObject({ reason: "tls-error", bytes_in: 0, bytes_out: 0 });
    const line = await s.log.waitFor((e) => e.event === "tls-error");
    expect(line.hello_problem).toBe("not a TLS handshake record (first byte 0x0b)");
    expect(s.handle.stats().byListener.main!.tlsHandshakes).toEqual({ "unknown failed": 1 });
  });

  test("a handshake record that is not a ClientHello (a ServerHello type): tls-error; our parser's reading is in the tls-error line", async () => {
    await using s = serve({ tls: TLS, timeout: 5 });
    // record: handshake, TLS 1.0, 8 bytes; handshake type 2 (server_hello), length 4.
    await rawPeer(s.port, `b"\\x16\\x03\\x01\\x00\\x08\\x02\\x00\\x00\\x04\\x03\\x03\\x00\\x00"`);
    const close = await s.log.waitFor((e) => e.event === "close");
    expect(close.reason).toBe("tls-error");
    const line = await s.log.waitFor((e) => e.event === "tls-error");
    expect(line.hello_problem).toBe("handshake type 2 (expected 1, ClientHello)");
  });

  test("a ClientHello cut in half, then silence: reset at --timeout (reason tls-timeout), not before", async () => {
    await using s = serve({ tls: TLS, timeout: 0.6 });
    const r = await rawPeer(s.port, "HELLO[: len(HELLO) // 2]");
    expect(r.outcome).toBe("rst");
    expect(r.after_s).toBeGreaterThanOrEqual(0.55);
    expect(r.after_s).toBeLessThan(0.6 + 0.5);
    const close = await s.log.waitFor((e) => e.event === "close");
    expect(close.reason).toBe("tls-timeout");
    const line = await s.log.waitFor((e) => e.event === "tls-timeout");
    expect(line.msg).toMatch(/no TLS handshake within 0\.6 s \(--timeout\): \d+ B of a ClientHello; resetting/);
    expect(s.handle.stats().byListener.main!.tlsHandshakes).toEqual({ "unknown timeout": 1 });
  });

  test("a whole ClientHello, then silence (the handshake stops half-way): reset at --timeout, counted with the version offered", async () => {
    await using s = serve({ tls: TLS, timeout: 0.6 });
    const r = await rawPeer(s.port, "HELLO");
    // The server answered the hello (ServerHello and the rest of its flight), then reset.
    expect(r.got).toBeGreaterThan(0);
    expect(r.outcome).toBe("rst");
    expect(r.after_s).toBeGreaterThanOrEqual(0.55);
    expect(r.after_s).toBeLessThan(0.6 + 0.5);
    const line = await s.log.waitFor((e) => e.event === "tls-timeout");
    expect(line.msg).toContain("ClientHello read (client offered SNI foo.test");
    await s.log.waitFor((e) => e.event === "close");
    expect(s.handle.stats().byListener.main!.tlsHandshakes).toEqual({ "TLSv1.3 timeout": 1 });
  });

  test("a client that opens TCP and never says hello is closed on time", async () => {
    await using s = serve({ tls: TLS, timeout: 0.6 });
    const r = await rawPeer(s.port, `b""`);
    expect(r.outcome).toBe("rst");
    expect(r.after_s).toBeGreaterThanOrEqual(0.55);
    expect(r.after_s).toBeLessThan(0.6 + 0.5);
    const close = await s.log.waitFor((e) => e.event === "close");
    expect(close.reason).toBe("tls-timeout");
  });
});

describe("echo over TLS", () => {
  test("half-close, client first with close_notify: all 300,000 bytes come back, then the server's close_notify, then its FIN", async () => {
    await using s = serve({ tls: TLS });
    const r = await peer(s.port, ["send:300000", "close_notify", "drain:5000"]);
    expect(r.mismatch_at).toBeNull();
    expect(r.received).toBe(300_000);
    expect(r.events.filter((e) => e.ev !== "sent-close_notify")).toMatchObject([
      { ev: "close_notify", received: 300_000 },
      { ev: "tcp-fin", received: 300_000 },
    ]);
    expect(await s.log.waitFor((e) => e.event === "close")).toMatchObject({ reason: "peer-closed", bytes_in: 300_000, bytes_out: 300_000, not_echoed: 0 });
  });

  test("half-close, client first with a bare FIN (no close_notify), TLS 1.2: answered the same way after the last byte", async () => {
    await using s = serve({ tls: TLS });
    const r = await peer(s.port, ["tls12", "send:100000", "fin", "drain:5000"]);
    expect(r.handshake?.version).toBe("TLSv1.2");
    expect(r.mismatch_at).toBeNull();
    expect(names(r)).toEqual(["sent-fin", "close_notify", "tcp-fin"]);
    expect(r.events[1]!.received).toBe(100_000);
  });

  test("half-close, server first (idle timeout): close_notify and FIN after the last echoed byte; the client's later close_notify ends it", async () => {
    await using s = serve({ tls: TLS, timeout: 0.5 });
    const r = await peer(s.port, ["send:20000", "read:1500", "close_notify", "drain:3000"]);
    expect(r.mismatch_at).toBeNull();
    const ev = r.events.filter((e) => e.ev !== "sent-close_notify");
    expect(ev).toMatchObject([
      { ev: "close_notify", received: 20_000 },
      { ev: "tcp-fin", received: 20_000 },
    ]);
    expect(await s.log.waitFor((e) => e.event === "close")).toMatchObject({ reason: "idle-timeout", bytes_in: 20_000, bytes_out: 20_000 });
  });

  test("after the handshake the idle timeout is as over TCP: echoes 0.2 s apart keep a connection alive for three timeouts", async () => {
    await using s = serve({ tls: TLS, timeout: 0.6 });
    // Ten echoes 0.2 s apart: 2 s in all, more than three timeouts.
    const r = await py(
      `import json, socket, ssl, sys, time
ctx = ssl.create_default_context(cafile=sys.argv[2])
t = ctx.wrap_socket(socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5), server_hostname="foo.test")
ok = 0
for i in range(10):
    t.sendall(b"tick\\n"); ok += t.recv(100) == b"tick\\n"; time.sleep(0.2)
print(ok)`,
      [s.port, pki.ca],
    );
    expect(r.out.trim()).toBe("10");
    const close = await s.log.waitFor((e) => e.event === "close");
    expect(close.reason).toBe("peer-closed");
    expect(close.duration_ms as number).toBeGreaterThan(1800);
  });

  test("back-pressure: a TLS client that never reads makes the server hold about --max-buffer, not what it sent", async () => {
    const maxBuffer = 128 * 1024;
    await using s = serve({ tls: TLS, maxBuffer, recvBuf: 64 * 1024, sendBuf: 64 * 1024 }, "debug");
    const hog = Bun.spawn(
      [
        "python3",
        "-c",
        `import socket, ssl, sys, time
ctx = ssl.create_default_context(cafile=sys.argv[2])
raw = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
t = ctx.wrap_socket(raw, server_hostname="foo.test")
t.settimeout(0.2)
sent = 0
deadline = time.time() + 1.5
while time.time() < deadline:
    try:
        sent += t.send(b"x" * 16384)
    except (socket.timeout, ssl.SSLWantWriteError):
        pass
print(sent, flush=True)
time.sleep(30)`,
        String(s.port),
        pki.ca,
      ],
      { stdout: "pipe" },
    );
    try {
      await s.log.waitFor((e) => e.event === "pause");
      const { value } = await hog.stdout.getReader().read();
      const clientSent = Number(new TextDecoder().decode(value).trim());
      const st = s.handle.stats();
      const held = st.bytesIn - st.bytesOut;
      const biggestRead = Math.max(...s.log.of("recv").map((e) => e.size as number));
      expect(held).toBeGreaterThanOrEqual(maxBuffer);
      expect(held).toBeLessThanOrEqual(maxBuffer + 2 * biggestRead);
      expect(st.pauses).toBe(1);
      expect(clientSent).toBeGreaterThan(st.bytesIn + 64 * 1024);
    } finally {
      hog.kill();
      await hog.exited;
    }
  });

  test("a graceful stop over TLS: the open connection's bytes are echoed, then close_notify and FIN", async () => {
    const s = serve({ tls: TLS, timeout: 0 });
    const p = peer(s.port, ["send:50000", "read:800", "drain:3000"]);
    await until(() => s.handle.stats().bytesOut === 50_000, "the 50,000 bytes were echoed");
    await s.handle.stop();
    const r = await p;
    expect(r.received).toBe(50_000);
    expect(names(r)).toEqual(["close_notify", "tcp-fin"]);
    expect(s.log.of("close")[0]).toMatchObject({ reason: "shutdown", bytes_in: 50_000, bytes_out: 50_000 });
  });
});

describe("PROXY protocol, then TLS", () => {
  test("v1 header then a handshake on one listener: the open line has the proxied client and the TLS session", async () => {
    await using s = serve({ tls: TLS, proxyProtocol: "v1" });
    const r = await py(`exec(open(${JSON.stringify(CLIENT)}).read())`, [
      JSON.stringify({ port: s.port, ca: pki.ca, sni: "foo.test", proxy: "PROXY TCP4 192.0.2.1 192.0.2.2 51000 443\r\n" }),
    ]);
    expect(JSON.parse(r.out)).toMatchObject({ echo_ok: true, version: "TLSv1.3" });
    const open = await s.log.waitFor((e) => e.event === "open");
    expect(open).toMatchObject({ peer: "192.0.2.1:51000", proxy: { version: 1, command: "proxy" } });
    expect(open.tls as LogEvent).toMatchObject({ version: "TLSv1.3", sni: "foo.test" });
    expect(open.msg).toContain("open 192.0.2.1:51000 -> 192.0.2.2:443 via 127.0.0.1:");
    expect(open.msg).toContain("(PROXY v1), TLSv1.3");
  });

  test("the header and the ClientHello in one write (what a load balancer's first packet may carry)", async () => {
    await using s = serve({ tls: TLS, proxyProtocol: "v1", timeout: 0.5 });
    const r = await rawPeer(s.port, `b"PROXY TCP4 192.0.2.9 192.0.2.2 40000 443\\r\\n" + HELLO`);
    expect(r.got).toBeGreaterThan(0); // the ServerHello came back: the hello after the header was read as one
    const line = await s.log.waitFor((e) => e.event === "tls-timeout" || e.event === "close");
    expect(line.peer).toBe("192.0.2.9:40000");
  });
});
