// Keep-alive GET loop against our HTTP server and Bun.serve, side by side in one run:
//   bun test/http/bench-keepalive.ts [seconds per run = 2] [rounds = 3]
// Each server runs in its own process; this process is the client (raw Bun.connect, one request
// in flight per connection, the response read to its Content-Length). Rounds alternate the
// servers so drift hits both; the median round is reported, as throughput and as the server
// process's CPU time per request (/proc/<pid>/stat), which other load on the machine disturbs
// less than throughput does. Not part of `bun test`.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";

const SECONDS = Number(process.argv[2] ?? 2);
const ROUNDS = Number(process.argv[3] ?? 3);
const FIXTURE = resolve(import.meta.dir, "bench-server-fixture.ts");
const REQUEST = Buffer.from("GET /x HTTP/1.1\r\nHost: bench\r\n\r\n");

async function spawnServer(which: string) {
  const proc = Bun.spawn(["bun", FIXTURE, which], { stdout: "pipe", stderr: "inherit" });
  const reader = proc.stdout.getReader();
  let text = "";
  while (!/LISTENING (\d+)/.test(text)) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`${which} server exited`);
    text += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  return { proc, port: Number(/LISTENING (\d+)/.exec(text)![1]) };
}

/** User plus system CPU seconds of a process (proc(5): fields 14 and 15, in clock ticks of 1/100 s). */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** `conns` connections, each sending the next request when the previous response is complete. */
async function loop(port: number, conns: number, ms: number, pid = 0): Promise<{ n: number; cpu: number }> {
  const cpu0 = pid ? cpuSeconds(pid) : 0;
  let count = 0;
  let running = true;
  const done: Promise<void>[] = [];
  for (let i = 0; i < conns; i++) {
    done.push(
      new Promise<void>((resolveConn, reject) => {
        let buf = "";
        void Bun.connect({
          hostname: "127.0.0.1",
          port,
          socket: {
            open(s) {
              s.write(REQUEST);
            },
            data(s, chunk) {
              buf += chunk.toString("latin1");
              for (;;) {
                const end = buf.indexOf("\r\n\r\n");
                if (end < 0) return;
                const m = /content-length: (\d+)/i.exec(buf.slice(0, end));
                const total = end + 4 + Number(m?.[1] ?? 0);
                if (buf.length < total) return;
                buf = buf.slice(total);
                count++;
                if (!running) {
                  s.end();
                  return;
                }
                s.write(REQUEST);
              }
            },
            close: () => resolveConn(),
            error: (_s, e) => reject(e),
          },
        }).catch(reject);
      }),
    );
  }
  await Bun.sleep(ms);
  running = false;
  const measured = count;
  const cpu = pid ? cpuSeconds(pid) - cpu0 : 0;
  await Promise.all(done);
  return { n: measured, cpu };
}

const results: Record<string, Record<number, number[]>> = { ours: {}, bun: {} };
const cpuPerReq: Record<string, Record<number, number[]>> = { ours: {}, bun: {} };
for (const which of ["ours", "bun"] as const) {
  const s = await spawnServer(which);
  await loop(s.port, 1, 300); // warm-up: JIT both sides
  s.proc.kill("SIGTERM");
  await s.proc.exited;
}
for (let round = 0; round < ROUNDS; round++) {
  for (const which of round % 2 === 0 ? (["ours", "bun"] as const) : (["bun", "ours"] as const)) {
    const s = await spawnServer(which);
    await loop(s.port, 1, 300);
    for (const conns of [1, 16]) {
      const { n, cpu } = await loop(s.port, conns, SECONDS * 1000, s.proc.pid);
      (results[which]![conns] ??= []).push(n / SECONDS);
      (cpuPerReq[which]![conns] ??= []).push((cpu / n) * 1e6);
    }
    s.proc.kill("SIGTERM");
    await s.proc.exited;
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
console.log(`bun ${Bun.version}, ${SECONDS} s per run, median of ${ROUNDS} rounds`);
for (const conns of [1, 16]) {
  const ours = median(results.ours![conns]!);
  const bun = median(results.bun![conns]!);
  const cpuOurs = median(cpuPerReq.ours![conns]!);
  const cpuBun = median(cpuPerReq.bun![conns]!);
  console.log(
    `${String(conns).padStart(2)} connection(s): ours ${Math.round(ours)} req/s, server CPU ${cpuOurs.toFixed(1)} µs/req; ` +
      `Bun.serve ${Math.round(bun)} req/s, server CPU ${cpuBun.toFixed(1)} µs/req; ours/Bun.serve throughput ${(ours / bun).toFixed(2)}, CPU per request ${(cpuOurs / cpuBun).toFixed(2)}`,
  );
}
