// A started HTTP server with its JSON log captured, and python3 as the raw HTTP peer.
import { startHttpServer, type HttpHandler, type HttpLimits, type HttpServer } from "../../src/http/index.ts";
import { createLogger, type LogLevel } from "../../src/log/logger.ts";
import { LogCapture } from "../helpers/server.ts";
import { pythonCmd } from "../helpers/python.ts";

export interface TestHttp extends AsyncDisposable {
  readonly server: HttpServer;
  readonly port: number;
  readonly log: LogCapture;
}

export function startTestHttp(handler: HttpHandler, limits: Partial<HttpLimits> = {}, opts: { level?: LogLevel; host?: string } = {}): TestHttp {
  const log = new LogCapture();
  const logger = createLogger({ level: opts.level ?? "info", format: "json", write: log.write });
  const server = startHttpServer({ host: opts.host ?? "127.0.0.1", port: 0, logger, name: "test", limits, handler });
  return { server, port: server.port, log, [Symbol.asyncDispose]: () => server.stop() };
}

/** Waits until `cond` holds, polling every 5 ms; throws after `ms`. */
export async function until(cond: () => boolean, ms = 5_000, what = "condition"): Promise<void> {
  const end = performance.now() + ms;
  while (!cond()) {
    if (performance.now() > end) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(5);
  }
}

/**
 * Python helpers prepended to every script: read_response(f) reads one response from a socket's
 * makefile("rb") by its own framing (Content-Length, chunked, or to the close) and returns
 * {status, headers, body}; None at a clean EOF.
 */
export const PY_HTTP = String.raw`
import json, socket, sys, time
def read_response(f, head_only=False):
    line = f.readline()
    if not line:
        return None
    status = line.decode("latin-1").rstrip("\r\n")
    headers = {}
    while True:
        l = f.readline()
        if l in (b"\r\n", b""):
            break
        k, v = l.decode("latin-1").rstrip("\r\n").split(":", 1)
        headers[k.strip().lower()] = v.strip()
    code = int(status.split(" ")[1])
    body = b""
    if head_only or code in (204, 304) or code < 200:
        pass
    elif "content-length" in headers:
        body = f.read(int(headers["content-length"]))
    elif headers.get("transfer-encoding") == "chunked":
        while True:
            size = int(f.readline().split(b";")[0], 16)
            if size == 0:
                while f.readline() not in (b"\r\n", b""):
                    pass
                break
            body += f.read(size)
            f.read(2)
    else:
        body = f.read()
    return {"status": status, "headers": headers, "body": body.decode("latin-1")}
def connect(port, host="127.0.0.1"):
    s = socket.create_connection((host, port), timeout=5)
    return s, s.makefile("rb")
def read_all(s):
    data = b""
    try:
        while True:
            d = s.recv(65536)
            if not d:
                return data, "eof"
            data += d
    except ConnectionResetError:
        return data, "reset"
    except socket.timeout:
        return data, "timeout"
`;

/** Starts `script` (after PY_HTTP) with `args`; killed after `timeoutMs`. */
export async function spawnPy(script: string, args: (string | number)[] = [], timeoutMs = 20_000) {
  const proc = Bun.spawn([...pythonCmd(), "-c", PY_HTTP + script, ...args.map(String)], { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const timer = setTimeout(() => proc.kill(), timeoutMs);
  void proc.exited.then(() => clearTimeout(timer));
  return proc;
}

/** Runs `script` after PY_HTTP; its stdout parsed as JSON; fails on a non-zero exit. */
export async function py<T = unknown>(script: string, args: (string | number)[] = [], timeoutMs = 20_000): Promise<T> {
  const proc = await spawnPy(script, args, timeoutMs);
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  if (code !== 0) throw new Error(`python3 exited ${code}: ${err.trim()}`);
  return JSON.parse(out) as T;
}
