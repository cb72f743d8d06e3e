// Issue 10, items 1 and 2: a slowloris on the metrics port (requests whose header never ends) used
// to take every descriptor the echo port needed: 7 of 25 new echo connections were served. Under
// `prlimit --nofile=256:256`, more half-sent requests than that; then new echo connections.
import { cpuTicks, CLK_TCK, sleep } from "../../lib/proc.ts";
import { probe, PyPeer } from "../lib/peers.ts";
import { startServer } from "../lib/server.ts";
import { openFds } from "../lib/sockets.ts";
import { check, fmt, info, int, type Case } from "../lib/types.ts";

const NOFILE = 256;
const ECHO_CONNS = 25;
/** Seconds a probe connection may wait for its echo. */
const PROBE_TIMEOUT_S = 5;
const requests = (quick: boolean) => (quick ? 300 : 1100);

export const metricsSlowloris: Case = {
  id: "1b",
  name: "metrics-slowloris",
  inQuick: true,
  describe: (quick) => `prlimit --nofile=${NOFILE}:${NOFILE} --metrics, ${int(requests(quick))} half-sent requests on the metrics port, then ${ECHO_CONNS} new echo connections`,
  async run(ctx) {
    const server = await startServer(ctx, { name: "1b-metrics-slowloris", args: ["--metrics", "127.0.0.1:0"], nofile: NOFILE });
    const loris = PyPeer.start(ctx, "slowloris.py", [server.metricsPort!, requests(ctx.quick)], "1b-slowloris");
    const opened = await loris.next<{ opened: number; connect_failed: number }>(30_000);
    await sleep(1000);
    const fds = openFds(server.pid);
    const c0 = cpuTicks(server.pid);
    const t0 = performance.now();
    await sleep(2000);
    const c1 = cpuTicks(server.pid);
    if (!c0 || !c1) throw new Error("the server exited during the slowloris");
    const cpuPct = ((c1.user + c1.sys - c0.user - c0.sys) / CLK_TCK / ((performance.now() - t0) / 1000)) * 100;
    const echo = await probe(ctx, server.port, ECHO_CONNS, PROBE_TIMEOUT_S, "1b-probe");
    loris.send();
    const after = await loris.next<{ open: number; closed_by_server: number; answered: number }>(30_000);
    await loris.end();
    const code = await ctx.procs.stop(server.proc, 10_000);
    return {
      checks: [
        info("half-sent requests connected / still open at the end", `${int(opened.opened)} / ${int(after.open)}`),
        info("server descriptors in use during the slowloris", `${int(fds)} of ${NOFILE}`),
        info("server CPU during the slowloris", `${fmt(cpuPct)} %`),
        check(`new echo connections served within ${PROBE_TIMEOUT_S} s`, `${echo.served} / ${ECHO_CONNS}`, `${ECHO_CONNS} / ${ECHO_CONNS}`, echo.served === ECHO_CONNS),
        check("graceful stop exit code", String(code), "0", code === 0),
      ],
      notes: [
        `slowloris connections closed by the server: ${after.closed_by_server} (with an HTTP answer: ${after.answered}); connects that failed: ${opened.connect_failed}`,
        ...(echo.failed > 0 ? [`echo probe failures: ${JSON.stringify(echo.errors)}`] : []),
      ],
    };
  },
};
