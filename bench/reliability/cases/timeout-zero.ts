// `--timeout 0` turns idle timeouts off, but Bun arms a 120 s timer on every accepted socket
// (measured), whose handler is our backstop: it is disarmed at open now. Three connections held
// idle for 130 s must still be open and echo. Full mode only; it runs beside the other cases.
import { pyOnce } from "../lib/peers.ts";
import { startServer } from "../lib/server.ts";
import { check, type Case } from "../lib/types.ts";

const HOLD_S = 130;
const CONNS = 3;

export const timeoutZero: Case = {
  id: "9",
  name: "timeout-0-held",
  inQuick: false,
  background: true,
  describe: () => `--timeout 0, ${CONNS} connections held idle ${HOLD_S} s (past Bun's 120 s socket timer), then one exchange each`,
  async run(ctx) {
    const server = await startServer(ctx, { name: "9-timeout-zero", args: ["--timeout", "0"] });
    const held = await pyOnce<{ survived: number; closed_after_s: number[]; echoed_after: number }>(ctx, "hold.py", [server.port, CONNS, HOLD_S], (HOLD_S + 30) * 1000, "9-hold");
    const backstop = server.log.of("backstop").length;
    const code = await ctx.procs.stop(server.proc, 10_000);
    return {
      checks: [
        check(
          `connections open and echoing after ${HOLD_S} s`,
          `${held.echoed_after} / ${CONNS}${held.closed_after_s.length ? ` (closed after ${held.closed_after_s.join(", ")} s)` : ""}`,
          `${CONNS} / ${CONNS}`,
          held.echoed_after === CONNS,
        ),
        check("backstop lines (Bun's timer fired)", String(backstop), "0", backstop === 0),
        check("graceful stop exit code", String(code), "0", code === 0),
      ],
      notes: [],
    };
  },
};
