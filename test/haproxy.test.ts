// tcp-echo behind HAProxy (Debian's haproxy, mode tcp), as users run it: send-proxy, send-proxy-v2
// and send-proxy-v2 with unique-id and crc32c, 100 connections each. The source tcp-echo reports
// must be each client's own address and port, the echo byte-exact, and HAProxy's own health checks
// (which send a PROXY header too, LOCAL in v2) must pass.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { lbClients } from "./helpers/lb-clients.ts";
import { python } from "./helpers/python.ts";
import { serveListeners, type TestServer } from "./helpers/server.ts";

const HAPROXY = ["/usr/sbin/haproxy", "/usr/bin/haproxy"].find((p) => existsSync(p));

const STATS = String.raw`
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(b"show stat\n")
data = b""
while True:
    d = s.recv(65536)
    if not d: break
    data += d
print(data.decode())
`;

describe.skipIf(!HAPROXY)("behind HAProxy (mode tcp)", () => {
  let server: TestServer;
  let haproxy: Bun.Subprocess<"ignore", "ignore", "pipe">;
  let dir: string;
  const fronts: Record<string, number> = {};

  beforeAll(async () => {
    server = serveListeners([
      { name: "v1", proxyProtocol: "v1", timeout: 0 },
      { name: "v2", proxyProtocol: "v2", timeout: 0 },
      { name: "v2opts", proxyProtocol: "v2", timeout: 0 },
    ]);
    const ports = (await python(`import socket\nss=[socket.socket() for _ in range(3)]\nfor s in ss: s.bind(("127.0.0.1",0))\nprint(" ".join(str(s.getsockname()[1]) for s in ss))`)).trim().split(" ").map(Number);
    const [l1, l2, l3] = server.handle.listeners;
    dir = mkdtempSync(join(tmpdir(), "tcp-echo-haproxy-"));
    const cfg = `
global
  stats socket ${dir}/stats.sock mode 600 level admin
defaults
  mode tcp
  timeout connect 2s
  timeout client 10s
  timeout server 10s
  # HAProxy's plain TCP check closes with an RST right after its PROXY header, which often reaches
  # the kernel before tcp-echo has read the header: the kernel then drops the connection unread and
  # nothing is logged. linger closes with a FIN, and the probe must come back echoed, so every check
  # is read and proves that a LOCAL (v2) or TCP4 (v1) header is followed by a working echo.
  option tcp-check
  tcp-check connect default linger
  tcp-check send health-check
  tcp-check expect string health-check
frontend f1
  bind 127.0.0.1:${ports[0]}
  default_backend b1
backend b1
  server s1 127.0.0.1:${l1!.address.port} send-proxy check check-send-proxy inter 200ms
frontend f2
  bind 127.0.0.1:${ports[1]}
  default_backend b2
backend b2
  server s2 127.0.0.1:${l2!.address.port} send-proxy-v2 check check-send-proxy inter 200ms
frontend f3
  bind 127.0.0.1:${ports[2]}
  unique-id-format %{+X}o%ci:%cp_%fi:%fp_%Ts_%rt:%pid
  default_backend b3
backend b3
  server s3 127.0.0.1:${l3!.address.port} send-proxy-v2 proxy-v2-options unique-id,crc32c,authority check check-send-proxy inter 200ms
`;
    writeFileSync(join(dir, "haproxy.cfg"), cfg);
    haproxy = Bun.spawn([HAPROXY!, "-db", "-f", join(dir, "haproxy.cfg")], { stdin: "ignore", stdout: "ignore", stderr: "pipe" });
    fronts.v1 = ports[0]!;
    fronts.v2 = ports[1]!;
    fronts.v2opts = ports[2]!;
    // Until every backend server is UP by HAProxy's own checks (its PROXY-carrying health checks).
    for (let i = 0; i < 100; i++) {
      try {
        const stat = await python(STATS, [join(dir, "stats.sock")]);
        const up = stat.split("\n").filter((l) => /^b\d,s\d,/.test(l) && l.split(",")[17] === "UP").length;
        if (up === 3) return;
      } catch {}
      await Bun.sleep(100);
    }
    throw new Error(`HAProxy's health checks did not all pass: ${await new Response(haproxy.stderr).text()}`);
  }, 30_000);

  afterAll(async () => {
    haproxy?.kill("SIGKILL");
    await haproxy?.exited;
    await server?.handle.stop();
  });

  for (const name of ["v1", "v2", "v2opts"] as const) {
    test(`${name}: 100 connections; the source tcp-echo reports is each client's own address and port; echo byte-exact`, async () => {
      const clients = await lbClients("127.0.0.1", fronts[name]!, 100);
      expect(clients.filter((c) => !c.ok)).toEqual([]);
      const opens = () => server.log.of("open").filter((e) => e.listener === name && e.proxy && (e.proxy as { command: string }).command === "proxy");
      await server.log.waitFor(() => opens().length >= 100);
      // Every client appears as itself (health checks come on top: v1 ones name HAProxy's side).
      const reported = new Set(opens().map((e) => e.peer));
      expect(clients.map((c) => c.me).filter((me) => !reported.has(me))).toEqual([]);
      if (name === "v2opts") {
        const tlvs = JSON.stringify(opens().map((e) => e.proxy));
        expect(tlvs).toContain('"unique-id"');
        expect(tlvs).toContain('"crc32c"');
      }
      // The health checks: LOCAL in v2 (the real peer stays), v1 health checks send a TCP4 header.
      // Their probes come back echoed (HAProxy marks the server UP on that), so each is read.
      const clientPeers = new Set(clients.map((c) => c.me));
      const healthChecks = () => server.log.of("open").filter((e) => e.listener === name && !clientPeers.has(e.peer as string));
      await server.log.waitFor(() => healthChecks().length > 0);
      const checks = healthChecks();
      if (name !== "v1") expect(checks.map((e) => (e.proxy as { command: string }).command)).toEqual(checks.map(() => "local"));
      expect(server.log.of("proxy-error")).toEqual([]);
    }, 60_000);
  }
});
