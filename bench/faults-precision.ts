// `bun run bench:faults`: how precisely each toxic acts, at full size (the test suite runs
// shorter versions), and what toxics cost at scale: 10,000 connections under a 100 ms latency
// toxic, memory and CPU per connection against the same load with no toxic. tcp-echo runs as a
// process (bun src/index.ts --api), the peers are python3 and the C load generator. Writes
// bench/results/faults-precision.md (or --out FILE) and prints it.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { parseArgs } from "node:util";
import { loadavg } from "node:os";
import { cpuTicks, CLK_TCK } from "./lib/proc.ts";

const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const { values: args } = parseArgs({ options: { out: { type: "string", default: `${ROOT}/bench/results/faults-precision.md` }, connections: { type: "string", default: "10000" } } });
const CONNS = Number(args.connections);

interface Server {
  readonly pid: number;
  readonly port: number;
  readonly api: string;
  stop(): Promise<void>;
}

/** A port free now (the kernel's pick for port 0). */
function freePort(): number {
  const l = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = l.port;
  l.stop(true);
  return port;
}

/**
 * tcp-echo on ports chosen here, so it can log at warn (nothing per connection) and still be
 * found; ready once its API answers.
 */
async function startServer(): Promise<Server> {
  const port = freePort();
  const apiPort = freePort();
  const proc = Bun.spawn(["bun", `${ROOT}/src/index.ts`, "--port", String(port), "--timeout", "0", "--api", `127.0.0.1:${apiPort}`, "--log-level", "warn", "--seed", "1"], {
    stdout: "ignore",
    stderr: "inherit",
  });
  const api = `http://127.0.0.1:${apiPort}`;
  for (let i = 0; ; i++) {
    if (await fetch(`${api}/healthz`).then((r) => r.ok, () => false)) break;
    if (i > 200) throw new Error("tcp-echo did not start");
    await Bun.sleep(25);
  }
  return {
    pid: proc.pid,
    port,
    api,
    async stop() {
      proc.kill("SIGTERM");
      await proc.exited;
    },
  };
}

async function toxic(s: Server, body: object): Promise<void> {
  const r = await fetch(`${s.api}/proxies/main/toxics`, { method: "POST", body: JSON.stringify(body) });
  if (r.status !== 200) throw new Error(`adding a toxic: ${r.status} ${await r.text()}`);
}

async function py(script: string, argv: (string | number)[]): Promise<string> {
  const p = Bun.spawn(["python3", "-c", script, ...argv.map(String)], { stdout: "pipe", stderr: "inherit" });
  const out = await new Response(p.stdout).text();
  if ((await p.exited) !== 0) throw new Error("python3 failed");
  return out.trim();
}

const pct = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
};
const f1 = (x: number) => x.toFixed(1);
const rows: string[][] = [];

async function latency(): Promise<void> {
  const s = await startServer();
  await toxic(s, { type: "latency", attributes: { latency: 200 } });
  const out = await py(
    `
import socket, sys, threading, time
port = int(sys.argv[1]); rtts = []; lock = threading.Lock()
def run():
    c = socket.create_connection(("127.0.0.1", port)); c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    for i in range(20):
        t = time.perf_counter(); c.sendall(b"x" * 64); got = 0
        while got < 64: got += len(c.recv(64 - got))
        with lock: rtts.append((time.perf_counter() - t) * 1000)
ts = [threading.Thread(target=run) for _ in range(50)]
[t.start() for t in ts]; [t.join() for t in ts]
print(" ".join(map(str, rtts)))
`,
    [s.port],
  );
  await s.stop();
  const rtts = out.split(" ").map(Number);
  rows.push(["latency 200 ms", `${rtts.length} round trips (50 connections x 20)`, `p50 ${f1(pct(rtts, 0.5))} ms, p99 ${f1(pct(rtts, 0.99))} ms, min ${f1(Math.min(...rtts))}, max ${f1(Math.max(...rtts))}`, "p50 in [200, 210] ms"]);
}

async function bandwidth(): Promise<void> {
  const s = await startServer();
  await toxic(s, { type: "bandwidth", attributes: { rate: 100 } });
  const out = await py(
    `
import socket, sys, threading, time
c = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
data = bytes(1000000); t = time.perf_counter()
threading.Thread(target=lambda: c.sendall(data)).start()
got = 0
while got < len(data): got += len(c.recv(1 << 20))
print(time.perf_counter() - t)
`,
    [s.port],
  );
  await s.stop();
  const secs = Number(out);
  rows.push(["bandwidth 100 KB/s", "1,000,000 B echoed", `${secs.toFixed(3)} s (${f1(1e6 / secs / 1000)} KB/s, ${f1((secs / 10 - 1) * 100)} % off)`, "10 s +/- 5 %"]);
}

/** Time from a peer's first byte to an event (rst, eof, fin after echo), over n connections. */
async function timed(type: string, attrs: object, what: "rst" | "eof" | "fin", n: number, bound: string, label: string): Promise<void> {
  const s = await startServer();
  await toxic(s, { type, attributes: attrs });
  const out = await py(
    `
import socket, sys, time
port = int(sys.argv[1]); what = sys.argv[2]; out = []
for i in range(int(sys.argv[3])):
    c = socket.create_connection(("127.0.0.1", port))
    t = time.perf_counter(); c.sendall(b"abc")
    if what == "fin":
        # From our last byte (sent with our FIN; the echo comes back at once): when the peer itself
        # wakes late for the echo, timing from its arrival would shorten the delay measured.
        c.shutdown(socket.SHUT_WR); got = b""
        while len(got) < 3: got += c.recv(3)
    try:
        while c.recv(64): pass
        out.append((time.perf_counter() - t) * 1000 if what != "rst" else -1)
    except ConnectionResetError:
        out.append((time.perf_counter() - t) * 1000 if what == "rst" else -1)
    c.close()
print(" ".join(map(str, out)))
`,
    [s.port, what, n],
  );
  await s.stop();
  const ms = out.split(" ").map(Number);
  const ok = ms.filter((x) => x >= 0);
  rows.push([label, `${n} connections`, `${ok.length === n ? "" : `${n - ok.length} wrong kind of end; `}min ${f1(Math.min(...ok))} ms, p50 ${f1(pct(ok, 0.5))} ms, max ${f1(Math.max(...ok))} ms`, bound]);
}

async function toxicity(): Promise<void> {
  const s = await startServer();
  await toxic(s, { type: "limit_data", toxicity: 0.3, attributes: { bytes: 0 } });
  const out = await py(
    `
import socket, sys
hit = 0
for i in range(1000):
    c = socket.create_connection(("127.0.0.1", int(sys.argv[1]))); c.sendall(b"x")
    if c.recv(1) == b"": hit += 1
    c.close()
print(hit)
`,
    [s.port],
  );
  await s.stop();
  rows.push(["toxicity 0.3", "1,000 connections (limit_data 0)", `${out} affected (${f1(Number(out) / 10)} %)`, "binomial 99 %: [263, 337]"]);
}

const rss = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]) * 1024;

/** 10,000 connections held (one exchange each), then a paced pingpong over them: RSS and CPU. */
async function scale(withToxic: boolean): Promise<{ kibPerConn: number; cpuUsPerMsg: number; msgs: number; p50: number }> {
  const s = await startServer();
  if (withToxic) await toxic(s, { type: "latency", attributes: { latency: 100 } });
  const loadgen = LOADGEN;
  await Bun.sleep(300);
  const before = rss(s.pid);
  const idle = Bun.spawn([loadgen, "--port", String(s.port), "--mode", "idle", "--connections", String(CONNS), "--size", "64", "--duration", "4"], { stdout: "pipe", stderr: "pipe" });
  const err = idle.stderr.getReader();
  let text = "";
  while (!text.includes("IDLE_READY")) {
    const { value, done } = await err.read();
    if (done) throw new Error(`the load generator ended before holding its connections: ${text}`);
    text += new TextDecoder().decode(value);
  }
  await Bun.sleep(500);
  const held = rss(s.pid);
  await idle.exited;
  await Bun.sleep(500);
  const t0 = cpuTicks(s.pid)!;
  const pp = Bun.spawn([loadgen, "--port", String(s.port), "--mode", "pingpong", "--connections", String(CONNS), "--size", "64", "--rate", "20000", "--duration", "5", "--warmup", "1"], { stdout: "pipe", stderr: "ignore" });
  const report = JSON.parse(await new Response(pp.stdout).text()) as { messages: number; latency_us: { p50: number } };
  const t1 = cpuTicks(s.pid)!;
  await s.stop();
  // The warm-up's messages are not counted by the load generator: scale its CPU share out (6 s of load, 5 measured).
  const cpuS = ((t1.user + t1.sys - t0.user - t0.sys) / CLK_TCK) * (5 / 6);
  return { kibPerConn: (held - before) / CONNS / 1024, cpuUsPerMsg: (cpuS / report.messages) * 1e6, msgs: report.messages, p50: report.latency_us.p50 / 1000 };
}

// The C load generator, built as `bun run bench` builds it when this tree has none yet.
const LOADGEN = `${ROOT}/bench/build/loadgen`;
if (!existsSync(LOADGEN)) {
  mkdirSync(dirname(LOADGEN), { recursive: true });
  const cc = Bun.spawnSync(["cc", "-O2", "-o", LOADGEN, `${ROOT}/bench/loadgen/loadgen.c`], { stderr: "inherit" });
  if (cc.exitCode !== 0) throw new Error("cc -O2 bench/loadgen/loadgen.c failed");
}

const started = new Date();
const loadBefore = loadavg()[0]!;
await latency();
await bandwidth();
await timed("reset_peer", { timeout: 300 }, "rst", 50, "[300, 350] ms", "reset_peer 300 ms");
await timed("slow_close", { delay: 300 }, "fin", 50, "FIN >= 300 ms after the last byte (sent with the peer's FIN, echoed at once)", "slow_close 300 ms");
await timed("timeout", { timeout: 300 }, "eof", 50, "about 300 ms", "timeout 300 ms");
await timed("limit_data", { bytes: 2 }, "eof", 50, "at once, after 2 bytes", "limit_data 2 B");
await toxicity();
const plain = await scale(false);
const toxicRun = await scale(true);

const md = `# Faults on demand: precision and cost

\`bun run bench:faults\` on ${started.toISOString().slice(0, 16).replace("T", " ")} UTC (${Math.round((Date.now() - started.getTime()) / 1000)} s), tcp-echo from source
(\`bun src/index.ts --timeout 0 --api\`), python3 peers (timing measured by the peer), on this project's 2-core machine
(load average ${loadBefore.toFixed(1)} at the start, ${loadavg()[0]!.toFixed(1)} at the end: other work shares the machine).

| toxic | sample | measured | bound |
| --- | --- | --- | --- |
${rows.map((r) => `| ${r.join(" | ")} |`).join("\n")}

## ${CONNS.toLocaleString("en-US")} connections under a 100 ms latency toxic

Each connection made one 64 B exchange and was held (the C load generator's idle mode); then a
paced pingpong over all of them at 20,000 msgs/s for 5 s (after a 1 s warm-up).

| | no toxic | latency 100 ms |
| --- | ---: | ---: |
| server RSS per held connection | ${plain.kibPerConn.toFixed(2)} KiB | ${toxicRun.kibPerConn.toFixed(2)} KiB |
| messages echoed (5 s) | ${plain.msgs.toLocaleString("en-US")} | ${toxicRun.msgs.toLocaleString("en-US")} |
| round trip p50 | ${plain.p50.toFixed(2)} ms | ${toxicRun.p50.toFixed(2)} ms |
| server CPU per message | ${plain.cpuUsPerMsg.toFixed(1)} µs | ${toxicRun.cpuUsPerMsg.toFixed(1)} µs |

Every delayed chunk of every connection waits on one binary heap with one armed timer (the
engine's test holds 10,000 connections x 5 chunks to 10,000 heap entries and one timer).
`;
mkdirSync(dirname(args.out!), { recursive: true });
writeFileSync(args.out!, md);
console.log(md);
