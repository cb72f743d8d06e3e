// The toxic engine without sockets: a recording host and a virtual clock, so each toxic's timing
// is checked to the millisecond and every ordering rule can be asserted exactly. The same toxics
// are measured on real sockets in toxics.test.ts.
import { describe, expect, test } from "bun:test";
import { ConnFaults, parseToxic, Random, TimerHeap, type FaultHost, type TimerClock, type Toxic } from "../../src/faults/index.ts";

class VirtualTimers implements TimerClock {
  t = 0;
  /** How late each timer fires (a loaded machine's event loop). */
  late = 0;
  private fn: (() => void) | null = null;
  private at = Infinity;
  now = () => this.t;
  arm(ms: number, fn: () => void) {
    this.fn = fn;
    this.at = this.t + ms + this.late;
  }
  disarm() {
    this.fn = null;
    this.at = Infinity;
  }
  /** Moves time forward, firing the armed timer each time its moment comes. */
  advance(ms: number) {
    const end = this.t + ms;
    while (this.fn && this.at <= end) {
      this.t = Math.max(this.t, this.at);
      const fn = this.fn;
      this.fn = null;
      this.at = Infinity;
      fn();
    }
    this.t = end;
  }
}

type Ev = [t: number, what: string, detail?: string | number];

/** A connection whose echo logic is a plain echo: upstream out goes straight into downstream. */
function rig(toxics: Toxic[], seed = 1) {
  const clock = new VirtualTimers();
  const heap = new TimerHeap(clock);
  const events: Ev[] = [];
  let held = 0;
  let dropped = 0;
  const host: FaultHost<string> = {
    deliver: (_c, b) => f.echo(b),
    deliverEnd: () => f.echoEnd(),
    write: (_c, b) => events.push([clock.t, "write", new TextDecoder().decode(b)]),
    fin: () => events.push([clock.t, "fin"]),
    reset: (_c, t) => events.push([clock.t, "reset", t.name]),
    closing: (_c, t) => events.push([clock.t, "closing", t.name]),
    dropped: (_c, n) => (dropped += n),
    held: (_c, d) => (held += d),
    settled: () => {},
  };
  const f: ConnFaults<string> = new ConnFaults("c1", host, { heap, random: new Random(seed) }, toxics);
  const bytes = (s: string) => new TextEncoder().encode(s);
  return {
    clock,
    heap,
    f,
    events,
    send: (s: string) => f.read(bytes(s)),
    get held() {
      return held;
    },
    get dropped() {
      return dropped;
    },
    writes: () => events.filter((e) => e[1] === "write").map((e) => e[2]).join(""),
  };
}

const toxic = (type: string, attributes: Record<string, number> = {}, extra: Record<string, unknown> = {}) => parseToxic({ type, attributes, ...extra });

describe("latency", () => {
  test("each chunk goes out exactly `latency` ms after it came in, in order, and the FIN follows the last byte", () => {
    const r = rig([toxic("latency", { latency: 100 })]);
    r.send("a");
    r.clock.advance(30);
    r.send("b");
    r.f.readEnd();
    r.clock.advance(69);
    expect(r.events).toEqual([]);
    r.clock.advance(1);
    expect(r.events).toEqual([[100, "write", "a"]]);
    r.clock.advance(30);
    expect(r.events).toEqual([
      [100, "write", "a"],
      [130, "write", "b"],
      [130, "fin"],
    ]);
    expect(r.held).toBe(0);
  });

  test("jitter stays within latency +/- jitter and never reorders bytes", () => {
    const r = rig([toxic("latency", { latency: 100, jitter: 50 })], 7);
    for (let i = 0; i < 200; i++) {
      r.send(String.fromCharCode(65 + (i % 26)));
      r.clock.advance(1);
    }
    r.clock.advance(300);
    const ws = r.events.filter((e) => e[1] === "write");
    expect(ws.length).toBe(200);
    for (let i = 0; i < 200; i++) {
      expect(ws[i]![2]).toBe(String.fromCharCode(65 + (i % 26)));
      // Sent at i ms: out no earlier than 50 ms later, and no later than the 150 ms bound of the slowest before it.
      expect(ws[i]![0]).toBeGreaterThanOrEqual(i + 50);
      expect(ws[i]![0]).toBeLessThanOrEqual(i + 150);
    }
    // Some spread exists: jitter is applied, not ignored.
    const delays = ws.map((w, i) => w[0] - i);
    expect(Math.max(...delays) - Math.min(...delays)).toBeGreaterThan(40);
  });

  test("10,000 connections under latency are one heap entry each and one armed timer", () => {
    const clock = new VirtualTimers();
    const heap = new TimerHeap(clock);
    let written = 0;
    const host: FaultHost<number> = {
      deliver: (c, b) => conns[c]!.echo(b),
      deliverEnd: () => {},
      write: () => written++,
      fin: () => {},
      reset: () => {},
      closing: () => {},
      dropped: () => {},
      held: () => {},
      settled: () => {},
    };
    const t = toxic("latency", { latency: 100 });
    const random = new Random(1);
    const conns = Array.from({ length: 10_000 }, (_, i) => new ConnFaults(i, host, { heap, random }, [t]));
    for (let k = 0; k < 5; k++) for (const c of conns) c.read(new Uint8Array([k]));
    expect(heap.size).toBe(10_000);
    clock.advance(100);
    expect(written).toBe(50_000);
    expect(heap.size).toBe(0);
  });
});

describe("bandwidth", () => {
  test("100 KB/s: 1,000,000 bytes take 10 s, in pieces of 100 ms worth", () => {
    const r = rig([toxic("bandwidth", { rate: 100 })]);
    for (let i = 0; i < 10; i++) r.f.read(new Uint8Array(100_000));
    r.clock.advance(9_999);
    const before = r.events.filter((e) => e[1] === "write").length;
    expect(before).toBe(99);
    r.clock.advance(1);
    const ws = r.events.filter((e) => e[1] === "write");
    expect(ws.length).toBe(100);
    expect(ws[0]![0]).toBe(100);
    expect(ws[99]![0]).toBe(10_000);
  });

  test("timers that fire 30 ms late do not slow the rate: 1,000,000 bytes still take 10 s, not 13", () => {
    const r = rig([toxic("bandwidth", { rate: 100 })]);
    r.clock.late = 30;
    for (let i = 0; i < 10; i++) r.f.read(new Uint8Array(100_000));
    r.clock.advance(20_000);
    const ws = r.events.filter((e) => e[1] === "write");
    expect(ws.length).toBe(100);
    // Only the last piece's own lateness shows; each earlier one was made up by the next.
    expect(ws[99]![0]).toBe(10_030);
  });

  test("after an idle link the next piece takes its full time from when its bytes arrive", () => {
    const r = rig([toxic("bandwidth", { rate: 100 })]);
    r.f.read(new Uint8Array(10_000));
    r.clock.advance(5_000);
    r.f.read(new Uint8Array(10_000));
    r.clock.advance(5_000);
    expect(r.events.filter((e) => e[1] === "write").map((e) => e[0])).toEqual([100, 5_100]);
  });

  test("upstream: the reader is stalled while more than one piece waits", () => {
    const r = rig([toxic("bandwidth", { rate: 10 }, { stream: "upstream" })]);
    r.f.read(new Uint8Array(5000));
    expect(r.f.stalled).toBe(true);
    r.clock.advance(400);
    expect(r.f.stalled).toBe(false);
  });
});

describe("timeout", () => {
  test("0 holds bytes and the FIN until removed, then everything it held goes out in order", () => {
    const t = toxic("timeout", { timeout: 0 });
    const r = rig([t]);
    r.send("held");
    r.f.readEnd();
    r.clock.advance(60_000);
    expect(r.events).toEqual([]);
    expect(r.f.busy).toBe(true);
    r.f.remove(t);
    expect(r.events).toEqual([
      [60_000, "write", "held"],
      [60_000, "fin"],
    ]);
  });

  test("T > 0 ends the stream T ms after the last chunk reached it, dropping what it held", () => {
    const r = rig([toxic("timeout", { timeout: 500 })]);
    r.clock.advance(300);
    r.send("x");
    r.clock.advance(499);
    expect(r.events).toEqual([]);
    r.clock.advance(1);
    expect(r.events).toEqual([
      [800, "closing", "timeout_downstream"],
      [800, "fin"],
    ]);
    expect(r.dropped).toBe(1);
  });

  test("upstream timeout stalls the reader from the moment it applies", () => {
    const r = rig([toxic("timeout", { timeout: 0 }, { stream: "upstream" })]);
    expect(r.f.stalled).toBe(true);
  });
});

describe("reset_peer, slow_close, limit_data, slicer", () => {
  test("reset_peer: the first byte starts the count; RST after exactly T; nothing is echoed", () => {
    const r = rig([toxic("reset_peer", { timeout: 250 })]);
    r.clock.advance(100);
    r.send("abc");
    r.clock.advance(249);
    expect(r.events).toEqual([]);
    r.clock.advance(1);
    expect(r.events).toEqual([[350, "reset", "reset_peer_downstream"]]);
  });

  test("reset_peer: a count that started still resets after the toxic is removed (toxiproxy's wait is not interruptible)", () => {
    const t = toxic("reset_peer", { timeout: 100 });
    const r = rig([t]);
    r.send("a");
    r.f.remove(t);
    r.clock.advance(100);
    expect(r.events).toEqual([[100, "reset", "reset_peer_downstream"]]);
  });

  test("slow_close: bytes pass at once, the FIN waits `delay`", () => {
    const r = rig([toxic("slow_close", { delay: 300 })]);
    r.send("hi");
    r.f.readEnd();
    expect(r.events).toEqual([[0, "write", "hi"]]);
    r.clock.advance(300);
    expect(r.events).toEqual([
      [0, "write", "hi"],
      [300, "fin"],
    ]);
  });

  test("limit_data: exactly N bytes, then the stream ends; later bytes are dropped", () => {
    const r = rig([toxic("limit_data", { bytes: 5 })]);
    r.send("abc");
    r.send("defgh");
    r.send("ij");
    expect(r.writes()).toBe("abcde");
    expect(r.events.slice(-2)).toEqual([
      [0, "closing", "limit_data_downstream"],
      [0, "fin"],
    ]);
    expect(r.dropped).toBe(5);
  });

  test("slicer: pieces of average_size +/- size_variation, `delay` µs apart, the bytes unchanged", () => {
    const r = rig([toxic("slicer", { average_size: 10, size_variation: 3, delay: 2000 })], 3);
    const text = "0123456789".repeat(10);
    r.send(text);
    r.clock.advance(1000);
    const ws = r.events.filter((e) => e[1] === "write");
    expect(ws.map((w) => w[2]).join("")).toBe(text);
    expect(ws.length).toBeGreaterThanOrEqual(7);
    for (const w of ws) expect((w[2] as string).length).toBeLessThanOrEqual(13);
    ws.forEach((w, i) => expect(w[0]).toBe(2 * i));
  });
});

describe("changes reach open connections", () => {
  test("an update releases the chunk in flight at once and applies the new latency to the rest", () => {
    const t = toxic("latency", { latency: 1000 });
    const r = rig([t]);
    r.send("a");
    r.clock.advance(10);
    r.send("b");
    r.f.update(parseToxic({ type: "latency", attributes: { latency: 50 } }));
    expect(r.events).toEqual([[10, "write", "a"]]);
    r.clock.advance(50);
    expect(r.events).toEqual([
      [10, "write", "a"],
      [60, "write", "b"],
    ]);
  });

  test("adding a toxic affects bytes sent after it; removing it lets held bytes go at once", () => {
    const r = rig([]);
    r.send("1");
    const t = toxic("latency", { latency: 100 });
    r.f.add(t);
    r.send("2");
    expect(r.writes()).toBe("1");
    r.f.remove(t);
    expect(r.writes()).toBe("12");
    expect(r.f.empty).toBe(true);
  });

  test("toxicity 0 never applies; 1 always; p applies to about p of connections, reproducibly for a seed", () => {
    const count = (p: number, seed: number) => {
      const random = new Random(seed);
      const heap = new TimerHeap(new VirtualTimers());
      const noop = { deliver() {}, deliverEnd() {}, write() {}, fin() {}, reset() {}, closing() {}, dropped() {}, held() {}, settled() {} };
      const t = toxic("latency", { latency: 10 }, { toxicity: p });
      let n = 0;
      for (let i = 0; i < 1000; i++) if (new ConnFaults(i, noop, { heap, random }, [t]).applied().length > 0) n++;
      return n;
    };
    expect(count(0, 1)).toBe(0);
    expect(count(1, 1)).toBe(1000);
    // Binomial(1000, 0.3): the 99% interval is 300 +/- 2.576 * sqrt(210) = [263, 337].
    const n = count(0.3, 42);
    expect(n).toBeGreaterThanOrEqual(263);
    expect(n).toBeLessThanOrEqual(337);
    expect(count(0.3, 42)).toBe(n);
    expect(count(0.3, 43)).not.toBe(n);
  });
});
