// The benchmark's side-by-side group (bench/lib/side-by-side.ts): which pairs run, and how a ratio
// is taken, from records written by hand (the group itself runs in CI's quick benchmark).
import { describe, expect, test } from "bun:test";
import { newRunRecord, type ClientRequest } from "../bench/lib/measure.ts";
import { scenarios as allScenarios, type LoadReport } from "../bench/lib/scenarios.ts";
import { SERVERS } from "../bench/lib/servers.ts";
import { renderSide, sidePairs, summarizeSide } from "../bench/lib/side-by-side.ts";
import type { RunRecord } from "../bench/lib/types.ts";

const pp100 = allScenarios(1000).find((s) => s.id === "pp100")!;
const connect16 = allScenarios(1000).find((s) => s.id === "connect16")!;
const spec = (id: string) => SERVERS.find((s) => s.id === id)!;

function rec(round: number, server: string, variant: string, msgs: number | null, p99 = 100, cpuPct = 50): RunRecord {
  const req: ClientRequest = { round, group: "side", scenario: pp100, variant, client: "loadgen", duration: 3, warmup: 1, idleHold: 0, pinned: true };
  const r = newRunRecord(req, server, 3, 1);
  if (msgs === null) {
    r.problems.push("server exited 1 before listening");
    return r;
  }
  r.ok = true;
  r.report = { mode: "pingpong", msgs_per_s: msgs, latency_us: { p50: 50, p90: 80, p99, p999: 200, max: 300, mean: 60 } } as LoadReport;
  r.cpu = { server_pct: cpuPct } as RunRecord["cpu"];
  return r;
}

describe("side by side with bare Bun", () => {
  test("pairs: every contender beside bare Bun, per round and scenario, in rotating order; none without bare Bun among the servers", () => {
    const servers = [spec("c"), spec("bun"), spec("tcp-echo"), spec("tcp-echo-exe")];
    const pairs = sidePairs(2, [pp100, connect16], servers);
    expect(pairs.length).toBe(2 * 2 * 3);
    expect(pairs.every((p) => p.partner.id === "bun")).toBe(true);
    expect(pairs.slice(0, 3).map((p) => p.contender.id)).toEqual(["bun", "tcp-echo", "tcp-echo-exe"]);
    expect(pairs.slice(6, 9).map((p) => p.contender.id)).toEqual(["tcp-echo", "tcp-echo-exe", "bun"]);
    expect(pairs.filter((p) => p.round === 1).every((p) => p.contenderFirst)).toBe(true);
    expect(pairs.filter((p) => p.round === 2).every((p) => !p.contenderFirst)).toBe(true);
    expect(sidePairs(3, [pp100], [spec("c"), spec("tcp-echo")])).toEqual([]);
  });

  test("a ratio is the contender's figure over the bare Bun's beside it in the same round; a round with a failed run is left out", () => {
    const runs = [
      rec(1, "tcp-echo", "contender", 90_000, 120, 50),
      rec(1, "bun", "beside:tcp-echo", 100_000, 100, 50),
      rec(2, "tcp-echo", "contender", 95_000, 100, 50),
      rec(2, "bun", "beside:tcp-echo", 100_000, 100, 50),
      rec(3, "tcp-echo", "contender", 50_000),
      rec(3, "bun", "beside:tcp-echo", null),
      // The control pair in the same rounds must not mix with tcp-echo's.
      rec(1, "bun", "contender", 200_000),
      rec(1, "bun", "beside:bun", 100_000),
    ];
    const [te, control] = summarizeSide(runs, [pp100], [spec("bun"), spec("tcp-echo")]).sort((a, b) => a.contender.localeCompare(b.contender)).reverse();
    expect(te!.contender).toBe("tcp-echo");
    expect(te!.rounds).toEqual([0.9, 0.95]);
    expect(te!.ratio).toBeCloseTo(0.925, 6);
    // CPU per message: (50 / 90,000) / (50 / 100,000) = 1.111 and 1.0526; median 1.0819.
    expect(te!.cpu_ratio).toBeCloseTo((1.1111 + 1.0526) / 2, 3);
    expect(te!.p99_rounds).toEqual([1.2, 1]);
    expect(control!.contender).toBe("bun");
    expect(control!.rounds).toEqual([2]);
    const md = renderSide([te!, control!], 0, 1).join("\n");
    expect(md).toContain("| pp100 (msg/s) | tcp-echo (bun run src/index.ts) | 0.925× | 0.900, 0.950 |");
  });
});
