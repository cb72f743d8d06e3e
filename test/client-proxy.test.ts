// `client --proxy-protocol`: the header goes first, before any other byte, with the connection's
// own addresses or the given ones; tcp-echo with --proxy-protocol reports exactly what it carried
// and echoes the rest; python3 decodes it with struct and rebuilds it byte for byte from its own
// socket's addresses; a plain echo server that sends it back is named as one that does not read
// PROXY, and the run fails.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { writeFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CLIENT_DEFAULTS, messageBytes, runClient, runFileClient, type ClientOptions, type ClientProxy } from "../src/client/index.ts";
import { formatAddress } from "../src/net/index.ts";
import type { ProxyMode } from "../src/server/index.ts";
import { spawnPythonEcho, type Peer } from "./helpers/peers.ts";
import { randomBytes } from "./helpers/client.ts";
import { runCli } from "./helpers/process.ts";
import { serve } from "./helpers/server.ts";
import { parseArgs } from "citty";
import { resolveClient } from "../src/cli/client-settings.ts";
import { UsageError } from "../src/cli/errors.ts";
import { normalizeArgv } from "../src/cli/flags.ts";
import { argsDef } from "../src/cli/options/option.ts";
import { CLIENT_OPTIONS } from "../src/cli/options/table.ts";
import { TARGET_ARG } from "../src/cli/options/target.ts";

const dir = mkdtempSync(join(tmpdir(), "tcp-echo-client-proxy-"));
const FILE = join(dir, "input.bin");
writeFileSync(FILE, randomBytes(200_000, 7));

function options(host: string, port: number, proxy: ClientProxy | null, o: Partial<ClientOptions> = {}): ClientOptions {
  return { ...CLIENT_DEFAULTS, host, port, message: messageBytes("hello"), interval: 0, proxy, ...o };
}

async function run(o: ClientOptions) {
  const lines: string[] = [];
  const result = await runClient(o, (l) => lines.push(l));
  return { result, lines };
}

const GIVEN = {
  "127.0.0.1": { source: { host: "203.0.113.7", port: 51234 }, destination: { host: "10.0.0.5", port: 443 } },
  "::1": { source: { host: "2001:db8::7", port: 51234 }, destination: { host: "2001:db8::1", port: 443 } },
} as const;

describe("tcp-echo --proxy-protocol reads our client's header and reports exactly what it carried", () => {
  const servers: Record<"v1" | "v2", ProxyMode[]> = { v1: ["v1", "any"], v2: ["v2", "any"] };
  for (const host of ["127.0.0.1", "::1"] as const) {
    for (const version of ["v1", "v2"] as const) {
      for (const mode of servers[version]) {
        test(`${version} over ${host} to a server with --proxy-protocol ${mode}: own addresses, then given ones; echo exact`, async () => {
          await using s = serve({ host, proxyProtocol: mode });
          // The connection's own addresses.
          const own = await run(options(host, s.port, { version, source: null, destination: null }, { count: 2 }));
          expect(own.result).toMatchObject({ ok: true, sent: 2, echoed: 2, mismatched: 0, proxyEchoed: false });
          const local = formatAddress(own.result.local);
          const server = formatAddress(own.result.peer);
          const fam = version === "v1" ? (host === "::1" ? "TCP6" : "TCP4") : host === "::1" ? "INET6" : "INET";
          expect(own.lines[2]).toBe(`PROXY ${version} header sent: ${fam} ${local} -> ${server}, ${own.result.proxyHeader!.length} B (the connection's own addresses)`);
          // The header is the first thing sent: nothing before it on the wire (python checks bytes; here the order of lines).
          expect(own.lines[3]).toStartWith("seq=1 6 B from ");
          const open1 = await s.log.waitFor((e) => e.event === "open" && e.conn === 1);
          expect(open1.msg).toBe(`[#1 ${local}] open ${local} -> ${server} via ${local} (PROXY ${version})`);
          expect(open1.peer).toBe(local);
          expect(await s.log.waitFor((e) => e.event === "close" && e.conn === 1)).toMatchObject({ bytes_in: 12, bytes_out: 12, peer: local });

          // Given ones.
          const g = GIVEN[host];
          const given = await run(options(host, s.port, { version, ...g }, { count: 1 }));
          expect(given.result).toMatchObject({ ok: true, echoed: 1, proxyEchoed: false });
          const src = host === "::1" ? "[2001:db8::7]:51234" : "203.0.113.7:51234";
          const dst = host === "::1" ? "[2001:db8::1]:443" : "10.0.0.5:443";
          expect(given.lines[2]).toBe(`PROXY ${version} header sent: ${fam} ${src} -> ${dst}, ${given.result.proxyHeader!.length} B (source and destination as given)`);
          const open2 = await s.log.waitFor((e) => e.event === "open" && e.conn === 2);
          expect(open2.msg).toBe(`[#2 ${src}] open ${src} -> ${dst} via ${formatAddress(given.result.local)} (PROXY ${version})`);
        });
      }
    }
  }

  test("only --proxy-source given: the destination is the address connected to; --file works the same", async () => {
    await using s = serve({ proxyProtocol: "v2" });
    const proxy: ClientProxy = { version: "v2", source: { host: "192.0.2.9", port: 40000 }, destination: null };
    const lines: string[] = [];
    const r = await runFileClient(options("127.0.0.1", s.port, proxy, { file: FILE }), (l) => lines.push(l));
    expect(r).toMatchObject({ ok: true, sent: 200_000, back: 200_000, proxyEchoed: false });
    expect(lines).toContain(`PROXY v2 header sent: INET 192.0.2.9:40000 -> 127.0.0.1:${s.port}, 28 B (source as given, destination the address connected to)`);
    expect(lines.at(-1)).toEndWith(": identical");
    const open = await s.log.waitFor((e) => e.event === "open");
    expect(open.msg).toBe(`[#1 192.0.2.9:40000] open 192.0.2.9:40000 -> 127.0.0.1:${s.port} via ${formatAddress(r.local)} (PROXY v2)`);
    expect(await s.log.waitFor((e) => e.event === "close")).toMatchObject({ bytes_in: 200_000, bytes_out: 200_000 });
  });

  test("a given IPv4 source on an IPv6 connection: both written IPv6, the IPv4 one IPv4-mapped, and said so", async () => {
    await using s = serve({ host: "::1", proxyProtocol: "v1" });
    const { result, lines } = await run(options("::1", s.port, { version: "v1", source: { host: "198.51.100.1", port: 5 }, destination: null }));
    expect(result.ok).toBe(true);
    expect(lines[2]).toBe(`PROXY v1 header sent: TCP6 [::ffff:198.51.100.1]:5 -> [::1]:${s.port}, ${result.proxyHeader!.length} B (source as given, destination the address connected to; the IPv4 address is written IPv4-mapped, a header holds one family)`);
    // Shown and judged as the IPv4 address it maps.
    expect((await s.log.waitFor((e) => e.event === "open")).peer).toBe("198.51.100.1:5");
  });

  test("a header of the version the server does not read: refused, nothing echoed, the client says why it may be, exit 1", async () => {
    await using s = serve({ proxyProtocol: "v1" });
    const { result, lines } = await run(options("127.0.0.1", s.port, { version: "v2", source: null, destination: null }));
    expect(result).toMatchObject({ ok: false, echoed: 0 });
    expect(lines.find((l) => l.startsWith("seq=1 connection"))).toEndWith("(before any byte came back: a server that reads the PROXY protocol closes a connection whose header it refuses, such as one of another version)");
    expect(await s.log.waitFor((e) => e.event === "proxy-error")).toMatchObject({ reason: "bad-signature" });
  });
});

// An independent reader: python3 listening on 127.0.0.1 and ::1 takes each connection's header
// off with struct (v2) or by splitting the line (v1), rebuilds the header it expects from its own
// socket's getpeername()/getsockname() (or the endpoints the case gives) and compares bytes, then
// echoes the rest. argv: the cases per family, in connection order (JSON).
const DECODER = String.raw`
import json, socket, struct, sys, threading
SIG = b"\r\n\r\n\x00\r\nQUIT\n"
plan = json.loads(sys.argv[1])
def read_exact(c, n):
    b = b""
    while len(b) < n:
        d = c.recv(n - len(b))
        if not d: raise EOFError("EOF after %d of %d bytes" % (len(b), n))
        b += d
    return b
def read_header(c):
    first = read_exact(c, 1)
    if first == b"P":
        line = first
        while not line.endswith(b"\r\n"):
            line += read_exact(c, 1)
            if len(line) > 107: raise ValueError("v1 line over 107 bytes")
        word, fam, src, dst, sport, dport = line[:-2].decode("ascii").split(" ")
        assert word == "PROXY" and fam in ("TCP4", "TCP6")
        return line, {"version": 1, "family": fam, "source": [src, int(sport)], "destination": [dst, int(dport)]}
    head = first + read_exact(c, 15)
    sig, ver_cmd, fam, length = struct.unpack("!12sBBH", head)
    assert sig == SIG, sig
    body = read_exact(c, length)
    af, w, name = {0x11: (socket.AF_INET, 4, "INET"), 0x21: (socket.AF_INET6, 16, "INET6")}[fam]
    s, d, sp, dp = struct.unpack("!%ds%dsHH" % (w, w), body[:2 * w + 4])
    return head + body, {"version": ver_cmd >> 4, "command": ver_cmd & 0xF, "family": name, "transport": "stream",
        "source": [socket.inet_ntop(af, s), sp], "destination": [socket.inet_ntop(af, d), dp], "tlv_bytes": length - 2 * w - 4}
def build(version, src, dst):
    v6 = ":" in src[0]
    if version == 1:
        return ("PROXY %s %s %s %d %d\r\n" % ("TCP6" if v6 else "TCP4", src[0], dst[0], src[1], dst[1])).encode()
    af = socket.AF_INET6 if v6 else socket.AF_INET
    addr = socket.inet_pton(af, src[0]) + socket.inet_pton(af, dst[0]) + struct.pack("!HH", src[1], dst[1])
    return SIG + bytes([0x21, 0x21 if v6 else 0x11]) + struct.pack("!H", len(addr)) + addr
def hostport(a):
    return ("[%s]:%d" if ":" in a[0] else "%s:%d") % a[:2]
results = {}
def serve(ls, key):
    out = []
    for case in plan[key]:
        c, _ = ls.accept()
        try:
            got, decoded = read_header(c)
            src = tuple(case["source"]) if case["source"] else c.getpeername()[:2]
            dst = tuple(case["destination"]) if case["destination"] else c.getsockname()[:2]
            want = build(case["version"], src, dst)
            echoed = 0
            while True:
                d = c.recv(65536)
                if not d: break
                c.sendall(d); echoed += len(d)
            out.append({"exact": got == want, "got": got.hex(), "want": want.hex(), "decoded": decoded, "client": hostport(c.getpeername()), "echoed": echoed})
        except Exception as e:
            out.append({"error": repr(e)})
        finally:
            c.close()
    results[key] = out
socks = {}
for key, fam, host in (("v4", socket.AF_INET, "127.0.0.1"), ("v6", socket.AF_INET6, "::1")):
    ls = socket.socket(fam); ls.bind((host, 0)); ls.listen(16); socks[key] = ls
print("PORTS", socks["v4"].getsockname()[1], socks["v6"].getsockname()[1], flush=True)
threads = [threading.Thread(target=serve, args=(socks[k], k)) for k in socks]
for t in threads: t.start()
for t in threads: t.join(30)
print(json.dumps(results), flush=True)
`;

describe("python3 decodes our client's header with struct and rebuilds it byte for byte", () => {
  test("v1 and v2, own and given addresses, messages and --file, over 127.0.0.1 and ::1", async () => {
    type Case = { version: 1 | 2; source: [string, number] | null; destination: [string, number] | null; file?: boolean };
    const plan: Record<"v4" | "v6", Case[]> = {
      v4: [
        { version: 1, source: null, destination: null },
        { version: 2, source: null, destination: null },
        { version: 1, source: ["203.0.113.7", 51234], destination: ["10.0.0.5", 443] },
        { version: 2, source: ["203.0.113.7", 0], destination: null, file: true },
      ],
      v6: [
        { version: 1, source: null, destination: null },
        { version: 2, source: null, destination: null, file: true },
        { version: 1, source: ["2001:db8::7", 65535], destination: ["2001:db8::1", 443] },
        { version: 2, source: ["2001:db8:0:0:1::7", 51234], destination: ["2001:db8::1", 1] },
      ],
    };
    const proc = Bun.spawn(["python3", "-c", DECODER, JSON.stringify(plan)], { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
    const killer = setTimeout(() => proc.kill("SIGKILL"), 60_000);
    try {
      const reader = proc.stdout.getReader();
      let text = "";
      while (!/^PORTS \d+ \d+\n/.test(text)) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`python3 did not start: ${await new Response(proc.stderr).text()}`);
        text += new TextDecoder().decode(value);
      }
      const [, p4, p6] = /^PORTS (\d+) (\d+)/.exec(text)!.map(Number);
      const clients: Record<string, { local: string; ok: boolean }[]> = { v4: [], v6: [] };
      for (const [key, host, port] of [["v4", "127.0.0.1", p4!], ["v6", "::1", p6!]] as const) {
        for (const c of plan[key]) {
          const proxy: ClientProxy = {
            version: c.version === 1 ? "v1" : "v2",
            source: c.source && { host: c.source[0], port: c.source[1] },
            destination: c.destination && { host: c.destination[0], port: c.destination[1] },
          };
          const o = options(host, port, proxy, c.file ? { file: FILE } : { count: 2 });
          const r = c.file ? await runFileClient(o, () => {}) : await runClient(o, () => {});
          clients[key]!.push({ local: formatAddress(r.local), ok: r.ok });
        }
      }
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        text += new TextDecoder().decode(value);
      }
      expect(await proc.exited).toBe(0);
      const results = JSON.parse(text.split("\n")[1]!) as Record<string, { exact: boolean; got: string; want: string; decoded: Record<string, unknown>; client: string; echoed: number }[]>;
      for (const key of ["v4", "v6"] as const) {
        for (const [i, c] of plan[key].entries()) {
          const r = results[key]![i]!;
          const client = clients[key]![i]!;
          expect({ key, i, exact: r.exact, got: r.got, ok: client.ok }).toEqual({ key, i, exact: true, got: r.want, ok: true });
          // What python decoded is what the case asked for, or the client's own address as python saw it.
          expect(r.client).toBe(client.local);
          expect(r.decoded).toMatchObject({ version: c.version, family: c.version === 1 ? (key === "v6" ? "TCP6" : "TCP4") : key === "v6" ? "INET6" : "INET" });
          if (c.version === 2) expect(r.decoded).toMatchObject({ command: 1, tlv_bytes: 0 });
          expect(r.echoed).toBe(c.file ? 200_000 : 12);
        }
      }
      // The given IPv6 source, written in RFC 5952 form by us and read back by inet_ntop.
      expect(results.v6![3]!.decoded.source).toEqual(["2001:db8::1:0:0:7", 51234]);
    } finally {
      clearTimeout(killer);
      if (proc.exitCode === null) proc.kill("SIGKILL");
    }
  });
});

describe("against echo servers that do not read PROXY (python3 socketserver, tcp-echo without --proxy-protocol): the header comes back, the run fails", () => {
  // One server for the three cases (a python3 start costs about a second here).
  let py: Peer;
  beforeAll(async () => void (py = await spawnPythonEcho()));
  afterAll(async () => py?.[Symbol.asyncDispose]());

  test("messages: the echoed header is named, the echoes themselves still checked, ok false", async () => {
    for (const version of ["v1", "v2"] as const) {
      const { result, lines } = await run(options("127.0.0.1", py.port, { version, source: null, destination: null }, { count: 3 }));
      expect(result).toMatchObject({ ok: false, proxyEchoed: true, sent: 3, echoed: 3, mismatched: 0, timedOut: 0, fin: true });
      const header = result.proxyHeader!;
      // Python's repr quotes with " when the bytes hold a ' and no " (a port byte of 0x27).
      expect(lines[3]).toMatch(new RegExp(`^the PROXY header came back \\(${header.length} B b['"]`));
      expect(lines[3]).toEndWith(`): the server echoes it, so it does not read the PROXY protocol (tcp-echo serve reads it with --proxy-protocol ${version} or any)`);
      expect(lines.filter((l) => l.includes("MISMATCH"))).toEqual([]);
    }
  });

  test("--file: the header is taken off, the input checked after it; the verdict says both", async () => {
    const lines: string[] = [];
    const r = await runFileClient(options("127.0.0.1", py.port, { version: "v1", source: null, destination: null }, { file: FILE }), (l) => lines.push(l));
    expect(r).toMatchObject({ ok: false, proxyEchoed: true, sent: 200_000, back: 200_000, mismatch: null });
    expect(lines.at(-1)).toEndWith(": the server echoed the PROXY header (it does not read the PROXY protocol), then the input identical");
  });

  test("tcp-echo without --proxy-protocol is such a server too: the header named, the run failed", async () => {
    await using s = serve();
    const { result, lines } = await run(options("127.0.0.1", s.port, { version: "v2", source: null, destination: null }));
    expect(result).toMatchObject({ ok: false, proxyEchoed: true, echoed: 1, mismatched: 0 });
    expect(lines[3]).toMatch(/^the PROXY header came back \(28 B b['"]\\r\\n\\r\\n\\x00\\r\\nQUIT\\n!\\x11\\x00\\x0c/);
    expect(await s.log.waitFor((e) => e.event === "close")).toMatchObject({ bytes_in: 28 + 6, bytes_out: 28 + 6 });
  });

  test("the command: exit 1 and the line on stdout", async () => {
    const r = await runCli(["client", `127.0.0.1:${py.port}`, "--proxy-protocol", "v2"]);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 1, stderr: "" });
    expect(r.stdout).toContain("the server echoes it, so it does not read the PROXY protocol");
  });
});

describe("usage errors: one line naming the options and the value", () => {
  const client = (argv: string[]) => {
    const defs = { ...argsDef(CLIENT_OPTIONS), ...TARGET_ARG };
    return resolveClient(parseArgs(normalizeArgv(["127.0.0.1:9", ...argv], defs), defs) as Record<string, unknown>, {});
  };
  const usage = (argv: string[]) => {
    try {
      client(argv);
    } catch (e) {
      if (e instanceof UsageError) return e.message;
      throw e;
    }
    throw new Error("no usage error");
  };
  const cases: [string[], string][] = [
    [["--proxy-protocol", "v3"], `--proxy-protocol: "v3" is not one of off, v1, v2`],
    [["--proxy-protocol", "v2", "--proxy-source", "203.0.113.7"], `--proxy-source: "203.0.113.7" is not ADDR:PORT, an IP address and a port (like 203.0.113.7:51234 or [2001:db8::7]:51234)`],
    [["--proxy-protocol", "v2", "--proxy-source", "2001:db8::7:80"], `--proxy-source: "2001:db8::7:80" is not ADDR:PORT, an IP address and a port (like 203.0.113.7:51234 or [2001:db8::7]:51234)`],
    [["--proxy-protocol", "v2", "--proxy-dest", "example.com:80"], `--proxy-dest: "example.com:80" is not ADDR:PORT, an IP address and a port (like 203.0.113.7:51234 or [2001:db8::7]:51234): "example.com" is not an IPv4 address (IPv6 goes in brackets)`],
    [["--proxy-protocol", "v2", "--proxy-dest", "[2001:db8::zz]:80"], `--proxy-dest: "[2001:db8::zz]:80" is not ADDR:PORT, an IP address and a port (like 203.0.113.7:51234 or [2001:db8::7]:51234): "2001:db8::zz" is not an IPv6 address`],
    [["--proxy-protocol", "v2", "--proxy-dest", "10.0.0.1:65536"], `--proxy-dest: "65536" is not a port in 0..65535`],
    [["--proxy-source", "203.0.113.7:1"], "--proxy-source needs --proxy-protocol v1 or v2 (it is off)"],
    [["--proxy-protocol", "off", "--proxy-dest", "203.0.113.7:1"], "--proxy-dest needs --proxy-protocol v1 or v2 (it is off)"],
    [["--proxy-protocol", "v1", "--proxy-source", "203.0.113.7:1", "--proxy-dest", "[2001:db8::1]:443"], "--proxy-source 203.0.113.7:1 and --proxy-dest [2001:db8::1]:443 are not the same family: a PROXY header carries two IPv4 or two IPv6 addresses"],
    [["--proxy-protocol", "v2", "--tls"], "--proxy-protocol with --tls: a PROXY header goes in the clear before the TLS handshake, which this client cannot send"],
  ];
  for (const [argv, message] of cases) test(argv.join(" "), () => expect(usage(argv)).toBe(message));

  test("good values reach the settings (IPv6 in brackets, port 0 allowed)", () => {
    expect(client(["--proxy-protocol", "v1", "--proxy-source", "[2001:DB8::7]:0", "--proxy-dest", "[::1]:443"]).settings.proxy).toEqual({
      version: "v1",
      source: { host: "2001:DB8::7", port: 0 },
      destination: { host: "::1", port: 443 },
    });
    expect(client([]).settings.proxy).toBeNull();
  });

  test("the command: exit 2, the line on stderr, nothing on stdout", async () => {
    const r = await runCli(["client", "127.0.0.1:9", "--proxy-protocol", "v1", "--proxy-source", "203.0.113.7:1", "--proxy-dest", "[2001:db8::1]:443"]);
    expect({ code: r.code, stdout: r.stdout, stderr: r.stderr }).toEqual({
      code: 2,
      stdout: "",
      stderr: "tcp-echo: --proxy-source 203.0.113.7:1 and --proxy-dest [2001:db8::1]:443 are not the same family: a PROXY header carries two IPv4 or two IPv6 addresses (see tcp-echo client --help)\n",
    });
  });
});
