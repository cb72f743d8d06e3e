// The idle timeout's rules on virtual time: real sockets, but the server's clock moves only when the
// test advances it, so each rule is checked to the tick (10 ms) without waiting on the wall clock.
// The real-time tests (timeout.test.ts, talking-peers.test.ts) keep the end-to-end checks.
import { describe, expect, test } from "bun:test";
import { connect } from "./helpers/client.ts";
import { serve } from "./helpers/server.ts";
import { VirtualClock } from "./helpers/virtual-clock.ts";
import { until } from "./helpers/wait.ts";
import { pythonCmd } from "./helpers/python.ts";
import { lineReader } from "./helpers/lines.ts";

const TICK = 10;
/**
 * Before checking that something did NOT happen: lets socket events the last step caused reach
 * both ends. What must happen is awaited instead.
 */
const settle = () => Bun.sleep(30);

describe("idle timeout on virtual time", () => {
  test("the FIN comes at the deadline, not a tick before", async () => {
    const clock = new VirtualClock();
    await using s = serve({ timeout: 5.5, clock });
    const c = await connect(s.port);
    let fin = false;
    void c.ended.then(() => (fin = true));
    await s.log.waitFor((e) => e.event === "open");
    clock.advance(5500 - TICK);
    await settle();
    expect(fin).toBe(false);
    clock.advance(2 * TICK);
    await c.ended;
    const t = await s.log.waitFor((e) => e.event === "timeout");
    expect(t.idle_ms as number).toBeGreaterThanOrEqual(5500);
    expect(t.idle_ms as number).toBeLessThanOrEqual(5500 + 2 * TICK);
    c.socket.end();
  });

  test("every byte moves the deadline: a peer that sends every 5 s against --timeout 5.5 is never cut, for an hour of virtual time", async () => {
    const clock = new VirtualClock();
    await using s = serve({ timeout: 5.5, clock });
    const c = await connect(s.port);
    await s.log.waitFor((e) => e.event === "open");
    for (let i = 1; i <= 720; i++) {
      clock.advance(5000);
      await c.writeAll(new Uint8Array([i & 0xff]));
      await c.waitBytes(i);
    }
    expect(s.log.of("timeout")).toEqual([]);
    clock.advance(5500 + 2 * TICK);
    await s.log.waitFor((e) => e.event === "timeout");
    expect(s.log.of("timeout")).toHaveLength(1);
    c.socket.end();
  });

  test("a backlog going out counts as activity, as the README says", async () => {
    const clock = new VirtualClock();
    await using s = serve({ timeout: 1, clock, maxBuffer: 1 << 20, sendBuf: 32 * 1024 });
    // python3 sends 2 MiB without reading (most of the echo waits in the server's queue), then
    // reads it all back when told, and holds the connection open.
    const peer = Bun.spawn(
      [
        ...pythonCmd(),
        "-c",
        `
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.connect(("127.0.0.1", int(sys.argv[1])))
s.setblocking(False)
sent = 0
import time
t0 = time.time()
while sent < (2 << 20) and time.time() - t0 < 5:
    try: sent += s.send(b"z" * 65536)
    except BlockingIOError: time.sleep(0.01)
print(sent, flush=True)
sys.stdin.readline()
s.setblocking(True)
got = 0
while got < sent: got += len(s.recv(1 << 20))
print(got, flush=True)
sys.stdin.readline()
`,
        String(s.port),
      ],
      { stdin: "pipe", stdout: "pipe" },
    );
    const out = lineReader(peer.stdout);
    const sent = Number(await out.next());
    await until(() => s.handle.stats().heldBytes > 0, "the server holds echo bytes the peer has not read");
    clock.advance(900);
    peer.stdin.write("read\n");
    peer.stdin.flush();
    expect(Number(await out.next())).toBe(sent);
    // The flushes moved lastActive to virtual t = 900 ms: 900 ms more is not yet a timeout.
    clock.advance(900);
    await settle();
    expect(s.log.of("timeout")).toEqual([]);
    clock.advance(200 + TICK);
    await s.log.waitFor((e) => e.event === "timeout");
    peer.kill();
  });

  test("after our FIN a paused connection reads again, so a peer held back by our window can still close", async () => {
    const clock = new VirtualClock();
    await using s = serve({ timeout: 0.5, maxBuffer: 64 * 1024, sendBuf: 32 * 1024, clock });
    // python fills our buffers without reading (our reading pauses), waits while our idle timeout
    // sends FIN, then reads to our FIN and closes: its FIN sits behind the bytes our closed
    // window held back, so it arrives only if we read again.
    const peer = Bun.spawn(
      [
        ...pythonCmd(),
        "-c",
        `
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
s.connect(("127.0.0.1", int(sys.argv[1])))
s.setblocking(False)
sent, stalled = 0, None
while True:
    try:
        sent += s.send(b"z" * 65536); stalled = None
    except BlockingIOError:
        stalled = stalled or time.time()
        if time.time() - stalled > 0.1: break
        time.sleep(0.005)
print(sent, flush=True)
sys.stdin.readline()
s.setblocking(True)
while s.recv(65536):
    pass
s.close()
`,
        String(s.port),
      ],
      { stdin: "pipe", stdout: "pipe" },
    );
    const sent = Number(await lineReader(peer.stdout).next());
    await until(() => s.handle.stats().pauses > 0, "the server paused its reading");
    clock.advance(500 + TICK);
    peer.stdin.write("read\n");
    peer.stdin.flush();
    // Virtual time stands still from here: no hard close can come; only the peer's own FIN ends it.
    const close = await s.log.waitFor((e) => e.event === "close");
    expect(close).toMatchObject({ reason: "idle-timeout", bytes_in: sent });
    expect(s.log.of("hard-close")).toEqual([]);
    expect(await peer.exited).toBe(0);
  });

  test("a peer that ignores our FIN is reset exactly one more timeout later", async () => {
    const clock = new VirtualClock();
    await using s = serve({ timeout: 2, clock });
    const c = await connect(s.port);
    await s.log.waitFor((e) => e.event === "open");
    clock.advance(2000 + TICK);
    await c.ended;
    clock.advance(2000 - 2 * TICK);
    await settle();
    expect(s.log.of("hard-close")).toEqual([]);
    clock.advance(3 * TICK);
    expect(await c.closed).toBeDefined();
    expect(await s.log.waitFor((e) => e.event === "hard-close")).toMatchObject({ conn: 1 });
    expect(await s.log.waitFor((e) => e.event === "close")).toMatchObject({ reason: "idle-timeout" });
  });

  test("--timeout 0: no deadline is ever scheduled, so no silence however long ends a connection", async () => {
    // The control: with a timeout, an open connection keeps the wheel's tick running.
    const withTimeout = new VirtualClock();
    await using timed = serve({ timeout: 1, clock: withTimeout });
    const t = await connect(timed.port);
    await timed.log.waitFor((e) => e.event === "open");
    expect(withTimeout.ticking).toBe(1);
    t.socket.end();

    const clock = new VirtualClock();
    await using s = serve({ timeout: 0, clock });
    const c = await connect(s.port);
    await s.log.waitFor((e) => e.event === "open");
    await c.writeAll(new TextEncoder().encode("ping"));
    await c.waitBytes(4);
    // Any deadline, however far off (a "disabled" timeout read as the largest timer, say), needs
    // the tick: none was asked for.
    expect(clock.ticking).toBe(0);
    clock.advance(24 * 3600 * 1000);
    await c.writeAll(new TextEncoder().encode("pong"));
    await c.waitBytes(8);
    expect(s.log.of("timeout")).toEqual([]);
    expect(s.handle.stats().open).toBe(1);
    c.socket.end();
    expect(await s.log.waitFor((e) => e.event === "close")).toMatchObject({ reason: "peer-closed", bytes_in: 8 });
  });
});
