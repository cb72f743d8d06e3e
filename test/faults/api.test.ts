// The control API against clients nobody here wrote: toxiproxy-node-client (npm) drives it as it
// drives toxiproxy, and the effects are checked on real sockets. Then the API's refusals (status
// codes and toxiproxy's error bodies) and hostile callers, while the echo keeps serving.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Toxiproxy } from "toxiproxy-node-client";
import type { ApiServer } from "../../src/api/index.ts";
import { connect } from "../helpers/client.ts";
import { startTestApi } from "../helpers/api.ts";
import { python } from "../helpers/python.ts";
import { serve, type TestServer } from "../helpers/server.ts";
import { until } from "../helpers/wait.ts";

const api = (s: TestServer, token: string | null = null, readOnly = false): ApiServer => startTestApi(s, { token, readOnly });

/** One echo round trip on a fresh connection, timed (ms). */
async function roundTrip(port: number): Promise<number> {
  const c = await connect(port);
  const t = performance.now();
  await c.writeAll(new TextEncoder().encode("ping\n"));
  await c.waitBytes(5, 5000);
  const ms = performance.now() - t;
  c.socket.end();
  return ms;
}

describe("toxiproxy-node-client drives tcp-echo", () => {
  let s: TestServer;
  let a: ApiServer;
  let toxiproxy: Toxiproxy;
  beforeAll(() => {
    s = serve({ timeout: 0 });
    a = api(s);
    toxiproxy = new Toxiproxy(`http://127.0.0.1:${a.port}`);
  });
  afterAll(async () => {
    await a.stop();
    await s.handle.stop();
  });

  test("create, get, getAll: a proxy is a listener that echoes", async () => {
    const p = await toxiproxy.createProxy({ name: "redis", listen: "127.0.0.1:0", upstream: "echo" });
    expect(p.name).toBe("redis");
    expect(p.enabled).toBe(true);
    const port = Number(p.listen.split(":")[1]);
    expect(port).toBeGreaterThan(0);
    expect(await roundTrip(port)).toBeLessThan(100);
    expect((await toxiproxy.get("redis")).listen).toBe(p.listen);
    expect(Object.keys(await toxiproxy.getAll()).sort()).toEqual(["main", "redis"]);
  });

  test("toxic add, update and remove act on the proxy's connections", async () => {
    const p = await toxiproxy.get("redis");
    const port = Number(p.listen.split(":")[1]);
    const t = await p.addToxic({ name: "slow", type: "latency", stream: "downstream", toxicity: 1, attributes: { latency: 300, jitter: 0 } } as never);
    expect(t.attributes).toEqual({ latency: 300, jitter: 0 });
    expect(await roundTrip(port)).toBeGreaterThanOrEqual(300);
    const u = await t.update({ attributes: { latency: 100 }, toxicity: 1 } as never);
    expect(u.attributes).toEqual({ latency: 100, jitter: 0 });
    const ms = await roundTrip(port);
    expect(ms).toBeGreaterThanOrEqual(100);
    expect(ms).toBeLessThan(300);
    expect((await p.getToxic("slow")).toJson().attributes).toEqual({ latency: 100, jitter: 0 });
    await u.remove();
    expect(await roundTrip(port)).toBeLessThan(100);
  });

  test("toggle: a disabled proxy refuses connections, an enabled one serves again on the same port", async () => {
    const p = await toxiproxy.get("redis");
    const port = Number(p.listen.split(":")[1]);
    const off = await p.update({ enabled: false, listen: p.listen, upstream: p.upstream });
    expect(off.enabled).toBe(false);
    await expect(connect(port)).rejects.toThrow();
    const on = await off.update({ enabled: true, listen: p.listen, upstream: p.upstream });
    expect(on.enabled).toBe(true);
    expect(on.listen).toBe(p.listen);
    expect(await roundTrip(port)).toBeLessThan(100);
  });

  test("populate: new proxies are created, an unchanged one is kept with its toxics", async () => {
    const p = await toxiproxy.get("redis");
    await p.addToxic({ name: "keep", type: "latency", stream: "upstream", toxicity: 1, attributes: { latency: 10, jitter: 0 } } as never);
    const got = await toxiproxy.populate([
      { name: "redis", listen: p.listen, upstream: "echo" },
      { name: "pg", listen: "127.0.0.1:0", upstream: "" },
    ]);
    expect(Object.keys(got).sort()).toEqual(["pg", "redis"]);
    const res = await fetch(`http://127.0.0.1:${a.port}/proxies/redis/toxics`);
    expect(((await res.json()) as { name: string }[]).map((t) => t.name)).toEqual(["keep"]);
    expect(await roundTrip(Number(got.pg!.listen.split(":")[1]))).toBeLessThan(100);
  });

  test("reset: every toxic removed and every proxy enabled; delete: the listener is gone", async () => {
    const pg = await toxiproxy.get("pg");
    await pg.update({ enabled: false, listen: pg.listen, upstream: pg.upstream });
    await toxiproxy.reset();
    const all = await toxiproxy.getAll();
    for (const p of Object.values(all)) expect(p.enabled).toBe(true);
    const redis = await fetch(`http://127.0.0.1:${a.port}/proxies/redis`).then((r) => r.json() as Promise<{ toxics: unknown[] }>);
    expect(redis.toxics).toEqual([]);
    await pg.remove();
    await expect(toxiproxy.get("pg")).rejects.toThrow(/404/);
    await expect(connect(Number(pg.listen.split(":")[1]))).rejects.toThrow();
    expect(await toxiproxy.getVersion()).toContain('"version"');
  });
});

describe("API refusals: toxiproxy's status codes and error bodies", () => {
  let s: TestServer;
  let a: ApiServer;
  let base: string;
  beforeAll(() => {
    s = serve({ timeout: 0 });
    a = api(s);
    base = `http://127.0.0.1:${a.port}`;
  });
  afterAll(async () => {
    await a.stop();
    await s.handle.stop();
  });
  const call = async (method: string, path: string, body?: string, headers: Record<string, string> = {}) => {
    const r = await fetch(base + path, { method, body, headers });
    const text = await r.text();
    return { status: r.status, json: text ? (JSON.parse(text) as Record<string, unknown>) : null };
  };

  test.each([
    ["GET", "/proxies/nope", undefined, 404, "proxy not found"],
    ["POST", "/proxies", '{"name":"main","listen":"127.0.0.1:0"}', 409, "proxy already exists"],
    ["POST", "/proxies", '{"listen":"127.0.0.1:0"}', 400, "missing required field: name"],
    ["POST", "/proxies", '{"name":"x","listen":"127.0.0.1:0","upstream":"10.0.0.1:5432"}', 400, "tcp-echo is the endpoint, not a proxy"],
    ["POST", "/proxies", "{nope", 400, "bad request body: not JSON"],
    ["POST", "/proxies", '{"name":"x","listen":"db:5432"}', 400, "listen"],
    ["POST", "/proxies/main/toxics", '{"type":"latency","attributes":{"latency":-5}}', 400, "attributes.latency"],
    ["POST", "/proxies/main/toxics", '{"type":"latency","toxicity":2}', 400, "toxicity"],
    ["POST", "/proxies/main/toxics", '{"type":"latency","stream":"sideways"}', 400, "stream was invalid, can be either upstream or downstream"],
    ["POST", "/proxies/main/toxics", '{"type":"melt"}', 400, "invalid toxic type"],
    ["POST", "/proxies/main/toxics", '{"type":"slicer","attributes":{"average_size":10,"size_variation":10}}', 400, "size_variation"],
    ["GET", "/proxies/main/toxics/nope", undefined, 404, "toxic not found"],
    ["DELETE", "/proxies/main/toxics/nope", undefined, 404, "toxic not found"],
    ["PUT", "/proxies", "{}", 405, "method not allowed"],
    ["GET", "/no/such/route", undefined, 404, "not found"],
    ["DELETE", "/connections/99@main", undefined, 404, "connection not found"],
    ["DELETE", "/connections/1@main?how=kick", undefined, 400, "how"],
  ])("%s %s %s -> %i", async (method, path, body, status, message) => {
    const r = await call(method, path, body);
    expect(r.status).toBe(status);
    expect(r.json!.status).toBe(status);
    expect(String(r.json!.error)).toContain(message);
  });

  test("a toxic's name is unique per proxy: 409 the second time; the default name is <type>_<stream>", async () => {
    const first = await call("POST", "/proxies/main/toxics", '{"type":"latency","stream":"upstream"}');
    expect(first.status).toBe(200);
    expect(first.json).toEqual({ attributes: { latency: 0, jitter: 0 }, name: "latency_upstream", type: "latency", stream: "upstream", toxicity: 1 });
    const again = await call("POST", "/proxies/main/toxics", '{"type":"latency","stream":"upstream"}');
    expect(again).toEqual({ status: 409, json: { error: "toxic already exists", status: 409 } });
    expect((await call("DELETE", "/proxies/main/toxics/latency_upstream")).status).toBe(204);
    // Each change is logged with the API peer that asked for it.
    const added = await s.log.waitFor((e) => e.event === "toxic" && e.op === "added" && e.toxic === "latency_upstream");
    expect(String(added.by)).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(String(added.msg)).toContain("toxic added on \"main\": latency_upstream (latency upstream, latency 0, jitter 0) (by 127.0.0.1:");
    expect(String((await s.log.waitFor((e) => e.event === "toxic" && e.op === "removed")).by)).toMatch(/^127\.0\.0\.1:\d+$/);
  });

  test("a body over 64 KiB is refused with 413 before it is read whole", async () => {
    const r = await fetch(base + "/proxies", { method: "POST", body: "x".repeat(70 * 1024) });
    expect(r.status).toBe(413);
  });

  test("a change from a browser page of another origin is refused; reads and same-origin changes are not", async () => {
    expect((await call("POST", "/reset", "", { origin: "http://evil.example" })).status).toBe(403);
    expect((await call("POST", "/reset", "", { origin: base })).status).toBe(204);
    expect((await call("GET", "/proxies", undefined, { origin: "http://evil.example" })).status).toBe(200);
  });

  test("GET /connections: id, listener, peer, age, bytes, idle deadline, toxics, and the kernel's TCP_INFO; DELETE ?how=rst resets, ?how=fin ends after the echo", async () => {
    const c = await connect(s.port);
    await c.writeAll(new TextEncoder().encode("hello\n"));
    await c.waitBytes(6);
    const list = (await call("GET", "/connections")).json as unknown as Record<string, unknown>[];
    expect(list).toHaveLength(1);
    const info = list[0]!;
    expect(info.id).toBe("1@main");
    expect(info.listener).toBe("main");
    expect(info.peer).toBe(`127.0.0.1:${c.socket.localPort}`);
    expect(info.bytes_in).toBe(6);
    expect(info.bytes_out).toBe(6);
    expect(info.proxied_source).toBeNull();
    const tcp = info.tcp as Record<string, unknown>;
    expect(tcp.state).toBe("ESTABLISHED");
    expect(tcp.rtt_us as number).toBeGreaterThan(0);
    expect(tcp.cwnd as number).toBeGreaterThan(0);
    for (const k of ["rttvar_us", "retransmits", "unacked", "send_queue", "recv_queue"]) expect(typeof tcp[k]).toBe("number");
    expect((await call("DELETE", "/connections/1@main?how=rst")).status).toBe(204);
    expect(await c.closed).toBeDefined();
    const d = await connect(s.port);
    await d.writeAll(new TextEncoder().encode("x"));
    await d.waitBytes(1);
    expect((await call("DELETE", "/connections/2@main")).status).toBe(204);
    await d.ended;
    d.socket.end();
    expect((await s.log.waitFor((e) => e.event === "close" && e.conn === 2)).reason).toBe("api");
  });
});

describe("API hostility: the echo keeps serving", () => {
  test("malformed requests, unknown routes and methods, 70 slow clients holding the API's connections: echo round trips stay fast and the API answers again after", async () => {
    await using s = serve({ timeout: 0 }, "error");
    const a = api(s);
    try {
      const out = await python(
        `
import socket, sys, time
port = int(sys.argv[1]); codes = []
def ask(raw):
    c = socket.create_connection(("127.0.0.1", port)); c.settimeout(5)
    c.sendall(raw); b = b""
    try:
        while True:
            x = c.recv(65536)
            if not x: break
            b += x
            if b"\\r\\n\\r\\n" in b and b.startswith(b"HTTP/1.1 ") and (b"content-length: 0" in b.lower() or b.endswith(b"}") or b.endswith(b"\\n")): break
    except Exception: pass
    c.close(); return b[:12].decode(errors="replace")
for raw in [b"POST /proxies HTTP/1.1\\r\\nHost: 127.0.0.1\\r\\nContent-Length: 5\\r\\n\\r\\n{\\"a\\":",
            b"BREW /proxies HTTP/1.1\\r\\nHost: 127.0.0.1\\r\\n\\r\\n",
            b"GET /%zz HTTP/1.1\\r\\nHost: 127.0.0.1\\r\\n\\r\\n",
            b"GET /proxies/../../etc/passwd HTTP/1.1\\r\\nHost: 127.0.0.1\\r\\n\\r\\n",
            b"\\x16\\x03\\x01\\x00\\xa5\\x01\\x00\\x00\\xa1\\x03\\x03" + bytes(160),
            b"POST /populate HTTP/1.1\\r\\nHost: 127.0.0.1\\r\\nContent-Length: 9\\r\\n\\r\\n[1,2,3,4]",
            b"POST /proxies/main/toxics HTTP/1.1\\r\\nHost: 127.0.0.1\\r\\nContent-Length: 4\\r\\n\\r\\nnull"]:
    codes.append(ask(raw))
slow = []
for i in range(70):
    try:
        c = socket.create_connection(("127.0.0.1", port)); c.sendall(b"GET /proxies HTTP/1.1\\r\\nHo"); slow.append(c)
    except Exception: pass
print(" ".join(x.replace(" ", "_") for x in codes), len(slow), flush=True)
time.sleep(1.5)
`,
        [a.port],
      );
      expect(out).toMatch(/^HTTP\/1\.1_400 HTTP\/1\.1_\d{3} HTTP\/1\.1_400 HTTP\/1\.1_404 .* HTTP\/1\.1_400 HTTP\/1\.1_400 70\n$/);
      // While the slow clients held the API's connections, the echo port answered at once.
      for (let i = 0; i < 5; i++) expect(await roundTrip(s.port)).toBeLessThan(100);
      await until(() => true, "");
      const r = await fetch(`http://127.0.0.1:${a.port}/proxies`);
      expect(r.status).toBe(200);
    } finally {
      await a.stop();
    }
  }, 20_000);

  test("with a token, requests need it (401 without or wrong; the bearer passes); /healthz stays open for probes", async () => {
    await using s = serve({ timeout: 0 }, "error");
    const a = api(s, "s3cret");
    try {
      const base = `http://127.0.0.1:${a.port}`;
      expect((await fetch(base + "/proxies")).status).toBe(401);
      expect((await fetch(base + "/proxies", { headers: { authorization: "Bearer wrong" } })).status).toBe(401);
      expect((await fetch(base + "/proxies", { headers: { authorization: "Bearer s3cret" } })).status).toBe(200);
      expect((await fetch(base + "/healthz")).status).toBe(200);
    } finally {
      await a.stop();
    }
  });

  test("the read-only server (--metrics) answers reads and refuses changes", async () => {
    await using s = serve({ timeout: 0 }, "error");
    const a = api(s, null, true);
    try {
      const base = `http://127.0.0.1:${a.port}`;
      expect((await fetch(base + "/proxies")).status).toBe(200);
      expect((await fetch(base + "/metrics")).status).toBe(200);
      const r = await fetch(base + "/proxies/main/toxics", { method: "POST", body: '{"type":"latency"}' });
      expect(r.status).toBe(405);
      expect(s.handle.control.toxics("main")).toEqual([]);
    } finally {
      await a.stop();
    }
  });
});
