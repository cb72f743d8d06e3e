// Several listeners in one process, each with its own profile; IPv6 and dual-stack; the CLI's
// --listen and [[listener]] tables; socket activation with named sockets, with and without workers.
import { describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "citty";
import { compileStruct } from "../src/protocol/struct/index.ts";
import { connect } from "./helpers/client.ts";
import { python } from "./helpers/python.ts";
import { SOURCE_CLI, runCli } from "./helpers/process.ts";
import { parsePrometheus, total } from "./helpers/prometheus.ts";
import { LogCapture, serveListeners } from "./helpers/server.ts";
import { serveSettings, usage } from "./helpers/settings.ts";

const listeners = (argv: string[], env: Record<string, string> = {}) => serveSettings(argv, env).listeners;
const dir = mkdtempSync(join(tmpdir(), "tcp-echo-listeners-"));

describe("--listen and [[listener]]: which listeners, with which profile", () => {
  test("no --listen: one listener named main on --host:--port", () => {
    expect(listeners(["--host", "::1", "--port", "7"]).map((l) => [l.name, l.host, l.port])).toEqual([["main", "::1", 7]]);
  });

  test("every form of ADDR:PORT, names given or numbered", () => {
    const ls = listeners(["--listen", "127.0.0.1:9999", "--listen", "[::1]:9998", "--listen", "admin=[::]:9000", "--listen", ":9001", "--listen", "0.0.0.0:0"]);
    expect(ls.map((l) => [l.name, l.host, l.port])).toEqual([
      ["main", "127.0.0.1", 9999],
      ["listen2", "::1", 9998],
      ["admin", "::", 9000],
      ["listen4", "::", 9001],
      ["listen5", "0.0.0.0", 0],
    ]);
    expect(listeners([], { TCP_ECHO_LISTEN: "a=127.0.0.1:1,b=[::1]:2" }).map((l) => l.name)).toEqual(["a", "b"]);
  });

  test("flags apply to every listener; a [[listener]] table overrides them for itself", () => {
    const path = join(dir, "two.toml");
    writeFileSync(path, `timeout = 9\n[[listener]]\nname = "fast"\nlisten = "127.0.0.1:0"\ntimeout = "1s"\nrecord = "!I"\n\n[[listener]]\nname = "slow"\nlisten = "[::1]:0"\n`);
    const ls = listeners(["--config", path, "--max-buffer", "64k"]);
    expect(ls.map((l) => ({ name: l.name, timeout: l.timeout, maxBuffer: l.maxBuffer, record: l.record?.codec.format ?? null }))).toEqual([
      { name: "fast", timeout: 1, maxBuffer: 65536, record: "!I" },
      { name: "slow", timeout: 9, maxBuffer: 65536, record: null },
    ]);
  });

  const bad: [string[], string][] = [
    [["--listen", "[::1:99"], `--listen: "[::1:99" is not [NAME=]ADDR:PORT (like 127.0.0.1:9999, [::1]:9999, :9999, admin=0.0.0.0:9000)`],
    [["--listen", "::1:99"], `--listen: "::1:99" is not [NAME=]ADDR:PORT (like 127.0.0.1:9999, [::1]:9999, :9999, admin=0.0.0.0:9000)`],
    [["--listen", "127.0.0.1"], `--listen: "127.0.0.1" is not [NAME=]ADDR:PORT (like 127.0.0.1:9999, [::1]:9999, :9999, admin=0.0.0.0:9000)`],
    [["--listen", "300.1.1.1:5"], `--listen: "300.1.1.1:5" is not [NAME=]ADDR:PORT (like 127.0.0.1:9999, [::1]:9999, :9999, admin=0.0.0.0:9000): "300.1.1.1" is not an IPv4 address (IPv6 goes in brackets)`],
    [["--listen", "127.0.0.1:70000"], `--listen: "70000" is not a port in 0..65535`],
    [["--listen", "a=127.0.0.1:1", "--listen", "a=[::1]:2"], `--listen: two listeners are named "a"`],
    [["--listen", "127.0.0.1:5", "--listen", "x=127.0.0.1:5"], `--listen: 127.0.0.1:5 is given twice (listeners "main" and "x")`],
    [["--listen", "127.0.0.1:5", "--port", "6"], "--port describes the default listener; with --listen or [[listener]] give every address there"],
    [["--listen", "127.0.0.1:5", "--ipv6-only"], `--ipv6-only: listener "main" is IPv4 (127.0.0.1:5); IPV6_V6ONLY applies to IPv6 listeners`],
    [["--deny", "::1/64"], `--deny: "::1/64" is not an IPv4 or IPv6 network (like 10.0.0.0/8, 127.0.0.1, 2001:db8::/32 or ::1; host bits must be zero)`],
  ];
  for (const [argv, message] of bad) test(`refused: ${argv.join(" ")}`, () => expect(usage(() => listeners(argv))).toBe(message));

  test("a [[listener]] table with an unknown key or no listen is named with the file", () => {
    const a = join(dir, "bad1.toml");
    writeFileSync(a, `[[listener]]\nname = "x"\nlisten = "127.0.0.1:0"\nmetrics = "127.0.0.1:1"\n`);
    expect(usage(() => listeners(["--config", a]))).toStartWith(`${a}: listener[1]: unknown key "metrics" (a listener takes name, listen and `);
    const b = join(dir, "bad2.toml");
    writeFileSync(b, `[[listener]]\nname = "x"\ntimeout = 3\n`);
    expect(usage(() => listeners(["--config", b]))).toBe(`${b}: listener[1]: needs listen = "ADDR:PORT"`);
    const c = join(dir, "bad3.toml");
    writeFileSync(c, `[[listener]]\nlisten = "127.0.0.1:0"\ntimeout = "forever"\n`);
    expect(usage(() => listeners(["--config", c]))).toBe(`${c}: listener[1]: timeout: "forever" is not a duration (like 5.5, 5.5s, 500ms, 2m, 1h) in 0..2147483.647 s`);
  });

  test("socket activation: sockets are matched to listeners by name", () => {
    const env = { LISTEN_PID: String(process.pid), LISTEN_FDS: "2", LISTEN_FDNAMES: "admin:main" };
    const ls = listeners(["--listen", "main=127.0.0.1:1", "--listen", "admin=127.0.0.1:2"], env);
    expect(ls.map((l) => [l.name, l.listenFd])).toEqual([
      ["main", 4],
      ["admin", 3],
    ]);
    expect(listeners([], { LISTEN_PID: String(process.pid), LISTEN_FDS: "1", LISTEN_FDNAMES: "tcp-echo.socket" }).map((l) => l.listenFd)).toEqual([3]);
    expect(usage(() => listeners(["--listen", "a=127.0.0.1:1"], { ...env, LISTEN_FDNAMES: "x:y" }))).toStartWith(`LISTEN_FDNAMES: systemd passed "x" (fd 3), "y" (fd 4), which no listener is named for (listeners: a)`);
  });
});

/** python3 connects over `family` to host:port, sends, reads the echo, half-closes, reads to EOF. */
const ECHO = String.raw`
import socket, sys
host, port = sys.argv[1], int(sys.argv[2])
s = socket.create_connection((host, port), timeout=5)
s.sendall(b"x" * 1000); s.shutdown(socket.SHUT_WR)
got = b""
while True:
    d = s.recv(65536)
    if not d: break
    got += d
print(s.getsockname()[0], len(got))
`;

describe("IPv6 and dual-stack listeners", () => {
  test("[::1] serves IPv6; [::] serves IPv4 peers as their IPv4 address (unmapped), and --deny 127.0.0.0/8 refuses them", async () => {
    await using s = serveListeners([{ name: "v6", host: "::1" }, { name: "any", host: "::", access: { allow: null, deny: [], maxPerIp: 0, perIpPrefix6: 64 } }]);
    const [v6, any] = s.handle.listeners;
    expect(v6!.address).toMatchObject({ family: 6, host: "::1" });
    expect((await python(ECHO, ["::1", v6!.address.port])).trim()).toBe("::1 1000");
    expect((await python(ECHO, ["127.0.0.1", any!.address.port])).trim()).toBe("127.0.0.1 1000");
    expect((await python(ECHO, ["::1", any!.address.port])).trim()).toBe("::1 1000");
    const peers = s.log.of("open").map((e) => [e.listener, String(e.peer).replace(/:\d+$/, "")]);
    expect(peers).toEqual([
      ["v6", "[::1]"],
      ["any", "127.0.0.1"],
      ["any", "[::1]"],
    ]);
    // Tags name the listener when there are several.
    expect(String(s.log.of("open")[1]!.msg)).toMatch(/^\[#1@any 127\.0\.0\.1:\d+\] open$/);
    const report = s.log.events.filter((e) => e.event === "option" && e.option === "IPV6_V6ONLY");
    // Linux sets IPV6_V6ONLY itself on a socket bound to a specific IPv6 address; the report says so.
    expect(report.map((e) => [e.listener, e.effective])).toEqual([
      ["v6", true],
      ["any", false],
    ]);
    expect(report[0]!.note).toBe("set by the kernel: a specific IPv6 address takes no IPv4 peers");
  });

  test("--deny 127.0.0.0/8 on a dual-stack listener refuses ::ffff:127.0.0.1; IPv6 peers are judged by IPv6 rules", async () => {
    const { parseCidr } = await import("../src/server/index.ts");
    await using s = serveListeners([{ host: "::", access: { allow: null, deny: [parseCidr("127.0.0.0/8")!], maxPerIp: 0, perIpPrefix6: 64 } }]);
    await expect(python(ECHO, ["127.0.0.1", s.port])).rejects.toThrow();
    expect((await python(ECHO, ["::1", s.port])).trim()).toBe("::1 1000");
    expect(await s.log.waitFor((e) => e.event === "denied")).toMatchObject({ rule: "--deny 127.0.0.0/8", peer: expect.stringMatching(/^127\.0\.0\.1:/) });
  });

  test("--ipv6-only: [::] refuses IPv4 peers (nothing listens for them) and the kernel says so", async () => {
    await using s = serveListeners([{ host: "::", ipv6Only: true }]);
    expect(s.log.events.find((e) => e.option === "IPV6_V6ONLY")).toMatchObject({ asked: true, effective: true });
    // A v6-only socket leaves the IPv4 port free (that is the point), so a test running beside this
    // one may listen on 127.0.0.1 at the same port number (CI once saw it): the connection then
    // reaches that listener, and what must hold is that it did not reach ours.
    const v4 = await python(ECHO, ["127.0.0.1", s.port]).then(
      () => "connected",
      (e: Error) => e.message,
    );
    expect((await python(ECHO, ["::1", s.port])).trim()).toBe("::1 1000");
    await s.log.waitFor((e) => e.event === "open");
    const opens = s.log.events.filter((e) => e.event === "open").map((e) => String(e.peer));
    expect(opens.filter((p) => !p.startsWith("[::1]:"))).toEqual([]);
    if (v4 !== "connected") expect(v4).toMatch(/ConnectionRefused/);
  });
});

describe("two listeners, two profiles, at the same time", () => {
  test("--timeout 1 on one and 30 on the other, --record on the second: each behaves as its profile says; metrics name them", async () => {
    await using s = serveListeners([
      { name: "short", timeout: 1 },
      { name: "long", timeout: 30, record: { codec: compileStruct("!H"), mode: "interleaved" } },
    ]);
    const [short, long] = s.handle.listeners;
    const a = await connect(short!.address.port);
    const b = await connect(long!.address.port);
    // The record listener echoes the line and keeps the 2-byte record after it.
    await b.writeAll(new Uint8Array([...new TextEncoder().encode("hi\n"), 0x01, 0x02]));
    await b.waitBytes(3);
    const endA = await a.ended;
    expect(s.log.of("timeout").map((e) => e.listener ?? e.conn)).toHaveLength(1);
    expect(await s.log.waitFor((e) => e.event === "close")).toMatchObject({ listener: "short", reason: "idle-timeout" });
    expect(await s.log.waitFor((e) => e.event === "record")).toMatchObject({ repr: "(258,)" });
    // The other one is still open well past the first one's timeout.
    await Bun.sleep(300);
    expect(b.receivedBytes).toBe(3);
    expect(s.handle.stats().open).toBe(1);
    void endA;
    const { renderMetrics } = await import("../src/ops/index.ts");
    const fam = parsePrometheus(renderMetrics({ stats: s.handle.stats(), processes: [], workers: null }, true));
    expect(total(fam, "tcp_echo_connections_accepted_total", { listener: "short" })).toBe(1);
    expect(total(fam, "tcp_echo_connections_open", { listener: "long" })).toBe(1);
    expect(total(fam, "tcp_echo_connections_closed_total", { listener: "short", reason: "idle-timeout" })).toBe(1);
    expect(total(fam, "tcp_echo_received_bytes_total", { listener: "long" })).toBe(5);
    b.socket.end();
  });

  test("two listeners on one address: the second one's bind fails, named, exit 1", async () => {
    await using first = serveListeners([{ reusePort: false }]);
    const r = await runCli(["serve", "--listen", "a=127.0.0.1:0", "--listen", `b=127.0.0.1:${first.port}`, "--no-reuse-port"]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe(`tcp-echo: listener "b": bind 127.0.0.1:${first.port} failed: EADDRINUSE: Address already in use`);
  });
});

const activate = "/usr/bin/systemd-socket-activate";

describe.skipIf(!existsSync(activate))("socket activation with two named sockets (systemd-socket-activate)", () => {
  async function freePorts(n: number): Promise<number[]> {
    const out = await python(`import socket\nss=[socket.socket() for _ in range(${n})]\nfor s in ss: s.bind(("127.0.0.1",0))\nprint(" ".join(str(s.getsockname()[1]) for s in ss))`);
    return out.trim().split(" ").map(Number);
  }

  for (const workers of [1, 2]) {
    test(`each named socket is served by its listener${workers > 1 ? ", with --workers 2" : ""}`, async () => {
      const [p1, p2] = await freePorts(2);
      const proc = Bun.spawn(
        [activate, "-l", `127.0.0.1:${p1}`, "-l", `127.0.0.1:${p2}`, "--fdname", "main:admin", ...SOURCE_CLI, "serve", "--log-format", "json", "--workers", String(workers), "--listen", "main=127.0.0.1:1", "--listen", "admin=127.0.0.1:2", "--timeout", "0"],
        { stderr: "pipe", stdout: "ignore" },
      );
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
      try {
        // systemd-socket-activate starts the server on the first connection, like a .socket unit.
        let out = "";
        for (let i = 0; i < 50 && !out; i++) {
          try {
            out = await python(ECHO, ["127.0.0.1", p1!]);
          } catch {
            await Bun.sleep(100);
          }
        }
        expect(out.trim()).toBe("127.0.0.1 1000");
        expect((await python(ECHO, ["127.0.0.1", p2!])).trim()).toBe("127.0.0.1 1000");
        const opens = await log.waitFor(() => log.of("open").length >= 2);
        void opens;
        expect(log.of("open").map((e) => e.listener).sort()).toEqual(["admin", "main"]);
        // The start-up report may come after the first echoes: a worker answers once it listens.
        await log.waitFor(() => log.of("listening").length >= 2);
        const listening = log.of("listening").map((e) => [e.listener, e.port]);
        expect(listening).toEqual([
          ["main", p1],
          ["admin", p2],
        ]);
        if (workers > 1) expect(new Set(log.of("worker-ready").map((e) => e.worker))).toEqual(new Set([1, 2]));
        proc.kill("SIGTERM");
        expect(await proc.exited).toBe(0);
      } finally {
        proc.kill("SIGKILL");
      }
    }, 30_000);
  }
});

void parseArgs;
