// Issue 10, item 5: with one of two workers stopped (SIGSTOP), 21 of 40 new connections hung while
// /healthz and /readyz said 200. The supervisor pings its workers now; one silent for 3 s is
// logged (worker-hung), killed and replaced, and /readyz is 503 meanwhile.
import { sleep, startTime } from "../../lib/proc.ts";
import { decreases, readyz, scrape, type Scrape } from "../lib/metrics.ts";
import { probe } from "../lib/peers.ts";
import { startServer } from "../lib/server.ts";
import { check, fmt, info, type Case } from "../lib/types.ts";

const DETECT_BOUND_S = 6;
const NEW_CONNS = 40;

export const hungWorker: Case = {
  id: "5",
  name: "hung-worker",
  inQuick: true,
  describe: () => `--workers 2 --metrics, SIGSTOP one worker, /readyz polled every 100 ms, then ${NEW_CONNS} new connections`,
  async run(ctx) {
    const server = await startServer(ctx, { name: "5-hung-worker", args: ["--workers", "2", "--metrics", "127.0.0.1:0"], workers: 2 });
    const ready = server.log.of("worker-ready");
    const victim = ready.find((e) => e.worker === 1);
    if (!victim) throw new Error("no worker-ready line for worker 1");
    const pid = victim.pid as number;
    const before = await readyz(server.metricsPort!);
    const scrapes: [string, Scrape][] = [["before SIGSTOP", await scrape(server.metricsPort!)]];

    const from = server.log.events.length;
    const started = startTime(pid);
    const stoppedAt = Date.now();
    process.kill(pid, "SIGSTOP");
    try {
      // /readyz until the replacement listens (or 15 s).
      const polls: { ms: number; status: number }[] = [];
      let replaced = false;
      const poller = (async () => {
        while (!replaced && Date.now() - stoppedAt < 15_000) {
          polls.push({ ms: Date.now() - stoppedAt, status: await readyz(server.metricsPort!, 1000) });
          await sleep(100);
        }
      })();
      // A scrape while the worker cannot answer (the supervisor waits 1 s for it, then counts its
      // last figures): no counter may fall.
      await sleep(1500);
      scrapes.push(["during the hang", await scrape(server.metricsPort!)]);
      const hung = await server.log.waitFor((e) => e.event === "worker-hung", 15_000, from);
      const back = await server.log.waitFor((e) => e.event === "worker-ready" && e.worker === 1 && e.pid !== pid, 15_000, from);
      replaced = true;
      await poller;
      await sleep(200);
      const after = await readyz(server.metricsPort!);
      scrapes.push(["after the replacement", await scrape(server.metricsPort!)]);
      const fell = decreases(scrapes);
      const echo = await probe(ctx, server.port, NEW_CONNS, 3, "5-probe");
      const code = await ctx.procs.stop(server.proc, 15_000);
      const detectS = hung ? (hung.ms - stoppedAt) / 1000 : Infinity;
      const unready = polls.filter((p) => p.status === 503);
      const firstUnready = unready[0]?.ms ?? null;
      return {
        checks: [
          check("time from SIGSTOP to worker-hung", hung ? `${fmt(detectS, 2)} s` : "never (15 s)", `< ${DETECT_BOUND_S} s`, detectS < DETECT_BOUND_S),
          check(
            "/readyz while the worker was hung",
            unready.length > 0 ? `503 from ${fmt(firstUnready! / 1000, 1)} s to ${fmt(unready.at(-1)!.ms / 1000, 1)} s after SIGSTOP (${unready.length} of ${polls.length} polls)` : `never 503 (${polls.length} polls)`,
            "503",
            unready.length > 0,
          ),
          check("/readyz before / after the replacement", `${before} / ${after}`, "200 / 200", before === 200 && after === 200),
          info("replacement listening", back ? `${fmt((back.ms - stoppedAt) / 1000, 2)} s after SIGSTOP (pid ${back.pid})` : "no"),
          check("new connections after the replacement", `${echo.served} / ${NEW_CONNS} (slowest ${echo.max_ms} ms)`, `${NEW_CONNS} / ${NEW_CONNS}`, back !== null && echo.served === NEW_CONNS),
          check(
            "counter samples that decreased (before, during, after)",
            fell.found.length === 0 ? `0 of ${fell.compared}` : `${fell.found.length} of ${fell.compared}: ${[...new Set(fell.found.map((d) => d.sample))].join(", ")}`,
            "0",
            fell.found.length === 0,
          ),
          check("graceful stop exit code", String(code), "0", code === 0),
        ],
        notes: [
          ...(echo.failed > 0 ? [`probe failures: ${JSON.stringify(echo.errors)}`] : []),
          ...fell.found.map((d) => `${d.sample} decreased ${d.from} -> ${d.to}: ${d.before} -> ${d.after}`),
        ],
      };
    } finally {
      // Should the supervisor not have killed it, the stopped worker is not left behind.
      if (started !== null && startTime(pid) === started) process.kill(pid, "SIGKILL");
    }
  },
};
