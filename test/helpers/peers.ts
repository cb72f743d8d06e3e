// Echo servers that are not ours, as separate processes announcing `LISTENING <port>` on stdout:
// the C baseline (bench/baseline/echo.c), a plain python3 echo server, and the deliberately
// corrupting bench/loadgen/corrupt-echo.py. Each is stopped by its own pid on dispose.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pythonCmd } from "./python.ts";

const ROOT = resolve(import.meta.dir, "../..");
export const CORRUPT_ECHO = resolve(ROOT, "bench/loadgen/corrupt-echo.py");

/** A python3 echo server as a user would write one: a thread per connection, socketserver. */
const PYTHON_ECHO = `
import socketserver, sys
class Echo(socketserver.BaseRequestHandler):
    def handle(self):
        while True:
            data = self.request.recv(65536)
            if not data:
                return
            self.request.sendall(data)
class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True
    request_queue_size = 1024
s = Server(("127.0.0.1", 0), Echo)
print("LISTENING", s.server_address[1], flush=True)
s.serve_forever()
`;

export interface Peer extends AsyncDisposable {
  readonly port: number;
  readonly proc: Bun.Subprocess<"ignore", "pipe", "pipe">;
}

/** Starts `cmd`, waits (up to 10 s) for its `LISTENING <port>` line. */
export async function spawnListening(cmd: string[]): Promise<Peer> {
  const proc = Bun.spawn(cmd, { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const dispose = async () => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGKILL");
    await proc.exited;
  };
  const reader = proc.stdout.getReader();
  const timer = setTimeout(() => proc.kill("SIGKILL"), 10_000);
  let text = "";
  try {
    for (;;) {
      const m = /^LISTENING (\d+)\n/m.exec(text);
      if (m) return { port: Number(m[1]), proc, [Symbol.asyncDispose]: dispose };
      const { value, done } = await reader.read();
      if (done) throw new Error(`${cmd.join(" ")} exited before listening: ${await new Response(proc.stderr).text()}`);
      text += new TextDecoder().decode(value);
    }
  } catch (e) {
    await dispose();
    throw e;
  } finally {
    clearTimeout(timer);
    reader.releaseLock();
  }
}

export const spawnPythonEcho = () => spawnListening([...pythonCmd(), "-c", PYTHON_ECHO]);

export const spawnCorruptEcho = (args: string[] = []) => spawnListening([...pythonCmd(), CORRUPT_ECHO, "--port", "0", ...args]);

/** Compiles bench/baseline/echo.c into a temporary directory; `cleanup` removes it. */
export async function buildCEcho(): Promise<{ path: string; cleanup(): void }> {
  const dir = mkdtempSync(join(tmpdir(), "tcp-echo-bench-"));
  const path = join(dir, "echo-c");
  const cc = Bun.spawn(["cc", "-O2", "-o", path, resolve(ROOT, "bench/baseline/echo.c")], { stdout: "pipe", stderr: "pipe" });
  const [err, code] = await Promise.all([new Response(cc.stderr).text(), cc.exited]);
  if (code !== 0) throw new Error(`cc failed: ${err}`);
  return { path, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export const spawnCEcho = (path: string) => spawnListening([path, "--host", "127.0.0.1", "--port", "0"]);
