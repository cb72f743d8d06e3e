import { describe, expect, test } from "bun:test";
import { serve } from "./helpers/server.ts";
import { python } from "./helpers/python.ts";
import { BACKSTOP_MARGIN_S, backstopSeconds, earliestFiring } from "../src/server/backstop.ts";

// A python3 peer that sends one byte every `interval` seconds for `duration` seconds and reads each
// echo back. It prints how it ended: "alive <bytes echoed>" or how the server cut it, and when.
const TALKER = String.raw`
import socket, sys, time
port, interval, duration = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
s = socket.create_connection(("127.0.0.1", port))
s.settimeout(interval + 5)
t0 = time.monotonic()
n = 0
try:
    while time.monotonic() - t0 < duration:
        s.sendall(b"k")
        if s.recv(1) != b"k":
            print("closed", round(time.monotonic() - t0, 3)); sys.exit(0)
        n += 1
        # On a schedule (a byte every interval from the start), so the echo's round trip and a
        # late wake-up on a loaded machine do not add up into a longer gap.
        time.sleep(max(0.0, t0 + n * interval - time.monotonic()))
except (ConnectionResetError, BrokenPipeError) as e:
    print("reset", round(time.monotonic() - t0, 3)); sys.exit(0)
print("alive", n)
`;

describe("a peer that keeps talking is never cut", () => {
  // Each case runs for at least four times its timeout and at least 10 s, past Bun's 4-second
  // timer tick (the backstop used to fire under live connections at 4.2 s, 4.5 s and 20 s). The
  // three run side by side so the suite waits for the longest only.
  const cases = [
    { timeout: 0.5, interval: 0.3, duration: 10 },
    { timeout: 2, interval: 1.5, duration: 10 },
    { timeout: 5.5, interval: 5, duration: 25 },
  ];
  test(`${cases.map((c) => `--timeout ${c.timeout} with a byte every ${c.interval} s for ${c.duration} s`).join("; ")}: none is closed`, async () => {
    const servers = cases.map((c) => serve({ timeout: c.timeout }));
    try {
      const outs = await Promise.all(cases.map((c, i) => python(TALKER, [servers[i]!.port, c.interval, c.duration], 60_000)));
      cases.forEach((c, i) => {
        const expected = Math.floor(c.duration / c.interval);
        const [how, n] = outs[i]!.trim().split(" ");
        expect({ timeout: c.timeout, how }).toEqual({ timeout: c.timeout, how: "alive" });
        expect(Number(n)).toBeGreaterThanOrEqual(expected - 1);
        const log = servers[i]!.log;
        expect(log.of("timeout")).toEqual([]);
        expect(log.of("backstop")).toEqual([]);
        // The peer closes when it is done: that is the only close there may be.
        expect(log.of("close").map((e) => e.reason)).not.toContain("idle-timeout");
        expect(log.of("close").every((e) => e.reason === "peer-closed")).toBe(true);
      });
    } finally {
      await Promise.all(servers.map((s) => s.handle.stop()));
    }
  }, 60_000);
});

describe("the backstop's arming rule", () => {
  test("Bun's timer can never fire before our deadline plus the margin, and is not armed needlessly far", () => {
    for (let ms = 0; ms <= 400_000; ms += 37) {
      const s = backstopSeconds(ms);
      if (s === 0) {
        // Disarmed only where no value Bun honours (<= 240) could wait long enough.
        expect(ms / 1000 + BACKSTOP_MARGIN_S).toBeGreaterThan(236);
        continue;
      }
      expect(s).toBeLessThanOrEqual(240);
      const earliest = earliestFiring(s);
      expect(earliest).toBeGreaterThanOrEqual(ms / 1000 + BACKSTOP_MARGIN_S);
      // Within one 4-second tick of the least that would do.
      expect(earliest - (ms / 1000 + BACKSTOP_MARGIN_S)).toBeLessThan(4);
    }
  });

  test("the rule matches uSockets' tick arithmetic for the values the old code passed (3 fired within 4 s)", () => {
    expect(earliestFiring(3)).toBe(0);
    expect(earliestFiring(4)).toBe(0);
    expect(earliestFiring(5)).toBe(4);
    expect(earliestFiring(240)).toBe(236);
    // Above 240 s Bun's per-minute timer has no handler in Bun.listen: it never fires (measured).
    expect(earliestFiring(241)).toBe(Infinity);
    expect(backstopSeconds(1000)).toBe(12);
    expect(backstopSeconds(240_000)).toBe(0);
  });
});
