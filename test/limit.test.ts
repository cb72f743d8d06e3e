import { expect, test } from "bun:test";
import { serve } from "./helpers/server.ts";
import { connect } from "./helpers/client.ts";

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
