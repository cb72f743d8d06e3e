// TLS passthrough behind HAProxy (mode tcp): HAProxy reads the SNI of each ClientHello
// (req.ssl_sni) without terminating TLS and routes foo.test and bar.test to two tcp-echo listeners,
// one of them with a PROXY v2 header in front of the TLS bytes (what a TLS-passthrough load
// balancer sends). Each listener must report the SNI it received and serve its own certificate.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { TlsConfig } from "../../src/server/index.ts";
import { makePki, type Pair } from "../helpers/pki.ts";
import { serveListeners, type TestServer } from "../helpers/server.ts";
import { py } from "../helpers/tls-peers.ts";

const HAPROXY = ["/usr/sbin/haproxy", "/usr/bin/haproxy"].find((p) => existsSync(p));
const CLIENT = join(import.meta.dir, "tls_client.py");

describe.skipIf(!HAPROXY)("TLS passthrough behind HAProxy, routed by req.ssl_sni", () => {
  const pki = makePki();
  let server: TestServer;
  let haproxy: Bun.Subprocess<"ignore", "ignore", "pipe">;
  let front = 0;
  const tls = (p: Pair): TlsConfig => ({ cert: { kind: "files", cert: p.cert, key: p.key }, sni: [], clientCa: null, clientAuth: "off", alpn: ["h2", "http/1.1"], minVersion: "1.2" });

  beforeAll(async () => {
    server = serveListeners([
      { name: "foo", tls: tls(pki.foo), proxyProtocol: "v2", timeout: 5 },
      { name: "bar", tls: tls(pki.bar), timeout: 5 },
    ]);
    front = Number((await py(`import socket\ns=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])`)).out.trim());
    const [foo, bar] = server.handle.listeners;
    const cfg = `
defaults
  mode tcp
  timeout connect 2s
  timeout client 10s
  timeout server 10s
frontend tls_in
  bind 127.0.0.1:${front}
  tcp-request inspect-delay 5s
  tcp-request content accept if { req.ssl_hello_type 1 }
  use_backend to_foo if { req.ssl_sni -i foo.test }
  use_backend to_bar if { req.ssl_sni -i bar.test }
backend to_foo
  server foo 127.0.0.1:${foo!.address.port} send-proxy-v2
backend to_bar
  server bar 127.0.0.1:${bar!.address.port}
`;
    writeFileSync(join(pki.dir, "haproxy.cfg"), cfg);
    haproxy = Bun.spawn([HAPROXY!, "-db", "-f", join(pki.dir, "haproxy.cfg")], { stdin: "ignore", stdout: "ignore", stderr: "pipe" });
    // Until HAProxy accepts connections on its frontend.
    for (let i = 0; i < 100; i++) {
      const r = await py(`import socket,sys\ntry:\n  socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=1).close(); print("up")\nexcept OSError: print("down")`, [front]);
      if (r.out.trim() === "up") return;
      await Bun.sleep(50);
    }
    throw new Error(`HAProxy did not start: ${await new Response(haproxy.stderr).text()}`);
  }, 30_000);

  afterAll(async () => {
    haproxy?.kill("SIGKILL");
    await haproxy?.exited;
    await server?.handle.stop();
    pki.dispose();
  });

  test("20 clients per name: each reaches the listener for its SNI, which reports that SNI and serves its certificate; the PROXY v2 listener reports each client's own address", async () => {
    const list = [];
    for (let i = 0; i < 20; i++) for (const sni of ["foo.test", "bar.test"]) list.push({ port: front, ca: pki.ca, sni, alpn: ["h2"], send: `hello ${sni} #${i}\n` });
    const r = await py(`exec(open(${JSON.stringify(CLIENT)}).read())`, [JSON.stringify(list)], 60_000);
    const results = JSON.parse(r.out) as { echo_ok?: boolean; alpn?: string; error?: string }[];
    expect(results.filter((x) => !x.echo_ok)).toEqual([]);
    expect(new Set(results.map((x) => x.alpn))).toEqual(new Set(["h2"]));
    await server.log.waitFor(() => server.log.of("open").length >= 40);
    const opens = server.log.of("open");
    const by = (l: string) => opens.filter((e) => e.listener === l).map((e) => e.tls as { sni: string; served: string });
    expect(by("foo").length).toBe(20);
    expect(by("bar").length).toBe(20);
    expect(new Set(by("foo").map((t) => `${t.sni} ${t.served}`))).toEqual(new Set(["foo.test CN=foo.test, O=tcp-echo tests"]));
    expect(new Set(by("bar").map((t) => `${t.sni} ${t.served}`))).toEqual(new Set(["bar.test CN=bar.test, O=tcp-echo tests"]));
    // Behind send-proxy-v2 the peer is the client itself (the header's source), via HAProxy. Not
    // "peer !== via": the kernel may give HAProxy's own connection the client's port number (a
    // different 4-tuple), which happened once in a loaded run.
    const fooOpens = opens.filter((e) => e.listener === "foo");
    const header = (e: (typeof opens)[number]) => e.proxy as { command: string; source: { address: string; port: number } };
    expect(fooOpens.every((e) => header(e).command === "proxy" && typeof e.via === "string" && e.peer === `${header(e).source.address}:${header(e).source.port}`)).toBe(true);
  }, 60_000);
});
