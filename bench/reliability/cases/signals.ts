// Issue 10, item 7: SIGHUP, SIGUSR1, SIGUSR2 and SIGQUIT killed a single process at once, with no
// drain and no log line. Each signal now has a documented outcome (README, "Signals"), checked on
// one process and on a --workers 2 supervisor:
//   SIGHUP   a "reload" line (nothing can be reloaded), still serving
//   SIGUSR1  a "stats" line now, still serving
//   SIGUSR2  ignored: no line, still serving
//   SIGQUIT, SIGTERM, SIGINT  graceful stop: a connection with data in flight gets all of it back
//            and a FIN, and the process exits 0
import { sleep } from "../../lib/proc.ts";
import { Prober, PyPeer } from "../lib/peers.ts";
import { startServer, type Server } from "../lib/server.ts";
import { check, fmt, type Case, type Check, type Context } from "../lib/types.ts";

const IN_FLIGHT = 256 * 1024;

async function stillServing(prober: Prober, server: Server): Promise<string | null> {
  if (server.proc.exitCode !== null || server.proc.signalCode !== null) return `exited (${server.proc.exitCode ?? server.proc.signalCode})`;
  const p = await prober.probe(server.port, 3, 3);
  return p.served === 3 ? null : `${p.served} / 3 probe connections served`;
}

/** SIGHUP, SIGUSR1, SIGUSR2 in turn on one server: each answered as documented, and it keeps serving. */
async function keepServing(ctx: Context, prober: Prober, workers: number): Promise<Check[]> {
  const mode = workers > 1 ? `--workers ${workers}` : "one process";
  const server = await startServer(ctx, { name: `7-signals-${workers}`, args: workers > 1 ? ["--workers", String(workers)] : [], workers });
  const expected = [
    ["SIGHUP", "reload", "a reload line, still serving"],
    ["SIGUSR1", "stats", "a stats line, still serving"],
    ["SIGUSR2", null, "no line, still serving"],
  ] as const;
  const out: Check[] = [];
  for (const [signal, event, bound] of expected) {
    const from = server.log.events.length;
    server.proc.kill(signal);
    const line = event ? await server.log.waitFor((e) => e.event === event, 3000, from) : (await sleep(500), null);
    const problem = await stillServing(prober, server);
    const unexpected = server.log.events.slice(from).filter((e) => ["signal", "shutdown", "stopped"].includes(e.event));
    const seen = event ? (line ? `"${line.event}" line` : `no ${event} line`) : unexpected.length ? `"${unexpected[0]!.event}" line` : "no line";
    out.push(check(`${signal} (${mode})`, `${seen}; ${problem ?? "still serving"}`, bound, (event ? line !== null : true) && unexpected.length === 0 && problem === null));
  }
  const code = await ctx.procs.stop(server.proc, 10_000);
  if (code !== 0) out.push(check(`SIGTERM after the others (${mode})`, `exit ${code}`, "exit 0", false));
  return out;
}

/** A stop signal on a fresh server with a connection in flight. */
async function gracefulStop(ctx: Context, workers: number, signal: "SIGQUIT" | "SIGTERM" | "SIGINT"): Promise<Check> {
  const mode = workers > 1 ? `--workers ${workers}` : "one process";
  const server = await startServer(ctx, { name: `7-${signal}-${workers}`, args: workers > 1 ? ["--workers", String(workers)] : [], workers });
  const peer = PyPeer.start(ctx, "graceful.py", [server.port, IN_FLIGHT], `7-graceful-${signal}-${workers}`);
  await peer.next(10_000);
  const t0 = performance.now();
  server.proc.kill(signal);
  peer.send();
  const got = await peer.next<{ received: number; equal: boolean; end: string }>(15_000);
  await peer.end();
  const exited = await Promise.race([server.proc.exited, sleep(15_000).then(() => null)]);
  const seconds = (performance.now() - t0) / 1000;
  const logged = server.log.of("signal").length > 0;
  const ok = exited === 0 && got.equal && got.end === "fin" && logged;
  return check(
    `${signal} (${mode})`,
    `exit ${exited ?? "none within 15 s"} after ${fmt(seconds, 2)} s; peer got ${got.equal ? "all" : `${got.received} of ${IN_FLIGHT}`} bytes then ${got.end}${logged ? "" : "; no signal line"}`,
    "graceful stop: all bytes, FIN, exit 0",
    ok,
  );
}

export const signals: Case = {
  id: "7",
  name: "signals",
  inQuick: true,
  describe: () => "SIGHUP, SIGUSR1, SIGUSR2 (one server each mode), SIGQUIT, SIGTERM, SIGINT (a fresh server each, 256 KiB in flight); one process and --workers 2",
  async run(ctx) {
    const checks: Check[] = [];
    const prober = new Prober(ctx, "7-prober");
    for (const workers of [1, 2]) {
      checks.push(...(await keepServing(ctx, prober, workers)));
      for (const s of ["SIGQUIT", "SIGTERM", "SIGINT"] as const) checks.push(await gracefulStop(ctx, workers, s));
    }
    await prober.end();
    return { checks, notes: [] };
  },
};
