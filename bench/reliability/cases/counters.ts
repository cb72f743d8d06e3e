// Issue 10, item 6: after kill -9 of one worker the summed `accepted` fell from 40 to 16 and bytes
// from 5.6 to 3.5 MB, which Prometheus reads as a counter reset. Traffic on both workers, scrapes
// before the kill, right after it, after the replacement and after more traffic: no sample of a
// counter (or histogram) family may decrease from one scrape to the next.
import { loadgen } from "../lib/peers.ts";
import { decreases, scrape, total, type Scrape } from "../lib/metrics.ts";
import { startServer } from "../lib/server.ts";
import { check, info, int, type Case } from "../lib/types.ts";

/** connect mode: 4 loops of connect, 64 B exchanged, close, for 1 s (both workers get some). */
const TRAFFIC = ["--mode", "connect", "--connections", 4, "--size", 64, "--warmup", 0, "--duration", 1] as const;

export const counters: Case = {
  id: "6",
  name: "monotonic-counters",
  inQuick: true,
  describe: () => "--workers 2 --metrics, connect traffic, SIGKILL one worker; scrapes before, right after, after the replacement, after more traffic",
  async run(ctx) {
    const server = await startServer(ctx, { name: "6-counters", args: ["--workers", "2", "--metrics", "127.0.0.1:0"], workers: 2 });
    const traffic = async () => {
      const r = await loadgen(ctx, server.port, TRAFFIC).report;
      if (r.errors > 0 || r.mismatches > 0) throw new Error(`traffic failed: ${r.errors} errors, ${r.mismatches} mismatches`);
      return r.messages;
    };
    const scrapes: [string, Scrape][] = [];
    const cycles = [await traffic()];
    scrapes.push(["before the kill", await scrape(server.metricsPort!)]);
    const from = server.log.events.length;
    const victim = server.log.of("worker-ready").find((e) => e.worker === 1)!.pid as number;
    process.kill(victim, "SIGKILL");
    await server.log.waitFor((e) => e.event === "worker-exit" && e.pid === victim, 5000, from);
    scrapes.push(["right after it", await scrape(server.metricsPort!)]);
    const back = await server.log.waitFor((e) => e.event === "worker-ready" && e.worker === 1, 15_000, from);
    if (!back) throw new Error("worker 1 was not replaced within 15 s");
    scrapes.push(["after the replacement", await scrape(server.metricsPort!)]);
    cycles.push(await traffic());
    scrapes.push(["after more traffic", await scrape(server.metricsPort!)]);
    const code = await ctx.procs.stop(server.proc, 15_000);

    const { compared, found } = decreases(scrapes);
    const accepted = scrapes.map(([, s]) => int(total(s, "tcp_echo_connections_accepted_total"))).join(" -> ");
    const bytes = scrapes.map(([, s]) => int(total(s, "tcp_echo_received_bytes_total"))).join(" -> ");
    const names = [...new Set(found.map((d) => d.sample))];
    return {
      checks: [
        info("connections of the traffic (two runs)", cycles.map(int).join(" + ")),
        info("accepted_total over the 4 scrapes", accepted),
        info("received_bytes_total", bytes),
        check(
          "counter samples that decreased",
          found.length === 0 ? `0 of ${compared} compared` : `${found.length} of ${compared}: ${names.join(", ")}`,
          "0",
          found.length === 0,
        ),
        check("graceful stop exit code", String(code), "0", code === 0),
      ],
      notes: found.map((d) => `${d.sample} decreased ${d.from} -> ${d.to}: ${d.before} -> ${d.after}`),
    };
  },
};
