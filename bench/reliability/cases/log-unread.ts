// Issue 10, item 4: a stderr that nobody reads used to pile log lines up in memory (3.3 MB and
// growing). The log sink is bounded now: it drops and counts, and says so once the reader is
// back. python3 starts the server with stderr a pipe and stops reading it; four pingpong
// connections at --log-level debug (two lines per chunk) for 5 s; then python3 reads again.
import { sleep, startTime } from "../../lib/proc.ts";
import { loadgen, PyPeer } from "../lib/peers.ts";
import { RssSampler } from "../lib/sampler.ts";
import { check, fmt, info, int, mib, type Case } from "../lib/types.ts";

const TRAFFIC_S = 5;
const GROWTH_BOUND = 64 * 1024 * 1024;

export const logUnread: Case = {
  id: "4b",
  name: "log-unread-stderr",
  inQuick: true,
  describe: () => `--log-level debug, stderr a pipe nobody reads, 4 pingpong connections for ${TRAFFIC_S} s, then the pipe is read`,
  async run(ctx) {
    const holder = PyPeer.start(ctx, "unread_stderr.py", [ctx.exe, "--log-level", "debug", "--timeout", "0"], "4b-unread-stderr");
    const { pid, port } = await holder.next<{ pid: number; port: number | null }>(30_000);
    // The server is python's child: if anything below fails it is still ended, by its pid.
    const started = startTime(pid);
    const rss = new RssSampler(pid, 20);
    try {
      if (port === null) throw new Error("the server did not log its listening line");
      await sleep(500);
      const base = rss.sample() * 1024;
      const t0 = performance.now();
      const pp = await loadgen(ctx, port, ["--mode", "pingpong", "--connections", 4, "--size", 64, "--warmup", 0, "--duration", TRAFFIC_S]).report;
      const growth = rss.peak(t0) - base;
      holder.send();
      const read = await holder.next<{ read_bytes: number; log_dropped: number[]; first_dropped_after_s: number | null }>(30_000);
      holder.send();
      const { exit } = await holder.next<{ exit: number }>(30_000);
      await holder.end();
      const dropped = read.log_dropped.reduce((a, b) => a + b, 0);
      return {
        checks: [
          info("round trips served while nobody read the log", `${int(pp.messages)} (errors ${pp.errors})`),
          check(`RSS growth over ${TRAFFIC_S} s`, `${mib(growth)} (from ${mib(base)})`, `< ${mib(GROWTH_BOUND)}`, growth < GROWTH_BOUND),
          check(
            "log-dropped lines once the pipe is read",
            read.log_dropped.length > 0 ? `${read.log_dropped.length}, ${int(dropped)} lines dropped, first after ${fmt(read.first_dropped_after_s ?? 0, 2)} s` : "none",
            ">= 1",
            read.log_dropped.length > 0 && dropped > 0,
          ),
          check("graceful stop exit code", String(exit), "0", exit === 0),
        ],
        notes: [`read from the pipe after the traffic: ${int(read.read_bytes)} B`],
      };
    } finally {
      rss.stop();
      if (startTime(pid) === started && started !== null) process.kill(pid, "SIGKILL");
    }
  },
};
