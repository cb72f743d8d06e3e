// The status page's server side on real sockets: paged /connections, the SSE feed (one summary
// event a second, bounded clients, history and recent closes), the page's files and their rules.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { ApiServer } from "../../src/api/index.ts";
import { localSource, MAX_EVENT_CLIENTS, StatusHub } from "../../src/status/index.ts";
import { connect, type Collector } from "../helpers/client.ts";
import { startTestApi } from "../helpers/api.ts";
import { python } from "../helpers/python.ts";
import { serve, type TestServer } from "../helpers/server.ts";
import { until } from "../helpers/wait.ts";
import { openEvents } from "./sse.ts";

const api = (s: TestServer, hub: StatusHub, o: { token?: string | null; readOnly?: boolean } = {}): ApiServer => startTestApi(s, { ...o, status: hub });

type Row = { id: string; peer: string; bytes_in: number; tcp: { rtt_us: number } | null };

describe("GET /connections pages, sorts and filters on the server", () => {
  let s: TestServer;
  let hub: StatusHub;
  let a: ApiServer;
  const clients: Collector[] = [];
  beforeAll(async () => {
    s = serve({ timeout: 0 });
    hub = new StatusHub(localSource(s.handle)).start();
    a = api(s, hub);
    // Five connections that sent 1, 2, 3, 4, 5 KiB: bytes_in orders them.
    for (let i = 1; i <= 5; i++) {
      const c = await connect(s.port);
      await c.writeAll(new Uint8Array(i * 1024));
      await c.waitBytes(i * 1024);
      clients.push(c);
    }
  });
  afterAll(async () => {
    for (const c of clients) c.socket.end();
    hub.stop();
    await a.stop();
    await s.handle.stop();
  });
  const get = async (q: string) => {
    const r = await fetch(`http://127.0.0.1:${a.port}/connections${q}`);
    return { status: r.status, total: r.headers.get("x-total-count"), body: (await r.json()) as Row[] & { error?: string } };
  };

  test("without parameters: every connection, in opening order, as a plain JSON list (toxiproxy-style clients unchanged)", async () => {
    const r = await get("");
    expect(r.status).toBe(200);
    expect(Array.isArray(r.body)).toBe(true);
    expect(r.body.map((c) => c.bytes_in)).toEqual([1024, 2048, 3072, 4096, 5120]);
    expect(r.total).toBe("5");
    expect(r.body[0]!.tcp!.rtt_us).toBeGreaterThan(0);
  });

  test("sort=bytes_in&order=desc&offset=1&limit=2 is the 2nd and 3rd largest; X-Total-Count counts them all", async () => {
    const r = await get("?sort=bytes_in&order=desc&offset=1&limit=2");
    expect(r.body.map((c) => c.bytes_in)).toEqual([4096, 3072]);
    expect(r.total).toBe("5");
  });

  test("filter matches the peer's port: exactly that connection, and the total says 1", async () => {
    const port = clients[2]!.socket.localPort;
    const r = await get(`?filter=:${port}&limit=10`);
    expect(r.body.map((c) => c.peer)).toEqual([`127.0.0.1:${port}`]);
    expect(r.total).toBe("1");
  });

  test("a bad parameter is a 400 that names it", async () => {
    for (const [q, word] of [["?sort=colour", "sort"], ["?order=up", "order"], ["?limit=5000", "limit"], ["?offset=-1", "offset"]] as const) {
      const r = await get(q);
      expect(r.status).toBe(400);
      expect(r.body.error).toStartWith(`${word}:`);
    }
  });
});

describe("GET /events: the summary feed", () => {
  let s: TestServer;
  let hub: StatusHub;
  let a: ApiServer;
  beforeAll(() => {
    s = serve({ timeout: 0 });
    hub = new StatusHub(localSource(s.handle)).start();
    a = api(s, hub);
  });
  afterAll(async () => {
    hub.stop();
    await a.stop();
    await s.handle.stop();
  });

  test("one event a second at most; the first carries the history, later ones one sample and the new closes with their reasons", async () => {
    const { status, reader } = await openEvents(`http://127.0.0.1:${a.port}/events`);
    expect(status).toBe(200);
    try {
      const first = JSON.parse((await reader.next((m) => m.event === "status")).data);
      expect(first.init).toBe(true);
      expect(first.listeners.map((l: { name: string }) => l.name)).toEqual(["main"]);
      // python3 connects and resets (SO_LINGER 0): its close is listed as "reset" with its port.
      const port = Number(await python(`
import socket, struct, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"x" * 10); s.recv(10)
print(s.getsockname()[1], flush=True)
s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)); s.close()
`, [s.port]));
      const withClose = await reader.next((m) => JSON.parse(m.data).closes.some((c: { peer: string }) => c.peer === `127.0.0.1:${port}`), 5000);
      const ev = JSON.parse(withClose.data);
      expect(ev.init).toBe(false);
      expect(ev.history.length).toBeLessThanOrEqual(1);
      const close = ev.closes.find((c: { peer: string }) => c.peer === `127.0.0.1:${port}`);
      expect(close).toMatchObject({ reason: "reset", bytes_in: 10, bytes_out: 10, listener: "main" });
      expect(ev.totals.closed.reset).toBe(1);
      // Over 3 s of stream, at most one event per second (plus one for a tick at each end).
      const startAt = reader.messages.length;
      const t0 = performance.now();
      await Bun.sleep(3000);
      const n = reader.messages.slice(startAt).filter((m) => m.at >= t0).length;
      expect(n).toBeGreaterThanOrEqual(2);
      expect(n).toBeLessThanOrEqual(4);
      const gaps = reader.messages.slice(1).map((m, i) => m.at - reader.messages[i]!.at);
      expect(Math.min(...gaps)).toBeGreaterThan(500);
    } finally {
      reader.close();
    }
  }, 20_000);

  test(`at most ${MAX_EVENT_CLIENTS} streams: the next gets 503, and one closing makes room`, async () => {
    const open = await Promise.all(Array.from({ length: MAX_EVENT_CLIENTS }, () => openEvents(`http://127.0.0.1:${a.port}/events`)));
    expect(open.map((o) => o.status)).toEqual(Array(MAX_EVENT_CLIENTS).fill(200));
    const extra = await openEvents(`http://127.0.0.1:${a.port}/events`);
    expect(extra.status).toBe(503);
    open[0]!.reader.close();
    await until(() => hub.clientCount < MAX_EVENT_CLIENTS, "the closed stream left the hub", 5000);
    const again = await openEvents(`http://127.0.0.1:${a.port}/events`);
    expect(again.status).toBe(200);
    again.reader.close();
    for (const o of open) o.reader.close();
    await until(() => hub.clientCount === 0, "every stream left", 5000);
  });

  test("a page opened late gets the history so far in its first event", async () => {
    await until(() => (hub as unknown as { history: { all(): unknown[] } }).history.all().length >= 3, "three samples", 10_000);
    const { reader } = await openEvents(`http://127.0.0.1:${a.port}/events`);
    const first = JSON.parse((await reader.next((m) => m.event === "status")).data);
    reader.close();
    expect(first.init).toBe(true);
    expect(first.history.length).toBeGreaterThanOrEqual(3);
    const ts = first.history.map((h: { t: number }) => h.t);
    expect(ts).toEqual([...ts].sort((x: number, y: number) => x - y));
    expect(first.closes.length).toBeGreaterThanOrEqual(1);
  }, 20_000);
});

describe("the page's files and who may read what", () => {
  let s: TestServer;
  let hub: StatusHub;
  let a: ApiServer;
  let ro: ApiServer;
  beforeAll(() => {
    s = serve({ timeout: 0 });
    hub = new StatusHub(localSource(s.handle)).start();
    a = api(s, hub, { token: "sesame" });
    ro = api(s, hub, { readOnly: true });
  });
  afterAll(async () => {
    hub.stop();
    await a.stop();
    await ro.stop();
    await s.handle.stop();
  });

  test("GET / and its scripts load without the token, framed by nobody; /status and /events need it", async () => {
    const page = await fetch(`http://127.0.0.1:${a.port}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toStartWith("text/html");
    expect(page.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
    const html = await page.text();
    for (const src of html.match(/(?:src|href)="(\/ui\/[^"]+)"/g)!.map((m) => m.split('"')[1]!)) expect((await fetch(`http://127.0.0.1:${a.port}${src}`)).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${a.port}/status`)).status).toBe(401);
    expect((await openEvents(`http://127.0.0.1:${a.port}/events`)).status).toBe(401);
    const ok = await fetch(`http://127.0.0.1:${a.port}/status`, { headers: { authorization: "Bearer sesame" } });
    expect(((await ok.json()) as { read_only: boolean }).read_only).toBe(false);
  });

  test("a Host that is not this loopback server's address gets no page (DNS rebinding)", async () => {
    const r = await fetch(`http://127.0.0.1:${a.port}/`, { headers: { host: "evil.example:80" } });
    expect(r.status).toBe(403);
  });

  test("--metrics serves the page read-only: /status says so and a reset is refused", async () => {
    const st = (await (await fetch(`http://127.0.0.1:${ro.port}/status`)).json()) as { read_only: boolean };
    expect(st.read_only).toBe(true);
    expect((await fetch(`http://127.0.0.1:${ro.port}/`)).status).toBe(200);
    const c = await connect(s.port);
    await until(() => s.handle.stats().open === 1, "the connection is open");
    const [row] = (await (await fetch(`http://127.0.0.1:${ro.port}/connections`)).json()) as Row[];
    expect((await fetch(`http://127.0.0.1:${ro.port}/connections/${row!.id}?how=rst`, { method: "DELETE" })).status).toBe(405);
    c.socket.end();
  });
});
