// systemd socket activation (sd_listen_fds(3)) with systemd-socket-activate standing in for a
// .socket unit: it listens, and starts tcp-echo with the listening socket as fd 3 on the first
// connection.
import { describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { SOURCE_CLI } from "./helpers/process.ts";
import { python } from "./helpers/python.ts";
import { LogCapture } from "./helpers/server.ts";

const activate = "/usr/bin/systemd-socket-activate";

/** Lines of a stream, one callback each. */
async function pumpLines(stream: ReadableStream<Uint8Array>, onLine: (line: string) => void): Promise<void> {
  const decoder = new TextDecoder();
  let buf = "";
  for await (const chunk of stream) {
    buf += decoder.decode(chunk, { stream: true });
    for (let nl; (nl = buf.indexOf("\n")) >= 0; buf = buf.slice(nl + 1)) onLine(buf.slice(0, nl));
  }
}

/**
 * systemd-socket-activate listening on a port python found free. It takes no port 0, so the port
 * may be taken between python's check and its bind: it then exits with "Address already in use",
 * and another port is tried. Once it says it listens, the port is its own.
 */
async function activated(args: string[]) {
  for (let attempt = 1; ; attempt++) {
    const port = Number((await python(`import socket\ns=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])`)).trim());
    const proc = Bun.spawn([activate, "-l", `127.0.0.1:${port}`, ...SOURCE_CLI, "serve", "--log-format", "json", ...args], { stderr: "pipe", stdout: "ignore" });
    const log = new LogCapture();
    const listening = Promise.withResolvers<boolean>();
    const other: string[] = [];
    const pumped = pumpLines(proc.stderr, (line) => {
      if (line.startsWith("{")) log.write(line);
      else if (line === `Listening on 127.0.0.1:${port} as 3.`) listening.resolve(true);
      else other.push(line);
    });
    void pumped.then(() => listening.resolve(false));
    if (await listening.promise) return { proc, port, log };
    await proc.exited;
    if (attempt === 5 || !other.some((l) => l.includes("Address already in use"))) throw new Error(`systemd-socket-activate did not listen: ${other.join("\n")}`);
  }
}

describe.skipIf(!existsSync(activate))("socket activation (systemd-socket-activate)", () => {
  test("adopts the inherited listener (fd 3), keeps its backlog unless told, says so, and serves", async () => {
    const { proc, port, log } = await activated(["--backlog", "50"]);
    try {
      const out = await python(`import socket,sys\ns=socket.create_connection(("127.0.0.1",int(sys.argv[1])))\ns.sendall(b"sd")\nprint(s.recv(2))`, [port]);
      expect(out.trim()).toBe("b'sd'");
      expect(await log.waitFor((e) => e.event === "activation")).toMatchObject({ fd: 3 });
      expect(await log.waitFor((e) => e.event === "listening")).toMatchObject({ port });
      expect(await log.waitFor((e) => e.event === "option" && e.option === "backlog")).toMatchObject({ asked: 50, effective: 50 });
      proc.kill("SIGTERM");
      expect(await proc.exited).toBe(0);
    } finally {
      proc.kill("SIGKILL");
    }
  });
});
