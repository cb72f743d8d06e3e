import { describe, expect, test } from "bun:test";
import { spawnServer } from "./helpers/process.ts";
import { connect } from "./helpers/client.ts";

describe("every signal has a deliberate answer", () => {
  test("SIGHUP logs that there is nothing to reload, SIGUSR1 logs a stats line, SIGUSR2 is ignored; the server keeps serving", async () => {
    await using p = await spawnServer([]);
    const c = await connect(p.port);
    await c.writeAll(new TextEncoder().encode("abc"));
    await c.waitBytes(3);
    p.proc.kill("SIGHUP");
    expect(await p.log.waitFor((e) => e.event === "reload")).toMatchObject({ level: "info" });
    p.proc.kill("SIGUSR1");
    expect(await p.log.waitFor((e) => e.event === "stats")).toMatchObject({ open: 1, accepted: 1, bytes_in: 3, bytes_out: 3 });
    p.proc.kill("SIGUSR2");
    await c.writeAll(new TextEncoder().encode("def"));
    await c.waitBytes(6);
    expect(p.proc.exitCode).toBeNull();
    c.socket.end();
    p.proc.kill("SIGTERM");
    expect(await p.exited).toBe(0);
  });

  test("SIGQUIT is a graceful stop: the open connection gets our FIN, exit 0", async () => {
    await using p = await spawnServer(["--timeout", "0"]);
    const c = await connect(p.port);
    await p.log.waitFor((e) => e.event === "open");
    p.proc.kill("SIGQUIT");
    expect(await p.log.waitFor((e) => e.event === "signal")).toMatchObject({ signal: "SIGQUIT" });
    await c.ended;
    c.socket.end();
    expect(await p.exited).toBe(0);
    expect(p.log.of("stopped")).toHaveLength(1);
  });

  test("with --workers, SIGHUP reaches the supervisor and is passed on; SIGUSR1 logs the counters of all workers", async () => {
    await using p = await spawnServer(["--workers", "2"]);
    for (const w of [1, 2]) await p.log.waitFor((e) => e.event === "worker-ready" && e.worker === w);
    for (let i = 0; i < 4; i++) {
      const c = await connect(p.port);
      await c.writeAll(new TextEncoder().encode("xy"));
      await c.waitBytes(2);
      c.socket.end();
      await c.closed;
    }
    p.proc.kill("SIGHUP");
    expect(await p.log.waitFor((e) => e.event === "reload")).toMatchObject({ level: "info" });
    p.proc.kill("SIGUSR1");
    expect(await p.log.waitFor((e) => e.event === "stats" && e.accepted === 4)).toMatchObject({ bytes_in: 8 });
    expect(p.log.of("worker-exit")).toEqual([]);
    p.proc.kill("SIGTERM");
    expect(await p.exited).toBe(0);
  });
});
