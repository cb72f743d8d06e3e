// --workers in service: connections spread over the workers, drained on SIGTERM, counted together,
// a killed worker replaced. Failures at start-up and hung workers: workers-failures.test.ts.
import { describe, expect, test } from "bun:test";
import { connect } from "./helpers/client.ts";
import { spawnServer, type ServerProcess } from "./helpers/process.ts";
import { parsePrometheus, sample, total } from "./helpers/prometheus.ts";
import { python } from "./helpers/python.ts";
import { until } from "./helpers/wait.ts";

async function allListening(p: ServerProcess, n: number): Promise<void> {
  for (let w = 1; w <= n; w++) await p.log.waitFor((e) => e.event === "worker-ready" && e.worker === w);
}

describe.concurrent("--workers: a supervisor and worker processes sharing the port", () => {
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
    await p.log.waitFor((e) => e.event === "worker-ready" && e.worker === 1 && p.log.of("worker-ready").length >= 3);
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
    // Each worker counts a connection before it logs its close line.
    await until(() => p.log.of("close").length >= 12, "12 closes are logged");
    const fam = parsePrometheus(await (await fetch(`http://127.0.0.1:${m.port}/metrics`)).text());
    expect(total(fam, "tcp_echo_connections_accepted_total")).toBe(12);
    expect(total(fam, "tcp_echo_received_bytes_total")).toBe(60);
    expect(sample(fam, "tcp_echo_worker_processes")).toBe(2);
    expect(new Set(p.log.of("open").map((e) => e.worker)).size).toBe(2);
    p.proc.kill("SIGTERM");
    expect(await p.exited).toBe(0);
  });

  test("counters never go backwards when a worker is killed and replaced", async () => {
    await using p = await spawnServer(["--workers", "2", "--metrics", "127.0.0.1:0"]);
    await allListening(p, 2);
    const m = await p.log.waitFor((e) => e.event === "metrics");
    const scrape = async () => parsePrometheus(await (await fetch(`http://127.0.0.1:${m.port}/metrics`)).text());
    for (let i = 0; i < 20; i++) {
      const c = await connect(p.port);
      await c.writeAll(new TextEncoder().encode("0123456789"));
      await c.waitBytes(10);
      c.socket.end();
      await c.closed;
    }
    await until(() => p.log.of("close").length >= 20, "20 closes are logged");
    const before = await scrape();
    expect(total(before, "tcp_echo_connections_accepted_total")).toBe(20);
    expect(new Set(p.log.of("open").map((e) => e.worker)).size).toBe(2);
    const victim = p.log.of("worker-start").find((e) => e.worker === 2)!.pid as number;
    process.kill(victim, "SIGKILL");
    await p.log.waitFor((e) => e.event === "worker-exit" && e.pid === victim);
    // Until the replacement listens (250 ms back-off, then its start-up) only worker 1 answers:
    // the victim's CPU time must still be in the sum, which is a counter.
    const between = await scrape();
    await p.log.waitFor((e) => e.event === "worker-ready" && e.worker === 2 && e.pid !== victim);
    const after = await scrape();
    for (const name of ["tcp_echo_connections_accepted_total", "tcp_echo_received_bytes_total", "tcp_echo_sent_bytes_total", "tcp_echo_connection_duration_seconds_count"]) {
      expect({ name, value: total(between, name) }).toEqual({ name, value: total(before, name) });
      expect({ name, value: total(after, name) }).toEqual({ name, value: total(before, name) });
    }
    const cpu = (m: typeof before) => sample(m, "process_cpu_seconds_total");
    expect(cpu(between)).toBeGreaterThanOrEqual(cpu(before));
    expect(cpu(after)).toBeGreaterThanOrEqual(cpu(between));
    expect(total(after, "tcp_echo_connections_closed_total", { reason: "peer-closed" })).toBe(20);
    p.proc.kill("SIGTERM");
    expect(await p.exited).toBe(0);
  });
});
