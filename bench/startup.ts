// `bun run bench:startup`: how long tcp-echo takes from exec to its first echo, the figure the
// README quotes. For each build (the executable in dist/, and `bun src/index.ts`) it starts the
// server N times on a free port and connects every millisecond until one byte comes back.
import { existsSync } from "node:fs";
import { parseArgs } from "node:util";

const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const { values } = parseArgs({ options: { runs: { type: "string", default: "20" } } });
const RUNS = Number(values.runs);

/** A port nobody listens on now: bound by the kernel's choice, then released. */
function freePort(): number {
  const l = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = l.port;
  l.stop(true);
  return port;
}

/** Resolves when `port` echoes one byte; false when nothing listens yet. */
async function echoes(port: number): Promise<boolean> {
  const { promise, resolve } = Promise.withResolvers<boolean>();
  try {
    const s = await Bun.connect({
      hostname: "127.0.0.1",
      port,
      socket: {
        open: (sock) => void sock.write("x"),
        data: (sock) => {
          resolve(true);
          sock.end();
        },
        close: () => resolve(false),
        error: () => resolve(false),
        connectError: () => resolve(false),
      },
    });
    void s;
  } catch {
    return false;
  }
  return promise;
}

async function once(cmd: string[]): Promise<number> {
  const port = freePort();
  const t0 = performance.now();
  const proc = Bun.spawn([...cmd, "serve", "--port", String(port), "--log-level", "warn"], { stdout: "ignore", stderr: "ignore" });
  try {
    for (;;) {
      if (await echoes(port)) return performance.now() - t0;
      if (performance.now() - t0 > 10_000) throw new Error(`${cmd.join(" ")} did not echo within 10 s`);
      await Bun.sleep(1);
    }
  } finally {
    proc.kill("SIGKILL");
    await proc.exited;
  }
}

const pct = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;

const builds: [string, string[]][] = [["bun src/index.ts", ["bun", `${ROOT}/src/index.ts`]]];
if (existsSync(`${ROOT}/dist/tcp-echo`)) builds.unshift(["dist/tcp-echo", [`${ROOT}/dist/tcp-echo`]]);
else console.log("(no dist/tcp-echo: run `bun run build` to measure the executable too)");

console.log(`exec to first echo, ${RUNS} runs each (ms):`);
for (const [name, cmd] of builds) {
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) times.push(await once(cmd));
  times.sort((a, b) => a - b);
  console.log(`  ${name.padEnd(18)} median ${pct(times, 0.5).toFixed(1)}  p90 ${pct(times, 0.9).toFixed(1)}  min ${times[0]!.toFixed(1)}  max ${times[times.length - 1]!.toFixed(1)}`);
}
