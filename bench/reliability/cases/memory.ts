// Issue 10, item 3: each peer that sends and never reads cost --max-buffer plus 0.1-0.5 MB (2,000
// of them: 2.26 GB), and when they reset RSS doubled briefly. With --max-memory 64m: python3 peers
// with a small SO_RCVBUF send until blocked; RSS must stay under a bound built from measurements
// of this run (below), a pingpong connection must still be served, and the resets must not push
// RSS past the same bound.
//
// --recv-buf 32k: each connection can hold one read beyond the budget (the read that made it
// queue: it is in memory before the server knows it cannot be echoed), and the kernel's receive
// queue bounds a read. With the kernel's default (autotuned up to tcp_rmem's max) a read reaches
// Bun's 512 KiB: 500 such peers held 312 MiB against the 64 MiB budget (620 KiB each, measured
// 2026-12-02); with --recv-buf 32k, 72 MiB. The README says so next to --max-memory.
import { sleep } from "../../lib/proc.ts";
import { loadgen, PyPeer } from "../lib/peers.ts";
import { scrape } from "../lib/metrics.ts";
import { RssSampler } from "../lib/sampler.ts";
import { startServer } from "../lib/server.ts";
import { check, fmt, info, int, mib, type Case } from "../lib/types.ts";

const BUDGET = 64 * 1024 * 1024;
/**
 * The fixed overhead: what the server may hold past baseline + idle connections + budget, whatever
 * the number of peers. Measured: under heavy traffic that holds next to nothing (loadgen stream
 * x 16 and pingpong 500 x 16 KiB, 3 s each, --max-memory 64m) RSS peaked 33 MiB above its start
 * (41 -> 75 MiB): the runtime's heap, its 512 KiB read buffer, garbage not yet collected. 64 MiB
 * is about twice that. A budget that holds keeps RSS from growing with the number of blocked
 * peers; what it does not hold shows up as bytes per peer over the budget.
 */
const OVERHEAD = 64 * 1024 * 1024;
/**
 * What one paused connection may hold past the budget: the read that made it queue. A read is
 * bounded by the kernel's receive queue, and with --recv-buf 32k the kernel doubles the value it
 * is given (socket(7), SO_RCVBUF), so one read is at most 64 KiB. This grows with the number of
 * peers that do not read, which is why the README tells who needs a hard bound to set --recv-buf.
 * Measured 2026-12-02: 2,000 peers held 130 MiB against the 64 MiB budget, 33 KiB each.
 */
const RECV_BUF = 32 * 1024;
const READ_BOUND = 2 * RECV_BUF;
/** The peers' buffers: small, so the server's echo cannot drain into them. */
const PEER_RCVBUF = 4096;
const PEER_SNDBUF = 65536;
/** How long RSS is watched after the resets. */
const RESET_WATCH_MS = 2000;
const peers = (quick: boolean) => (quick ? 500 : 2000);

export const memory: Case = {
  id: "3",
  name: "memory-budget",
  inQuick: true,
  describe: (quick) => `--max-memory 64m --recv-buf 32k, ${int(peers(quick))} python3 peers (SO_RCVBUF ${PEER_RCVBUF}) that send and never read, then reset (SO_LINGER 0)`,
  async run(ctx) {
    const n = peers(ctx.quick);
    const server = await startServer(ctx, { name: "3-memory", args: ["--max-memory", "64m", "--recv-buf", String(RECV_BUF), "--timeout", "0", "--log-level", "warn", "--metrics", "127.0.0.1:0"] });
    const rss = new RssSampler(server.pid, 20);
    try {
      await sleep(500);
      const base = rss.sample() * 1024;
      const flood = PyPeer.start(ctx, "flood.py", [server.port, n, PEER_RCVBUF, PEER_SNDBUF], "3-flood");
      await flood.next(60_000);
      await sleep(500);
      const idle = rss.sample() * 1024;
      const perConn = Math.max(0, (idle - base) / n);
      const heldBound = BUDGET + n * READ_BOUND;
      const bound = base + perConn * n + heldBound + OVERHEAD;

      const tFlood = performance.now();
      flood.send();
      const sent = await flood.next<{ sent_bytes: number; blocked: number; seconds: number }>(120_000);
      const m = await scrape(server.metricsPort!);
      const held = m.samples.get("tcp_echo_echo_held_bytes") ?? NaN;
      const budgetPauses = m.samples.get("tcp_echo_memory_budget_pauses_total") ?? NaN;
      // Another peer, while every flooding one is blocked: its round trips must go through.
      const pp = loadgen(ctx, server.port, ["--mode", "pingpong", "--connections", 1, "--size", 64, "--warmup", 0, "--duration", ctx.quick ? 1 : 2]);
      const ping = await pp.report;
      const tReset = performance.now();
      const peakFlood = rss.peak(tFlood, tReset);
      flood.send();
      await flood.next(30_000);
      await flood.end();
      await sleep(RESET_WATCH_MS);
      const peakReset = rss.peak(tReset);
      const after = rss.sample() * 1024;
      const code = await ctx.procs.stop(server.proc, 15_000);
      const overBudget = Math.max(0, (peakFlood - base - perConn * n - BUDGET) / n);
      return {
        checks: [
          info("RSS at start / with the peers connected and idle", `${mib(base)} / ${mib(idle)} (${fmt(perConn / 1024, 2)} KiB per connection)`),
          info("sent by the peers until blocked", `${mib(sent.sent_bytes)} in ${fmt(sent.seconds)} s (${int(sent.blocked)} of ${int(n)} blocked)`),
          check("held for echo (metric) / budget pauses", `${mib(held)} (${fmt(Math.max(0, held - BUDGET) / n / 1024, 1)} KiB per peer over the budget) / ${int(budgetPauses)}`, `held < ${mib(heldBound)}`, held < heldBound),
          check("peak RSS while flooded", `${mib(peakFlood)} (${fmt(overBudget / 1024, 1)} KiB per peer over baseline + idle + budget)`, `< ${mib(bound)}`, peakFlood < bound),
          check("another peer's round trips meanwhile", `${int(ping.messages)} (max ${ping.latency_us ? fmt(ping.latency_us.max / 1000, 2) : "-"} ms, errors ${ping.errors})`, "> 0, no errors", ping.messages > 0 && ping.errors === 0 && ping.mismatches === 0),
          check("peak RSS during the resets", `${mib(peakReset)} (before ${mib(peakFlood)}, ${RESET_WATCH_MS / 1000} s later ${mib(after)})`, `< ${mib(bound)}`, peakReset < bound),
          check("graceful stop exit code", String(code), "0", code === 0),
        ],
        notes: [`bound = RSS at start ${mib(base)} + ${int(n)} x idle cost ${fmt(perConn / 1024, 2)} KiB + budget ${mib(BUDGET)} + ${int(n)} x one read (${READ_BOUND / 1024} KiB: twice --recv-buf) + fixed overhead ${mib(OVERHEAD)}`],
      };
    } finally {
      rss.stop();
    }
  },
};
