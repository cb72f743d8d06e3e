import { describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { connect } from "./helpers/client.ts";
import { SOURCE_CLI, spawnServer, type ServerProcess } from "./helpers/process.ts";
import { parsePrometheus, sample } from "./helpers/prometheus.ts";
import { python } from "./helpers/python.ts";
import { LogCapture } from "./helpers/server.ts";

async function allListening(p: ServerProcess, n: number): Promise<void> {
  for (let w = 1; w <= n; w++) await p.log.waitFor((e) => e.event === "listening" && e.worker === w);
}

describe("--workers: a supervisor and worker processes sharing the port", () => {
  test("connections are spread over the workers, and SIGTERM drains every one of them", async () => {
    await using p = await spawnServer(["--workers", "2", "--timeout", "0"]);
    await allListening(p, 2);
    const clients = [];
    for (let i = 0; i < 30; i++) clients.push(await connect(p.port));
    for (const c of clients) await c.writeAll(new TextEncoder().encode("ping"));
    for (const c of clients) await c.waitBytes(4);
    await p.log.waitFor(() => p.log.of("open").length >= 30);
    const workers = new Set(p.log.of("open").map((e) => e.worker));
    expect([...workers].sort()).toEqual([1, 2]);
    p.proc.kill("SIGTERM");
    // Every client gets its FIN (the drain), closes, and the supervisor exits 0.
    await Promise.all(clients.map((c) => c.ended));
    for (const c of clients) c.socket.end();
    expect(await p.exited).toBe(0);
    expect(p.log.of("close").every((e) => e.reason === "shutdown")).toBe(true);
    expect(p.log.of("worker-exit").map((e) => e.code)).toEqual([0, 0]);
  });

  test("a killed worker is restarted with a growing back-off, and service goes on", async () => {
    await using p = await spawnServer(["--workers", "2"]);
    await allListening(p, 2);
    const victim = p.log.of("worker-start").find((e) => e.worker === 1)!.pid as number;
    process.kill(victim, "SIGKILL");
    const died = await p.log.waitFor((e) => e.event === "worker-exit" && e.pid === victim);
    expect(died).toMatchObject({ level: "warn", worker: 1, signal: "SIGKILL", restart_in_ms: 250 });
    const reborn = await p.log.waitFor((e) => e.event === "worker-start" && e.worker === 1 && e.pid !== victim);
    await p.log.waitFor((e) => e.event === "listening" && e.worker === 1 && p.log.of("listening").length >= 3);
    // Killed again at once: the back-off doubles.
    process.kill(reborn.pid as number, "SIGKILL");
    expect(await p.log.waitFor((e) => e.event === "worker-exit" && e.pid === reborn.pid)).toMatchObject({ restart_in_ms: 500 });
    const out = await python(`import socket,sys\ns=socket.create_connection(("127.0.0.1",int(sys.argv[1])))\ns.sendall(b"ok")\nprint(s.recv(2))`, [p.port]);
    expect(out.trim()).toBe("b'ok'");
    p.proc.kill("SIGTERM");
    expect(await p.exited).toBe(0);
  });

  test("metrics and stats cover all workers together", async () => {
    await using p = await spawnServer(["--workers", "2", "--metrics", "127.0.0.1:0"]);
    await allListening(p, 2);
    const m = await p.log.waitFor((e) => e.event === "metrics");
    for (let i = 0; i < 12; i++) {
      const c = await connect(p.port);
      await c.writeAll(new TextEncoder().encode("12345"));
      await c.waitBytes(5);
      c.socket.end();
      await c.closed;
    }
    await Bun.sleep(100);
    const fam = parsePrometheus(await (await fetch(`http://127.0.0.1:${m.port}/metrics`)).text());
    expect(sample(fam, "tcp_echo_connections_accepted_total")).toBe(12);
    expect(sample(fam, "tcp_echo_received_bytes_total")).toBe(60);
    expect(sample(fam, "tcp_echo_worker_processes")).toBe(2);
    expect(new Set(p.log.of("open").map((e) => e.worker)).size).toBe(2);
    p.proc.kill("SIGTERM");
    expect(await p.exited).toBe(0);
  });

  test("a worker that cannot start stops the supervisor with its exit code", async () => {
    await using first = await spawnServer(["--no-reuse-port"]);
    const proc = Bun.spawn([...SOURCE_CLI, "serve", "--port", String(first.port), "--workers", "2", "--log-format", "json"], { stderr: "pipe", stdout: "ignore" });
    expect(await proc.exited).toBe(1);
    const err = await new Response(proc.stderr).text();
    expect(err).toContain("EADDRINUSE");
  });

  test("--workers with --no-reuse-port is bad input", async () => {
    const proc = Bun.spawn([...SOURCE_CLI, "serve", "--workers", "2", "--no-reuse-port"], { stderr: "pipe" });
    expect(await proc.exited).toBe(2);
    expect((await new Response(proc.stderr).text()).trim()).toBe("tcp-echo: --workers 2 needs SO_REUSEPORT: drop --no-reuse-port (see tcp-echo --help)");
  });
});

const activate = "/usr/bin/systemd-socket-activate";

describe.skipIf(!existsSync(activate))("socket activation (systemd-socket-activate)", () => {
  test("adopts the inherited listener (fd 3), keeps its backlog unless told, says so, and serves", async () => {
    const port = Number((await python(`import socket\ns=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])`)).trim());
    const proc = Bun.spawn([activate, "-l", `127.0.0.1:${port}`, ...SOURCE_CLI, "serve", "--log-format", "json", "--backlog", "50"], { stderr: "pipe", stdout: "ignore" });
    try {
      const log = new LogCapture();
      void (async () => {
        let buf = "";
        for await (const chunk of proc.stderr.pipeThrough(new TextDecoderStream())) {
          buf += chunk;
          for (let nl; (nl = buf.indexOf("\n")) >= 0; buf = buf.slice(nl + 1)) {
            const line = buf.slice(0, nl);
            if (line.startsWith("{")) log.write(line);
          }
        }
      })();
      // systemd-socket-activate starts the server on the first connection, like a .socket unit.
      let out = "";
      for (let i = 0; i < 50 && !out; i++) {
        try {
          out = await python(`import socket,sys\ns=socket.create_connection(("127.0.0.1",int(sys.argv[1])))\ns.sendall(b"sd")\nprint(s.recv(2))`, [port]);
        } catch {
          await Bun.sleep(100);
        }
      }
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
