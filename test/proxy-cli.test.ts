// --proxy-protocol, --proxy-protocol-timeout and --client-ip-from as a user gives them: on the command
// line for every listener, in a [[listener]] table for one, refused with one line when wrong; and the
// process itself with a PROXY listener next to a plain one (the header consumed on one, echoed as
// data on the other), in both log formats.
import { describe, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "citty";
import { UsageError } from "../src/cli/errors.ts";
import { normalizeArgv } from "../src/cli/flags.ts";
import { argsDef, manyOptions } from "../src/cli/options/option.ts";
import { SERVE_OPTIONS } from "../src/cli/options/table.ts";
import { resolveServe } from "../src/cli/serve-settings.ts";
import { python } from "./helpers/python.ts";
import { SOURCE_CLI } from "./helpers/process.ts";
import { LogCapture } from "./helpers/server.ts";

const defs = argsDef(SERVE_OPTIONS);
const listeners = (argv: string[]) => resolveServe(parseArgs(normalizeArgv(argv, defs, manyOptions(SERVE_OPTIONS)), defs) as Record<string, unknown>, {}).settings.listeners;
const proxyOf = (argv: string[]) => listeners(argv).map((l) => ({ name: l.name, mode: l.proxyProtocol, timeout: l.proxyTimeout, from: l.clientIpFrom }));
function usage(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof UsageError) return e.message;
    throw e;
  }
  throw new Error("no usage error");
}
const dir = mkdtempSync(join(tmpdir(), "tcp-echo-proxy-cli-"));

// Sends `PROXY TCP4 198.51.100.9 10.0.0.1 40000 80\r\n` + payload to each port, half-closes, and
// prints what came back from each (hex).
const SEND = String.raw`
import json, socket, sys
data = b"PROXY TCP4 198.51.100.9 10.0.0.1 40000 80\r\nhello\n"
out = []
for port in sys.argv[1:]:
    s = socket.create_connection(("127.0.0.1", int(port)), timeout=5)
    s.sendall(data); s.shutdown(socket.SHUT_WR)
    got = b""
    while True:
        d = s.recv(65536)
        if not d: break
        got += d
    out.append({"back": got.decode("latin1"), "me": "127.0.0.1:%d" % s.getsockname()[1]})
    s.close()
print(json.dumps(out))
`;

/** Calls onLine for every line of a process's stderr. */
async function pumpLines(stream: ReadableStream<Uint8Array>, onLine: (line: string) => void): Promise<void> {
  const decoder = new TextDecoder();
  let buf = "";
  for await (const chunk of stream) {
    buf += decoder.decode(chunk, { stream: true });
    const parts = buf.split("\n");
    buf = parts.pop()!;
    for (const line of parts) onLine(line);
  }
}

describe("the options", () => {
  test("defaults: off, 3 s, proxy", () => {
    expect(proxyOf([])).toEqual([{ name: "main", mode: "off", timeout: 3, from: "proxy" }]);
  });

  test("the command line sets every listener; a [[listener]] table overrides it for itself", () => {
    const path = join(dir, "lb.toml");
    writeFileSync(path, `[[listener]]\nname = "lb"\nlisten = "127.0.0.1:0"\n\n[[listener]]\nname = "direct"\nlisten = "[::1]:0"\nproxy-protocol = "off"\n`);
    expect(proxyOf(["--config", path, "--proxy-protocol", "any", "--proxy-protocol-timeout", "500ms", "--client-ip-from", "peer"])).toEqual([
      { name: "lb", mode: "any", timeout: 0.5, from: "peer" },
      { name: "direct", mode: "off", timeout: 0.5, from: "peer" },
    ]);
  });

  const bad: [string[], RegExp][] = [
    [["--proxy-protocol", "v3"], /^--proxy-protocol: "v3" is not one of off, v1, v2, any/],
    [["--proxy-protocol-timeout", "0"], /^--proxy-protocol-timeout: "0" is not a duration/],
    [["--client-ip-from", "lb"], /^--client-ip-from: "lb" is not one of proxy, peer/],
  ];
  for (const [argv, message] of bad) test(`refused with one line: ${argv.join(" ")}`, () => expect(usage(() => proxyOf(argv))).toMatch(message));
});

describe("the process", () => {
  test("a v1 listener reports the header's client and echoes only what follows it; a plain listener echoes the header as data", async () => {
    const path = join(dir, "two.toml");
    writeFileSync(path, `[[listener]]\nname = "lb"\nlisten = "127.0.0.1:0"\nproxy-protocol = "v1"\n\n[[listener]]\nname = "plain"\nlisten = "[::1]:0"\n`);
    // Its own process (spawnServer adds --port 0, which [[listener]] tables refuse).
    const proc = Bun.spawn([...SOURCE_CLI, "serve", "--config", path, "--log-format", "json"], { stdin: "ignore", stdout: "ignore", stderr: "pipe" });
    const log = new LogCapture();
    const pumped = pumpLines(proc.stderr, log.write);
    await using _ = { [Symbol.asyncDispose]: async () => (proc.kill("SIGKILL"), await proc.exited, await pumped) };
    await log.waitFor((e) => e.event === "kernel", 15_000);
    const port = (name: string) => log.of("listening").find((e) => e.listener === name)!.port as number;
    const lb = port("lb");
    const plain = port("plain");
    // The start-up report says which listener waits for a header, and only that one.
    expect(log.of("proxy-protocol")).toEqual([expect.objectContaining({ listener: "lb", mode: "v1", timeout: 3, client_ip_from: "proxy" })]);
    const [viaLb] = JSON.parse(await python(SEND, [lb])) as { back: string; me: string }[];
    expect(viaLb!.back).toBe("hello\n");
    const open = await log.waitFor((e) => e.event === "open" && e.listener === "lb");
    expect(open).toMatchObject({ peer: "198.51.100.9:40000", via: viaLb!.me, proxy: { version: 1, command: "proxy", family: "inet", source: { address: "198.51.100.9", port: 40000 }, destination: { address: "10.0.0.1", port: 80 } } });
    expect(await log.waitFor((e) => e.event === "close" && e.listener === "lb")).toMatchObject({ peer: "198.51.100.9:40000", bytes_in: 6, bytes_out: 6 });
    const back = await python(
      `import socket,sys\ns=socket.create_connection(("::1",int(sys.argv[1])),timeout=5)\ns.sendall(b"PROXY TCP4 198.51.100.9 10.0.0.1 40000 80\\r\\nhello\\n");s.shutdown(socket.SHUT_WR)\ng=b""\nwhile True:\n  d=s.recv(65536)\n  if not d: break\n  g+=d\nsys.stdout.write(g.decode())`,
      [plain],
    );
    expect(back).toBe("PROXY TCP4 198.51.100.9 10.0.0.1 40000 80\r\nhello\n");
  });

  test("pretty log: the start-up report says a header is required; the open line names the client, the destination, the load balancer and the header; the close line the client", async () => {
    const proc = Bun.spawn([...SOURCE_CLI, "serve", "--port", "0", "--proxy-protocol", "v1", "--log-format", "pretty"], { stdin: "ignore", stdout: "ignore", stderr: "pipe", env: { ...process.env, NO_COLOR: "1" } });
    try {
      const lines: string[] = [];
      const reader = pumpLines(proc.stderr, (l) => lines.push(l));
      const until = async (re: RegExp) => {
        for (let i = 0; i < 300; i++) {
          const hit = lines.find((l) => re.test(l));
          if (hit) return hit;
          await Bun.sleep(20);
        }
        throw new Error(`no line matching ${re}: ${lines.join("\n")}`);
      };
      const port = Number((await until(/listening on 127\.0\.0\.1:\d+/)).match(/127\.0\.0\.1:(\d+)/)![1]);
      expect(await until(/PROXY protocol:/)).toEndWith("  PROXY protocol: each connection must begin with a v1 header, complete within 3 s; --allow, --deny and --max-per-ip judge the client the header names");
      const [r] = JSON.parse(await python(SEND, [port])) as { back: string; me: string }[];
      expect(r!.back).toBe("hello\n");
      expect(await until(/ open /)).toEndWith(`[#1 198.51.100.9:40000] open 198.51.100.9:40000 -> 10.0.0.1:80 via ${r!.me} (PROXY v1)`);
      expect(await until(/ close /)).toMatch(/\[#1 198\.51\.100\.9:40000\] close peer-closed: in 6 B, out 6 B, /);
      proc.kill("SIGTERM");
      await Promise.all([proc.exited, reader]);
    } finally {
      if (proc.exitCode === null) proc.kill("SIGKILL");
    }
  });
});
