import { expect, test } from "bun:test";
import { serve } from "./helpers/server.ts";
import { connect } from "./helpers/client.ts";
import { python } from "./helpers/python.ts";

test("past --max-connections a new connection is closed at once, logged and counted", async () => {
  await using s = serve({ maxConnections: 2 });
  const a = await connect(s.port);
  const b = await connect(s.port);
  const c = await connect(s.port);
  await c.closed;
  expect(c.receivedBytes).toBe(0);
  const warn = await s.log.waitFor((e) => e.event === "limit");
  expect(warn).toMatchObject({ level: "warn", conn: 3, max_connections: 2 });
  expect(await s.log.waitFor((e) => e.event === "close" && e.conn === 3)).toMatchObject({ reason: "limit" });
  // The two within the limit still echo, and once one leaves a new one is accepted.
  await a.writeAll(new TextEncoder().encode("a"));
  await a.waitBytes(1);
  a.socket.end();
  await s.log.waitFor((e) => e.event === "close" && e.conn === 1);
  const d = await connect(s.port);
  await d.writeAll(new TextEncoder().encode("d"));
  await d.waitBytes(1);
  expect(s.handle.stats()).toMatchObject({ accepted: 4, open: 2, closed: { limit: 1, "peer-closed": 1 } });
  b.socket.end();
  d.socket.end();
});

test("at warn (the peer's address is read only when a line needs it) the limit line still names the peer", async () => {
  await using s = serve({ maxConnections: 1 }, "warn");
  const a = await connect(s.port);
  const b = await connect(s.port);
  const port = b.socket.localPort;
  await b.closed;
  const warn = await s.log.waitFor((e) => e.event === "limit");
  expect(warn).toMatchObject({ conn: 2, peer: `127.0.0.1:${port}` });
  expect(s.log.events.filter((e) => e.level === "info")).toEqual([]);
  a.socket.end();
});

test("a burst of refused connections logs at most REFUSAL_LINES_PER_S lines, then one summary with the rest", async () => {
  const { REFUSAL_LINES_PER_S } = await import("../src/server/echo.ts");
  await using s = serve({ maxConnections: 1 });
  const held = await connect(s.port);
  const out = await python(
    `
import socket, sys
n = 0
for _ in range(100):
    c = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
    c.settimeout(5)
    try:
        if c.recv(1) == b"": n += 1
    except ConnectionResetError:
        n += 1
    c.close()
print(n)
`,
    [s.port],
  );
  expect(Number(out.trim())).toBe(100);
  const summary = await s.log.waitFor((e) => e.event === "suppressed", 3000);
  expect(summary).toMatchObject({ level: "warn", suppressed_event: "limit" });
  // The 100 may straddle a second on a loaded machine: each second logs at most the bound.
  const suppressed = () => s.log.of("suppressed").reduce((a, e) => a + (e.count as number), 0);
  await s.log.waitFor(() => s.log.of("limit").length + suppressed() === 100, 3000);
  const seconds = s.log.of("suppressed").length;
  expect(s.log.of("limit").length).toBeGreaterThanOrEqual(REFUSAL_LINES_PER_S);
  expect(s.log.of("limit").length).toBeLessThanOrEqual(REFUSAL_LINES_PER_S * (seconds + 1));
  expect(s.handle.stats().closed.limit).toBe(100);
  held.socket.end();
});
