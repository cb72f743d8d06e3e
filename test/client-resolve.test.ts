// The client's host: IPv6 addresses, names resolved by the system resolver (checked against
// getent(1), glibc's own view of /etc/hosts and DNS), and a name's addresses tried in order. A
// name resolving to [unreachable, reachable] cannot be made in /etc/hosts on a CI machine, so the
// order is tested with an injected resolver while every socket stays real.
import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CLIENT_DEFAULTS, messageBytes, runClient, type ClientOptions } from "../src/client/index.ts";
import { closeFd, reservePort, SyscallError } from "../src/net/index.ts";
import { resolveHost, ResolveError, type Lookup } from "../src/net/resolve.ts";
import { pythonPeer } from "./helpers/client-peers.ts";
import { runCli, SOURCE_CLI } from "./helpers/process.ts";
import { serve, serveListeners, type TestServer } from "./helpers/server.ts";

function options(port: number, o: Partial<ClientOptions> = {}): ClientOptions {
  return { ...CLIENT_DEFAULTS, port, message: messageBytes("hello"), interval: 0, ...o };
}

async function run(o: ClientOptions) {
  const lines: string[] = [];
  const result = await runClient(o, (l) => lines.push(l));
  return { result, lines };
}

/** A resolver that answers `name` with `addresses` and knows nothing else. */
const fake =
  (name: string, ...addresses: string[]): Lookup =>
  async (n) => {
    if (n !== name) throw Object.assign(new Error("getaddrinfo ENOTFOUND"), { code: "DNS_ENOTFOUND" });
    return addresses.map((address) => ({ address, family: address.includes(":") ? 6 : 4 }));
  };

/** The addresses `getent ahosts NAME` lists (glibc's getaddrinfo, in its order); null without getent. */
function getent(name: string): string[] | null {
  const r = Bun.spawnSync(["getent", "ahosts", name], { stdout: "pipe", stderr: "pipe" });
  if (r.exitCode === null || !r.success) return r.exitCode === 2 ? [] : null;
  const out: string[] = [];
  for (const l of r.stdout.toString().split("\n")) {
    const m = /^(\S+)\s+STREAM\b/.exec(l);
    if (m && !out.includes(m[1]!)) out.push(m[1]!);
  }
  return out;
}
const hasGetent = getent("localhost") !== null;
/** Root with mount namespaces (CI runs as root): an /etc/hosts of the test's own, seen only by its children. */
const canUnshare = Bun.spawnSync(["unshare", "-m", "true"], { stdout: "ignore", stderr: "ignore" }).success;

/** A socket bound to `host:port` (0: any) and never listening: the kernel answers a SYN with RST. */
function refusing(host: string, port = 0): AsyncDisposable & { port: number } {
  const r = reservePort(host, port, host.includes(":"));
  return { port: r.port, [Symbol.asyncDispose]: async () => closeFd(r.fd) };
}

/** tcp-echo on `host` with the port of another socket (retried: the port may be taken there). */
async function serveOnSamePort(host: string, other: () => Promise<AsyncDisposable & { port: number }>): Promise<{ server: TestServer; peer: AsyncDisposable & { port: number } }> {
  for (let attempt = 0; ; attempt++) {
    const peer = await other();
    try {
      return { server: serveListeners([{ host, port: peer.port }], {}, "warn"), peer };
    } catch (e) {
      await peer[Symbol.asyncDispose]();
      if (attempt === 4) throw e;
    }
  }
}

describe("resolving the host", () => {
  test.skipIf(!hasGetent)("a name gets exactly the addresses getaddrinfo lists for it, in its order (/etc/hosts included)", async () => {
    const r = await resolveHost("localhost");
    expect(r).toMatchObject({ host: "localhost", isName: true, fallback: false });
    expect(r.addresses).toEqual(getent("localhost")!);
  });

  test("an IP address is used as it is, brackets or not, without asking the resolver", async () => {
    const never: Lookup = () => Promise.reject(new Error("the resolver was asked"));
    expect((await resolveHost("::1", { lookup: never })).addresses).toEqual(["::1"]);
    expect(await resolveHost("[::1]", { lookup: never })).toEqual({ host: "[::1]", isName: false, addresses: ["::1"], families: [6], fallback: false });
    expect((await resolveHost("0:0:0:0:0:0:0:1", { lookup: never })).addresses).toEqual(["::1"]);
    expect((await resolveHost("127.0.0.1", { lookup: never })).families).toEqual([4]);
  });

  test("the resolver's order is kept; repeats and zone-scoped addresses are dropped", async () => {
    const r = await resolveHost("echo.test", { lookup: fake("echo.test", "::1", "127.0.0.1", "::1", "fe80::1%eth0", "10.0.0.7") });
    expect(r.addresses).toEqual(["::1", "127.0.0.1", "10.0.0.7"]);
    expect(r.families).toEqual([6, 4, 4]);
  });

  test("a name the resolver does not know: ResolveError with its code, no DNS_ prefix", async () => {
    const err = await resolveHost("echo.internal", { lookup: fake("other") }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ResolveError);
    expect((err as Error).message).toBe("cannot resolve echo.internal: ENOTFOUND");
  });

  test("localhost (and *.localhost) the resolver does not know: the loopback addresses, ::1 first (RFC 6761, RFC 6724)", async () => {
    for (const name of ["localhost", "echo.localhost", "LOCALHOST."]) {
      expect(await resolveHost(name, { lookup: fake("other") })).toMatchObject({ addresses: ["::1", "127.0.0.1"], fallback: true });
    }
    // What the resolver says wins.
    expect(await resolveHost("localhost", { lookup: fake("localhost", "127.0.0.1") })).toMatchObject({ addresses: ["127.0.0.1"], fallback: false });
  });

  test("a resolver that does not answer: ResolveError once the time is up", async () => {
    const started = performance.now();
    const err = await resolveHost("slow.test", { lookup: () => new Promise(() => {}), timeoutS: 0.2 }).catch((e: unknown) => e);
    expect((err as Error).message).toBe("cannot resolve slow.test: ETIMEDOUT (no answer within 0.2 s)");
    expect(performance.now() - started).toBeLessThan(2000);
  });

  test("the system resolver on a name under .invalid (RFC 6761 6.4): ResolveError", async () => {
    const err = await resolveHost("nosuch.invalid", { timeoutS: 10 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ResolveError);
    expect((err as Error).message).toMatch(/^cannot resolve nosuch\.invalid: [A-Z_]+/);
  });
});

describe("client over IPv6 and names", () => {
  test("over ::1: the peer, the local address and the server's view are all IPv6", async () => {
    await using s = serveListeners([{ host: "::1" }]);
    const { result, lines } = await run(options(s.port, { host: "::1", count: 2 }));
    expect(result).toMatchObject({ ok: true, echoed: 2, peer: { family: 6, host: "::1", port: s.port }, local: { family: 6, host: "::1" } });
    expect(lines[0]).toBe(`connected to [::1]:${s.port} in ${result.connectMs.toFixed(2)} ms (local [::1]:${result.local.port})`);
    expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^seq=2 6 B from \\[::1\\]:${s.port} time=`)));
    expect(await s.log.waitFor((e) => e.event === "close")).toMatchObject({ peer: `[::1]:${result.local.port}`, bytes_in: 12, bytes_out: 12 });
  });

  test("a name whose first address refuses: the failure is printed and the next address is used", async () => {
    await using s = serve({}, "warn");
    await using _refuse = refusing("::1", s.port);
    const { result, lines } = await run(options(s.port, { host: "echo.test", lookup: fake("echo.test", "::1", "127.0.0.1") }));
    expect(result).toMatchObject({ ok: true, echoed: 1, peer: { family: 4, host: "127.0.0.1", port: s.port } });
    expect(lines[0]).toMatch(/^echo\.test resolved to ::1, 127\.0\.0\.1 in \d+\.\d\d ms$/);
    expect(lines[1]).toBe(`connect to [::1]:${s.port} failed: ECONNREFUSED; trying 127.0.0.1:${s.port}`);
    expect(lines[2]).toStartWith(`connected to 127.0.0.1:${s.port} in `);
  });

  test("the other way round: IPv4 refuses, IPv6 answers", async () => {
    // The IPv4 port is taken first and the server then binds ::1 on it (retried): the other order
    // raced other test files for 127.0.0.1's port.
    const { server: s, peer } = await serveOnSamePort("::1", async () => refusing("127.0.0.1"));
    await using _s = s;
    await using _refuse = peer;
    const { result, lines } = await run(options(s.port, { host: "echo.test", lookup: fake("echo.test", "127.0.0.1", "::1") }));
    expect(result).toMatchObject({ ok: true, peer: { family: 6, host: "::1" } });
    expect(lines[1]).toBe(`connect to 127.0.0.1:${s.port} failed: ECONNREFUSED; trying [::1]:${s.port}`);
  });

  test("--connect-timeout bounds each address: a silent first address times out, the second still gets its turn", async () => {
    const { server, peer } = await serveOnSamePort("::1", () => pythonPeer("blackhole"));
    await using _s = server;
    await using _p = peer;
    const started = performance.now();
    const { result, lines } = await run(options(peer.port, { host: "echo.test", connectTimeout: 0.3, lookup: fake("echo.test", "127.0.0.1", "::1") }));
    const elapsed = performance.now() - started;
    expect(result).toMatchObject({ ok: true, peer: { family: 6, host: "::1" } });
    expect(lines[1]).toBe(`connect to 127.0.0.1:${peer.port} failed: timed out after 0.3 s; trying [::1]:${peer.port}`);
    expect(elapsed).toBeGreaterThanOrEqual(290);
    expect(elapsed).toBeLessThan(3000);
  });

  test("when every address fails: each but the last is a line, the last is the error thrown", async () => {
    await using peer = refusing("127.0.0.1");
    await using _refuse6 = refusing("::1", peer.port);
    const lines: string[] = [];
    const err = await runClient(options(peer.port, { host: "echo.test", lookup: fake("echo.test", "::1", "127.0.0.1") }), (l) => lines.push(l)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SyscallError);
    expect((err as Error).message).toBe(`connect to 127.0.0.1:${peer.port} failed: ECONNREFUSED: Connection refused`);
    expect(lines.slice(1)).toEqual([`connect to [::1]:${peer.port} failed: ECONNREFUSED; trying 127.0.0.1:${peer.port}`]);
  });

});

describe("tcp-echo client HOST:PORT as a process", () => {
  test("[::1]:PORT as one argument: connected over IPv6, exit 0", async () => {
    await using s = serveListeners([{ host: "::1" }], {}, "warn");
    const r = await runCli(["client", `[::1]:${s.port}`]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toStartWith(`connected to [::1]:${s.port} in `);
    expect(r.stdout).toContain(`--- [::1]:${s.port} tcp-echo client statistics ---`);
  });

  test.skipIf(!hasGetent)("localhost:PORT: resolved by the system, connected to the first address getaddrinfo lists", async () => {
    // Listening on both loopbacks, so the test holds whatever this machine's /etc/hosts says.
    const four = serve({}, "warn");
    await using _four = four;
    await using _six = serveListeners([{ host: "::1", port: four.port }], {}, "warn");
    const first = getent("localhost")![0]!;
    const r = await runCli(["client", `localhost:${four.port}`]);
    expect(r.code).toBe(0);
    const lines = r.stdout.split("\n");
    expect(lines[0]).toMatch(new RegExp(`^localhost resolved to ${getent("localhost")!.join(", ").replace(/\./g, "\\.")} in `));
    expect(lines[1]).toStartWith(`connected to ${first.includes(":") ? `[${first}]` : first}:${four.port} in `);
  });

  test.skipIf(!canUnshare || !hasGetent)("an /etc/hosts name with a loopback and a non-loopback address: both, in getaddrinfo's order, the first connected", async () => {
    // Bun's default c-ares backend returns only 192.0.2.1 for exactly this file (Bun 1.4.5).
    const dir = mkdtempSync(join(tmpdir(), "tcp-echo-hosts-"));
    try {
      const hosts = join(dir, "hosts");
      writeFileSync(hosts, "127.0.0.1 localhost\n::1 localhost\n192.0.2.1 mixed.test\n::1 mixed.test\n");
      await using s = serveListeners([{ host: "::1" }], {}, "warn");
      const script = `mount --bind "$1" /etc/hosts && getent ahosts mixed.test | awk '$2 == "STREAM" { print "GETENT " $1 }' && exec "$@"`;
      const proc = Bun.spawn(["unshare", "-m", "sh", "-c", script.replace('"$@"', '"$2" "$3" client mixed.test:"$4"'), "sh", hosts, ...SOURCE_CLI, String(s.port)], { stdout: "pipe", stderr: "pipe" });
      const timer = setTimeout(() => proc.kill("SIGKILL"), 15_000);
      const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
      clearTimeout(timer);
      expect(err).toBe("");
      expect(code).toBe(0);
      const order = out.split("\n").filter((l) => l.startsWith("GETENT ")).map((l) => l.slice(7));
      expect([...order].sort()).toEqual(["192.0.2.1", "::1"]);
      expect(out).toMatch(new RegExp(`^mixed\\.test resolved to ${order.join(", ").replace(/\./g, "\\.")} in `, "m"));
      // glibc ranks ::1 first (RFC 6724 rule 6, precedence); whichever it is, the client starts there.
      if (order[0] === "::1") expect(out).toContain(`connected to [::1]:${s.port} in `);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("a name that does not resolve: one line on stderr, exit 1", async () => {
    const r = await runCli(["client", "nosuch.invalid:9"]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(/^tcp-echo: cannot resolve nosuch\.invalid: [A-Z_]+[^\n]*\n$/);
  });
});
