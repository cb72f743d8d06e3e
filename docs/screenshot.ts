// bun run docs:screenshot: docs/status-page.png, the status page of a real server (from this
// checkout) with live connections, traffic, a few resets and a latency toxic, taken in headless
// Chromium (Debian's /usr/bin/chromium) through puppeteer-core.
import { resolve } from "node:path";
import puppeteer from "puppeteer-core";
import { pythonCmd } from "../test/helpers/python.ts";
import { spawnServer } from "../test/helpers/process.ts";

const OUT = resolve(import.meta.dir, "status-page.png");
/** Seconds of traffic before the picture, so the charts have a shape. */
const SECONDS = 20;

// 40 peers that echo a little each 100-300 ms; every few seconds one is reset and replaced, and
// one closes cleanly, so the closes list and its chart have entries.
const PEERS = String.raw`
import random, socket, struct, sys, time
port, seconds = int(sys.argv[1]), float(sys.argv[2])
random.seed(7)
def peer():
    s = socket.create_connection(("127.0.0.1", port)); s.setblocking(False); return s
socks = [peer() for _ in range(40)]
end = time.time() + seconds
n = 0
while time.time() < end:
    for s in random.sample(socks, 8):
        try:
            s.send(b"x" * random.randint(200, 20000))
            while True: s.recv(65536)
        except (BlockingIOError, OSError): pass
    n += 1
    if n % 15 == 0:
        s = socks.pop(0); s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)); s.close(); socks.append(peer())
    if n % 10 == 0:
        s = socks.pop(0); s.close(); socks.append(peer())
    time.sleep(random.uniform(0.1, 0.3))
print("done", flush=True)
sys.stdin.read()
`;

await using server = await spawnServer(["--timeout", "120", "--api", "127.0.0.1:0", "--toxic", "latency:latency=20,jitter=5", "--toxic", "bandwidth@upstream:rate=512"]);
const api = (await server.log.waitFor((e) => e.event === "api")).port as number;
const peers = Bun.spawn([...pythonCmd(), "-c", PEERS, String(server.port), String(SECONDS)], { stdin: "pipe", stdout: "pipe", stderr: "inherit" });
const browser = await puppeteer.launch({ executablePath: "/usr/bin/chromium", args: ["--no-sandbox", "--headless=new"] });
try {
  const page = await browser.newPage();
  await page.setViewport({ width: 1400, height: 1000, deviceScaleFactor: 1 });
  await page.goto(`http://127.0.0.1:${api}/`);
  // The peers say "done" after SECONDS of traffic and keep their connections open.
  const out = peers.stdout.pipeThrough(new TextDecoderStream()).getReader();
  for (let said = ""; !said.includes("done"); ) {
    const { value, done } = await out.read();
    if (done) throw new Error("the python3 peers exited early");
    said += value;
  }
  await page.waitForFunction(() => (globalThis as unknown as { __tcpEchoStatus: { events: number } }).__tcpEchoStatus.events >= 2, { timeout: 10_000 });
  await page.screenshot({ path: OUT, fullPage: true });
  console.log(`wrote ${OUT}`);
} finally {
  peers.kill();
  await browser.close();
}
