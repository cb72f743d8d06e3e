import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { serve } from "./helpers/server.ts";
import { connect } from "./helpers/client.ts";

const procInt = (p: string) => Number(readFileSync(p, "utf8").trim());

/** The listener's Send-Q as `ss -ltn` prints it: the accept queue limit the kernel applied. */
function ssBacklog(port: number): number {
  const out = Bun.spawnSync(["ss", "-Hltn", `sport = :${port}`]).stdout.toString().trim();
  const cols = out.split(/\s+/);
  return Number(cols[2]);
}

describe("socket options are set through libc and read back from the kernel", () => {
  test("ss -ltn shows the asked backlog (Bun's own listen(511) is overridden)", async () => {
    await using s = serve({ backlog: 77 });
    expect(ssBacklog(s.port)).toBe(77);
    const r = s.log.events.find((e) => e.event === "option" && e.option === "backlog");
    expect(r).toMatchObject({ asked: 77, effective: 77 });
  });

  test("the default backlog is somaxconn, and a larger one is reported as capped", async () => {
    const somaxconn = procInt("/proc/sys/net/core/somaxconn");
    await using s = serve();
    expect(ssBacklog(s.port)).toBe(somaxconn);
    await using big = serve({ backlog: somaxconn + 1000 });
    expect(ssBacklog(big.port)).toBe(somaxconn);
    const r = big.log.events.find((e) => e.event === "option" && e.option === "backlog");
    expect(r).toMatchObject({ asked: somaxconn + 1000, effective: somaxconn, note: `capped at somaxconn ${somaxconn}` });
  });

  test("buffer sizes: the kernel doubles them, and accepted sockets inherit them", async () => {
    await using s = serve({ recvBuf: 64 * 1024, sendBuf: 48 * 1024 }, "debug");
    const rcv = s.log.events.find((e) => e.event === "option" && e.option === "SO_RCVBUF");
    const snd = s.log.events.find((e) => e.event === "option" && e.option === "SO_SNDBUF");
    expect(rcv).toMatchObject({ asked: 65536, effective: 131072 });
    expect(snd).toMatchObject({ asked: 49152, effective: 98304 });
    const c = await connect(s.port);
    const opts = await s.log.waitFor((e) => e.event === "options");
    expect(opts).toMatchObject({ recv_buf: 131072, send_buf: 98304 });
    c.socket.end();
  });

  test("a buffer above rmem_max is capped before doubling, and the report says so", async () => {
    const rmemMax = procInt("/proc/sys/net/core/rmem_max");
    await using s = serve({ recvBuf: rmemMax * 4 });
    const rcv = s.log.events.find((e) => e.event === "option" && e.option === "SO_RCVBUF");
    expect(rcv).toMatchObject({ asked: rmemMax * 4, effective: rmemMax * 2 });
    expect(String(rcv!.note)).toContain(`capping it at rmem_max ${rmemMax}`);
  });

  test("TCP_QUICKACK is reported as not readable, never with a value taken from the config", async () => {
    for (const quickack of ["auto", "always", "off"] as const) {
      await using s = serve({ quickack });
      const r = s.log.events.find((e) => e.event === "option" && e.option === "TCP_QUICKACK");
      expect(r).toMatchObject({ asked: quickack, effective: null, unreadable: "getsockopt reports the current ack mode, not a setting" });
      expect(r!.msg).toContain("kernel not readable");
    }
  });

  test("TCP_NODELAY in the report is the listener's own value, read back", async () => {
    for (const nodelay of [true, false]) {
      await using s = serve({ nodelay });
      const r = s.log.events.find((e) => e.event === "option" && e.option === "TCP_NODELAY");
      expect(r).toMatchObject({ asked: nodelay, effective: nodelay, unreadable: null });
    }
  });

  test("--no-nodelay clears TCP_NODELAY on accepted sockets (Bun sets it by default)", async () => {
    await using on = serve({}, "debug");
    const a = await connect(on.port);
    expect(await on.log.waitFor((e) => e.event === "options")).toMatchObject({ nodelay: true });
    a.socket.end();
    await using off = serve({ nodelay: false }, "debug");
    const b = await connect(off.port);
    expect(await off.log.waitFor((e) => e.event === "options")).toMatchObject({ nodelay: false });
    b.socket.end();
  });

  test("keep-alive values are applied to the listener and inherited by accepted sockets", async () => {
    await using s = serve({ keepalive: { idle: 42, interval: 7, count: 3 } }, "debug");
    const opt = (name: string) => s.log.events.find((e) => e.event === "option" && e.option === name);
    expect(opt("SO_KEEPALIVE")).toMatchObject({ asked: true, effective: true });
    expect(opt("TCP_KEEPIDLE")).toMatchObject({ asked: 42, effective: 42 });
    expect(opt("TCP_KEEPINTVL")).toMatchObject({ asked: 7, effective: 7 });
    expect(opt("TCP_KEEPCNT")).toMatchObject({ asked: 3, effective: 3 });
    const c = await connect(s.port);
    expect(await s.log.waitFor((e) => e.event === "options")).toMatchObject({ keepalive: true });
    c.socket.end();
  });

  test("SO_REUSEPORT lets two servers share a port; --no-reuse-port does not", async () => {
    await using a = serve();
    await using b = serve({ port: a.port });
    expect(b.port).toBe(a.port);
    await using c = serve({ reusePort: false });
    expect(() => serve({ port: c.port, reusePort: false })).toThrow(/EADDRINUSE/);
  });

  test("the start-up report gives the kernel limits, with the max connect timeout from tcp_synack_retries", async () => {
    await using s = serve();
    const k = s.log.events.find((e) => e.event === "kernel")!;
    const retries = procInt("/proc/sys/net/ipv4/tcp_synack_retries");
    expect(k).toMatchObject({
      somaxconn: procInt("/proc/sys/net/core/somaxconn"),
      syn_backlog: procInt("/proc/sys/net/ipv4/tcp_max_syn_backlog"),
      rmem_max: procInt("/proc/sys/net/core/rmem_max"),
      wmem_max: procInt("/proc/sys/net/core/wmem_max"),
      synack_retries: retries,
      max_connect_timeout: 2 ** (retries + 1) - 1,
    });
  });
});

describe("synackTimeout", () => {
  test("5 retries give 1+2+4+8+16+32 = 63 s (RFC 6298 doubling from 1 s)", async () => {
    const { synackTimeout } = await import("../src/net/kernel.ts");
    expect([0, 1, 2, 5, 6].map(synackTimeout)).toEqual([1, 3, 7, 63, 127]);
  });
});
