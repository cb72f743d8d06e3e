// Issue 10, item 4: `--record B --record-mode stream` at info logged one line per record: 43 MB of
// log for 1 MiB of input (41x). Lines a peer can multiply are rate-bounded now, with a
// "suppressed N lines" summary. One python3 connection sends 1 MiB (every byte a record) and reads
// its echo; log bytes written from its open to the last summary, per input byte.
import { sleep } from "../../lib/proc.ts";
import { pyOnce } from "../lib/peers.ts";
import { startServer } from "../lib/server.ts";
import { check, fmt, info, int, type Case } from "../lib/types.ts";

const INPUT = 1024 * 1024;
const RATIO_BOUND = 1;

export const logVolume: Case = {
  id: "4a",
  name: "log-volume",
  inQuick: true,
  describe: () => `--record B --record-mode stream, --log-level info (json), 1 MiB from one connection`,
  async run(ctx) {
    const server = await startServer(ctx, { name: "4a-log-volume", args: ["--record", "B", "--record-mode", "stream", "--log-level", "info"] });
    // The start-up report is written before any connection: not counted.
    await sleep(300);
    const before = server.log.size();
    const from = server.log.events.length;
    const feed = await pyOnce<{ sent: number; received: number; equal: boolean; seconds: number }>(ctx, "feed.py", [server.port, INPUT], 60_000, "4a-feed");
    const closed = await server.log.waitFor((e) => e.event === "close", 10_000, from);
    // Summaries of suppressed lines come at the end of each second.
    await sleep(1500);
    const bytes = server.log.size() - before;
    const events = server.log.events.slice(from);
    const records = events.filter((e) => e.event === "record").length;
    const suppressed = events.filter((e) => e.event === "suppressed").reduce((a, e) => a + Number(e.count ?? 0), 0);
    const code = await ctx.procs.stop(server.proc, 10_000);
    const ratio = bytes / INPUT;
    return {
      checks: [
        check("echo of 1 MiB", `${int(feed.received)} B, ${feed.equal ? "equal" : "DIFFERENT"} in ${fmt(feed.seconds, 2)} s`, "equal", feed.equal && closed !== null),
        info("record lines logged / suppressed", `${int(records)} / ${int(suppressed)}`),
        check("log bytes per input byte", `${fmt(ratio, 4)}x (${int(bytes)} B)`, `< ${RATIO_BOUND}x`, ratio < RATIO_BOUND),
        check("graceful stop exit code", String(code), "0", code === 0),
      ],
      notes: [],
    };
  },
};
