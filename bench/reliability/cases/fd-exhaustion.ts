// Issue 10, item 1: out of file descriptors the server used to spin (97 % CPU, ~14,000 failing
// accept4 calls a second, no log line). Under `prlimit --nofile=256:256`, more connections than
// that: the server's CPU while over the limit, its accept-paused warnings (at most one a second),
// the connections it had accepted still echo, and the waiting ones are served as others close.
import { cpuTicks, CLK_TCK, sleep } from "../../lib/proc.ts";
import { PyPeer } from "../lib/peers.ts";
import { startServer } from "../lib/server.ts";
import { acceptedConnections } from "../lib/sockets.ts";
import { check, fmt, info, int, type Case } from "../lib/types.ts";

const NOFILE = 256;
const CPU_WINDOW_MS = 3000;
const CPU_BOUND_PCT = 25;
const conns = (quick: boolean) => (quick ? 400 : 1050);

export const fdExhaustion: Case = {
  id: "1a",
  name: "fd-exhaustion",
  inQuick: true,
  describe: (quick) => `prlimit --nofile=${NOFILE}:${NOFILE}, ${int(conns(quick))} connections held (--timeout 0)`,
  async run(ctx) {
    const n = conns(ctx.quick);
    const server = await startServer(ctx, { name: "1a-fd-exhaustion", args: ["--timeout", "0"], nofile: NOFILE });
    const peer = PyPeer.start(ctx, "fd_hold.py", [server.port, n], "1a-fd-hold");
    const opened = await peer.next<{ opened: number; connect_errors: number }>(60_000);
    // The server works through its accept queue until it runs out; then it should go quiet.
    await sleep(500);
    const accepted = acceptedConnections(server.pid);
    const c0 = cpuTicks(server.pid);
    const t0 = performance.now();
    await sleep(CPU_WINDOW_MS);
    const c1 = cpuTicks(server.pid);
    const seconds = (performance.now() - t0) / 1000;
    if (!c0 || !c1) throw new Error("the server exited while over the limit");
    const cpuPct = ((c1.user + c1.sys - c0.user - c0.sys) / CLK_TCK / seconds) * 100;

    peer.send();
    const first = await peer.next<{ first: number; first_max_ms: number }>(30_000);
    peer.send();
    const later = await peer.next<{ later: number; waiting: number; seconds: number }>(90_000);
    await peer.end();

    const warnings = server.log.of("accept-paused");
    const gaps = warnings.slice(1).map((w, i) => w.ms - warnings[i]!.ms);
    const minGap = gaps.length > 0 ? Math.min(...gaps) : null;
    const resumed = server.log.of("accept-resumed").length;
    const code = await ctx.procs.stop(server.proc, 10_000);
    return {
      checks: [
        info("connections opened / accepted by the server", `${int(opened.opened)} / ${int(accepted)}`),
        check(`server CPU over ${CPU_WINDOW_MS / 1000} s while over the limit`, `${fmt(cpuPct)} %`, `< ${CPU_BOUND_PCT} %`, cpuPct < CPU_BOUND_PCT),
        check(
          "accept-paused warnings (min gap)",
          `${warnings.length} (${minGap === null ? "one line" : `${fmt(minGap / 1000, 2)} s`})`,
          ">= 1, at most 1/s",
          warnings.length >= 1 && (minGap === null || minGap >= 990),
        ),
        check("accepted connections that echo", `${int(first.first)} / ${int(accepted)}`, "all", accepted > 0 && first.first === accepted),
        check("waiting connections served as others close", `${int(later.later)} / ${int(later.waiting)} in ${fmt(later.seconds)} s`, "all", later.waiting > 0 && later.later === later.waiting),
        check("graceful stop exit code", String(code), "0", code === 0),
      ],
      notes: [`accept-resumed lines: ${resumed}; connect errors on the client: ${opened.connect_errors}`],
    };
  },
};
