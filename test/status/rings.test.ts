// The two rings behind the status page: the five-minute history and the recent closes.
import { describe, expect, test } from "bun:test";
import { ServerStats, RecentCloses } from "../../src/server/index.ts";
import { History } from "../../src/status/history.ts";

function snapshot(accepted: number, open: number, bytesIn: number, reset: number) {
  const s = new ServerStats();
  s.accepted = accepted;
  s.open = open;
  s.bytesIn = s.bytesOut = bytesIn;
  s.closed.reset = reset;
  return s.snapshot();
}

describe("History", () => {
  test("rates are counter differences over the time between samples, so a late tick shows no spike", () => {
    const h = new History();
    expect(h.add(1000, snapshot(0, 0, 0, 0))).toBeNull();
    // 2 s late: 40 connections over 2 s is 20/s, not 40/s.
    expect(h.add(3000, snapshot(40, 30, 4000, 10))).toEqual({ t: 3000, conn_s: 20, open: 30, in_bps: 2000, out_bps: 2000, closes: { reset: 5 } });
    // Nothing closed in this second: no reason listed.
    expect(h.add(4000, snapshot(40, 30, 4000, 10))!.closes).toEqual({});
  });

  test("keeps the last 300 samples, oldest first", () => {
    const h = new History();
    for (let i = 0; i <= 400; i++) h.add(i * 1000, snapshot(i, 0, 0, 0));
    const all = h.all();
    expect(all.length).toBe(300);
    expect(all[0]!.t).toBe(101_000);
    expect(all.at(-1)!.t).toBe(400_000);
  });
});

describe("RecentCloses", () => {
  test("keeps the last 500; since(seq) returns what came after seq, oldest first, with ids as in /connections", () => {
    const r = new RecentCloses();
    for (let i = 1; i <= 620; i++) r.record(i, "main", `127.0.0.1:${1000 + i}`, i % 2 ? "reset" : "peer-closed", null, i, i, 1.5, null);
    expect(r.latest).toBe(620);
    const all = r.since(0);
    expect(all.length).toBe(500);
    expect(all[0]).toMatchObject({ seq: 121, id: "121@main", peer: "127.0.0.1:1121", reason: "reset" });
    expect(r.since(617).map((c) => c.id)).toEqual(["618@main", "619@main", "620@main"]);
    expect(r.since(620)).toEqual([]);
    expect(r.since(0, 2).map((c) => c.seq)).toEqual([619, 620]);
  });
});
