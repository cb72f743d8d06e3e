// tcp-echo behind nginx's stream proxy with `proxy_protocol on;` (Debian's nginx with
// libnginx-mod-stream), as users run it: nginx sends PROXY v1 (it has no v2 sender), TCP4 for
// clients on 127.0.0.1 and TCP6 for clients on ::1. The source tcp-echo reports must be each
// client's own address and port, the destination nginx's own listening address, the echo exact.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { lbClients } from "./helpers/lb-clients.ts";
import { python } from "./helpers/python.ts";
import { serve, type TestServer } from "./helpers/server.ts";

const NGINX = ["/usr/sbin/nginx", "/usr/bin/nginx"].find((p) => existsSync(p));
const STREAM = ["/usr/lib/nginx/modules/ngx_stream_module.so", "/usr/share/nginx/modules/ngx_stream_module.so"].find((p) => existsSync(p));
const MISSING = !NGINX || !STREAM;
const SKIPPED = MISSING ? " (SKIPPED: nginx or its stream module is missing; apt-get install nginx libnginx-mod-stream)" : "";

describe.skipIf(MISSING)(`behind nginx (stream, proxy_protocol on)${SKIPPED}`, () => {
  let server: TestServer;
  let nginx: Bun.Subprocess<"ignore", "ignore", "pipe">;
  let dir: string;
  let p4 = 0;
  let p6 = 0;

  beforeAll(async () => {
    server = serve({ proxyProtocol: "v1", timeout: 0 });
    [p4, p6] = (await python(`import socket\na=socket.socket(); a.bind(("127.0.0.1",0))\nb=socket.socket(socket.AF_INET6); b.bind(("::1",0))\nprint(a.getsockname()[1], b.getsockname()[1])`)).trim().split(" ").map(Number) as [number, number];
    dir = mkdtempSync(join(tmpdir(), "tcp-echo-nginx-"));
    // One process (master_process off), so that it is ended by its own pid with nothing left behind.
    const cfg = `
load_module ${STREAM};
daemon off;
master_process off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log info;
events { worker_connections 512; }
stream {
  server {
    listen 127.0.0.1:${p4};
    listen [::1]:${p6};
    proxy_pass 127.0.0.1:${server.port};
    proxy_protocol on;
    # Our clients half-close after sending; by default nginx then closes both sides at once.
    proxy_half_close on;
  }
}
`;
    writeFileSync(join(dir, "nginx.conf"), cfg);
    nginx = Bun.spawn([NGINX!, "-p", dir, "-e", join(dir, "error.log"), "-c", join(dir, "nginx.conf")], { stdin: "ignore", stdout: "ignore", stderr: "pipe" });
    // Until nginx listens on both addresses.
    for (let i = 0; i < 200; i++) {
      if (nginx.exitCode !== null) break;
      try {
        for (const [host, port] of [["127.0.0.1", p4], ["::1", p6]] as const) (await Bun.connect({ hostname: host, port, socket: { data() {} } })).end();
        return;
      } catch {}
      await Bun.sleep(50);
    }
    const log = existsSync(join(dir, "error.log")) ? readFileSync(join(dir, "error.log"), "utf8") : "";
    throw new Error(`nginx did not start: ${await new Response(nginx.stderr).text()} ${log}`);
  }, 30_000);

  afterAll(async () => {
    nginx?.kill("SIGKILL");
    await nginx?.exited;
    await server?.handle.stop();
    if (dir && !process.env.KEEP) rmSync(dir, { recursive: true, force: true });
  });

  for (const [family, host] of [["TCP4", "127.0.0.1"], ["TCP6", "::1"]] as const) {
    test(`${family}: 100 connections; the source tcp-echo reports is each client's own address and port; the destination nginx's; echo byte-exact`, async () => {
      const port = host === "::1" ? p6 : p4;
      const clients = await lbClients(host, port, 100);
      expect(clients.filter((c) => !c.ok)).toEqual([]);
      const mine = new Set(clients.map((c) => c.me));
      const opens = () => server.log.of("open").filter((e) => mine.has(e.peer as string));
      await server.log.waitFor(() => opens().length >= 100);
      expect(new Set(opens().map((e) => e.peer))).toEqual(mine);
      const dst = host === "::1" ? { address: "::1", port: p6 } : { address: "127.0.0.1", port: p4 };
      for (const e of opens()) {
        expect(e.proxy).toMatchObject({ version: 1, command: "proxy", family: host === "::1" ? "inet6" : "inet", destination: dst });
        // nginx connects to tcp-echo from 127.0.0.1 itself: the load balancer, shown as `via`.
        expect(String(e.via)).toStartWith("127.0.0.1:");
      }
      expect(server.log.of("proxy-error")).toEqual([]);
    }, 60_000);
  }

  test("tcp-echo client --file through nginx: the bytes come back exactly, the client named as itself", async () => {
    const { runFileClient, CLIENT_DEFAULTS, messageBytes } = await import("../src/client/index.ts");
    const path = join(dir, "input.bin");
    writeFileSync(path, Buffer.alloc(300_000, "tcp-echo behind nginx\n"));
    const r = await runFileClient({ ...CLIENT_DEFAULTS, port: p4, message: messageBytes("x"), file: path }, () => {});
    expect(r).toMatchObject({ ok: true, sent: 300_000, back: 300_000 });
    const me = `127.0.0.1:${r.local.port}`;
    expect(await server.log.waitFor((e) => e.event === "close" && e.peer === me)).toMatchObject({ bytes_in: 300_000, bytes_out: 300_000 });
  });
});
