// The option table in-process, as citty's own tests do it: argv, environment and config file in,
// typed settings or the exact one-line error out. Exit codes and the printing of errors are checked
// by one spawned process per command (cli.test.ts).
import { describe, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "citty";
import { resolveBench } from "../src/cli/bench-settings.ts";
import { resolveClient } from "../src/cli/client-settings.ts";
import { UsageError } from "../src/cli/errors.ts";
import { normalizeArgv } from "../src/cli/flags.ts";
import { argsDef, type Table } from "../src/cli/options/option.ts";
import { BENCH_OPTIONS, CLIENT_OPTIONS, SERVE_OPTIONS } from "../src/cli/options/table.ts";
import { TARGET_ARG } from "../src/cli/options/target.ts";
import { resolveServe } from "../src/cli/serve-settings.ts";

type Env = Record<string, string>;
const dir = mkdtempSync(join(tmpdir(), "tcp-echo-config-"));
let files = 0;
/** A config file with this text; its path. */
function file(text: string, ext = "toml"): string {
  const path = join(dir, `c${++files}.${ext}`);
  writeFileSync(path, text);
  return path;
}

function run<T>(table: Table, resolve: (args: Record<string, unknown>, env: Env) => T, argv: string[], env: Env = {}, positional = false): T {
  // client and bench declare the optional target argument, as their commands do.
  const defs = positional ? { ...argsDef(table), ...TARGET_ARG } : argsDef(table);
  return resolve(parseArgs(normalizeArgv(argv, defs), defs) as Record<string, unknown>, env);
}
/** serve's settings with its first listener's fields alongside, as most cases check one listener. */
const serve = (argv: string[], env: Env = {}) => {
  const r = run(SERVE_OPTIONS, resolveServe, argv, env);
  return { settings: { ...r.settings, ...r.settings.listeners[0]! }, print: r.print, listeners: r.settings.listeners };
};
const client = (argv: string[], env: Env = {}) => run(CLIENT_OPTIONS, resolveClient, argv, env, true);
const bench = (argv: string[], env: Env = {}) => run(BENCH_OPTIONS, resolveBench, argv, env, true);

/** The UsageError's message, or a failure when there is none. */
function usage(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof UsageError) return e.message;
    throw e;
  }
  throw new Error("no usage error");
}

describe("serve: values from flags, variables, the file and defaults", () => {
  const cases: [string, string[], Env, Record<string, unknown>][] = [
    ["defaults", [], {}, { host: "127.0.0.1", port: 9999, timeout: 5.5, maxBuffer: 1024 * 1024, backlog: null, quickack: "auto", nodelay: true, workers: 1 }],
    ["durations take units", ["--timeout", "500ms", "--shutdown-timeout", "2m", "--stats-interval", "1h"], {}, { timeout: 0.5, shutdownTimeout: 120, statsInterval: 3600 }],
    ["a bare number is seconds", ["--timeout", "2.25"], {}, { timeout: 2.25 }],
    ["seconds with an s", ["--timeout", "2s"], {}, { timeout: 2 }],
    ["sizes take k/m/g", ["--max-buffer", "64k", "--max-memory", "2g"], {}, { maxBuffer: 65536, maxMemory: 2 ** 31 }],
    ["a variable sets an option", [], { TCP_ECHO_TIMEOUT: "3", TCP_ECHO_NODELAY: "off" }, { timeout: 3, nodelay: false }],
    ["a flag wins over its variable", ["--timeout", "1"], { TCP_ECHO_TIMEOUT: "3" }, { timeout: 1 }],
    ["--no-nodelay", ["--no-nodelay"], {}, { nodelay: false }],
    ["keep-alive grouped", ["--keepalive", "30", "--keepalive-count", "4"], {}, { keepalive: { idle: 30, interval: null, count: 4 } }],
    ["keep-alive in minutes", ["--keepalive", "2m"], {}, { keepalive: { idle: 120, interval: null, count: null } }],
    ["access rules", ["--deny", "10.0.0.0/8,2001:db8::/32", "--max-per-ip", "3"], {}, { access: { allow: null, deny: [{ text: "10.0.0.0/8", family: 4, prefix: 8 }, { text: "2001:db8::/32", family: 6, prefix: 32 }], maxPerIp: 3, perIpPrefix6: 64 } }],
    ["metrics endpoint", ["--metrics", "127.0.0.1:9464"], {}, { metrics: { host: "127.0.0.1", port: 9464 } }],
    ["log settings", ["--log-level", "debug", "--log-format", "json"], {}, { log: { level: "debug", format: "json" } }],
  ];
  for (const [name, argv, env, expected] of cases) {
    test(name, () => expect(serve(argv, env).settings).toMatchObject(expected));
  }
});

describe("serve: bad values are one line naming where they came from, with the bound", () => {
  const cases: [string[], Env, string][] = [
    [["--port", "70000"], {}, `--port: "70000" is not a port in 0..65535`],
    [["--port", "http"], {}, `--port: "http" is not a port (0..65535)`],
    [["--timeout", "-1"], {}, `--timeout: "-1" is not a duration (like 5.5, 5.5s, 500ms, 2m, 1h) in 0..2147483.647 s`],
    [["--timeout", "soon"], {}, `--timeout: "soon" is not a duration (like 5.5, 5.5s, 500ms, 2m, 1h) in 0..2147483.647 s`],
    // Beyond what a JavaScript timer can hold (2^31 - 1 ms): refused, not silently cut to 1 ms.
    [["--timeout", "99999999999"], {}, `--timeout: "99999999999" is not a duration (like 5.5, 5.5s, 500ms, 2m, 1h) in 0..2147483.647 s`],
    [["--timeout", "2x"], {}, `--timeout: "2x" is not a duration (like 5.5, 5.5s, 500ms, 2m, 1h) in 0..2147483.647 s`],
    [["--keepalive", "0"], {}, `--keepalive: "0" is not a duration (like 5.5, 5.5s, 500ms, 2m, 1h) in 1..32767 s, whole seconds`],
    [["--keepalive", "1.5"], {}, `--keepalive: "1.5" is not a duration (like 5.5, 5.5s, 500ms, 2m, 1h) in 1..32767 s, whole seconds`],
    [["--keepalive", "10h"], {}, `--keepalive: "10h" is not a duration (like 5.5, 5.5s, 500ms, 2m, 1h) in 1..32767 s, whole seconds`],
    [["--keepalive-count", "3"], {}, "--keepalive-count needs --keepalive SECONDS as well"],
    [["--record-mode", "stream"], {}, "--record-mode needs --record FORMAT as well"],
    [["--recv-buf", "-5"], {}, `--recv-buf: "-5" is not a size in bytes (like 65536, 64k, 1m)`],
    [["--max-buffer", "3g"], {}, `--max-buffer: "3g" is not a size in 1..2147483647 bytes`],
    [["--backlog", "1.5"], {}, `--backlog: "1.5" is not a whole number (1..2147483647)`],
    [["--host", "::1:"], {}, `--host: "::1:" is not an IP address (like 127.0.0.1, 0.0.0.0, ::1 or ::)`],
    [["--quickack", "sometimes"], {}, `--quickack: "sometimes" is not one of auto, always, off`],
    [["--allow", "10.0.0.1/8"], {}, `--allow: "10.0.0.1/8" is not an IPv4 or IPv6 network (like 10.0.0.0/8, 127.0.0.1, 2001:db8::/32 or ::1; host bits must be zero)`],
    [["--deny", "2001:db8::1/32"], {}, `--deny: "2001:db8::1/32" is not an IPv4 or IPv6 network (like 10.0.0.0/8, 127.0.0.1, 2001:db8::/32 or ::1; host bits must be zero)`],
    [["--record", "! I y"], {}, "--record: bad char 'y' at position 4 in struct format '! I y'"],
    [["--record", "!"], {}, `--record: "!" describes a record of 0 bytes`],
    [["--workers", "2", "--no-reuse-port"], {}, "--workers 2 needs SO_REUSEPORT: drop --no-reuse-port"],
    [["--workers", "many"], {}, `--workers: "many" is not a number of processes or auto (1..1024)`],
    [[], { TCP_ECHO_TIMEOUT: "forever" }, `TCP_ECHO_TIMEOUT: "forever" is not a duration (like 5.5, 5.5s, 500ms, 2m, 1h) in 0..2147483.647 s`],
    [[], { TCP_ECHO_NODELAY: "maybe" }, `TCP_ECHO_NODELAY: "maybe" is not a boolean (1/0, true/false, yes/no, on/off)`],
    [[], { TCP_ECHO_PORT: "tcp://10.0.0.1:9999" }, `TCP_ECHO_PORT: "tcp://10.0.0.1:9999" is a Kubernetes service link (a Service named tcp-echo), not a port: set enableServiceLinks: false in the pod, or pass --port`],
  ];
  for (const [argv, env, message] of cases) {
    test(`${argv.join(" ") || Object.entries(env).map(([k, v]) => `${k}=${v}`).join(" ")}`, () => expect(usage(() => serve(argv, env))).toBe(message));
  }
});

describe("--config FILE: TOML or JSON whose keys are the option names", () => {
  test("values from the file, below flags and variables and above defaults", () => {
    const path = file(`timeout = "2s"\nmax-buffer = "64k"\nport = 7007\nnodelay = false\nlog-level = "warn"\nallow = ["127.0.0.0/8", "10.0.0.0/8"]\n`);
    const r = serve(["--config", path, "--port", "7008"], { TCP_ECHO_LOG_LEVEL: "debug" }).settings;
    expect(r).toMatchObject({ timeout: 2, maxBuffer: 65536, port: 7008, nodelay: false, log: { level: "debug" } });
    expect(r.access!.allow!.map((c) => c.text)).toEqual(["127.0.0.0/8", "10.0.0.0/8"]);
  });

  test("JSON works the same, and TCP_ECHO_CONFIG names the file", () => {
    const path = file(JSON.stringify({ timeout: 1.5, "max-connections": 10 }), "json");
    expect(serve([], { TCP_ECHO_CONFIG: path }).settings).toMatchObject({ timeout: 1.5, maxConnections: 10 });
  });

  const bad: [string, string, (p: string) => string][] = [
    [`timout = 3\n`, "toml", (p) => `${p}: unknown key "timout"`],
    [`max_buffer = "1m"\n`, "toml", (p) => `${p}: unknown key "max_buffer" (did you mean "max-buffer"?)`],
    [`timeout = true\n`, "toml", (p) => `${p}: timeout: true is a boolean, not a number or a string`],
    [`timeout = "2 weeks"\n`, "toml", (p) => `${p}: timeout: "2 weeks" is not a duration (like 5.5, 5.5s, 500ms, 2m, 1h) in 0..2147483.647 s`],
    [`port = 70000\n`, "toml", (p) => `${p}: port: "70000" is not a port in 0..65535`],
    [`nodelay = "sometimes"\n`, "toml", (p) => `${p}: nodelay: "sometimes" is not a boolean (1/0, true/false, yes/no, on/off)`],
    [`timeout = [\n`, "toml", (p) => `${p}: not valid TOML: Unterminated array; expected ']'`],
    [`{"timeout": }`, "json", (p) => `${p}: not valid JSON: Unexpected token '}'`],
    [`[1, 2]`, "json", (p) => `${p}: the file must hold a table of options, not a list`],
  ];
  for (const [text, ext, message] of bad) {
    test(`refused: ${JSON.stringify(text)}`, () => {
      const path = file(text, ext);
      expect(usage(() => serve(["--config", path]))).toEqual(message(path));
    });
  }

  test("a missing file is named", () => {
    expect(usage(() => serve(["--config", "/nonexistent/x.toml"]))).toBe(`--config: "/nonexistent/x.toml": no such file`);
  });
});

describe("--print-config: each setting with its source", () => {
  test("flag, env, file and default sources are named", () => {
    const path = file(`max-buffer = "64k"\n`);
    const out = serve(["--config", path, "--timeout", "2s"], { TCP_ECHO_PORT: "7007" , TCP_ECHO_PRINT_CONFIG: "1" }).print!;
    const row = (name: string) => out.split("\n").find((l) => l.startsWith(`${name} `))!.split(/\s{2,}/);
    expect(row("timeout")).toEqual(["timeout", "2", "flag (--timeout)"]);
    expect(row("port")).toEqual(["port", "7007", "env (TCP_ECHO_PORT)"]);
    expect(row("max-buffer")).toEqual(["max-buffer", "64k", `file (${path}: max-buffer)`]);
    expect(row("backlog")).toEqual(["backlog", "somaxconn", "default"]);
    expect(out).not.toContain("print-config");
  });
});

describe("client and bench take the same kinds of values", () => {
  const cases: [string, () => unknown, string][] = [
    ["client --count 0", () => client(["--count", "0"]), `--count: "0" is not a whole number in 1..2147483647`],
    ["client --timeout 0", () => client(["--timeout", "0"]), `--timeout: "0" is not a duration (like 5.5, 5.5s, 500ms, 2m, 1h) in 0.001..2147483.647 s`],
    ["client --port 0", () => client(["--port", "0"]), `--port: "0" is not a port in 1..65535`],
    ["client --values without --record", () => client(["--values", "1,2"]), "--values needs --record FORMAT as well"],
    ["client --record without --values", () => client(["--record", "!I 2s"]), `--record "!I 2s" needs --values with 2 comma-separated values (I s)`],
    ["client --record with too few values", () => client(["--record", "!I 2s", "--values", "1"]), `--values: 1 value given, but "!I 2s" has 2 fields (I s)`],
    ["bench without --mode", () => bench([]), "--mode is required (pingpong, stream, connect, idle)"],
    ["bench --rate in stream mode", () => bench(["--mode", "stream", "--rate", "5"]), "--rate is only for pingpong and connect modes, not stream"],
    ["bench --size 0 in pingpong", () => bench(["--mode", "pingpong", "--size", "0"]), "--size: 0 bytes is only for idle mode (connect, no exchange)"],
    ["bench --duration 0", () => bench(["--mode", "pingpong", "--duration", "0"]), `--duration: "0" is not a duration (like 5.5, 5.5s, 500ms, 2m, 1h) in 0.001..1000000 s`],
    ["bench --mode nope", () => bench(["--mode", "nope"]), `--mode: "nope" is not one of pingpong, stream, connect, idle`],
    ["bench --connections 0", () => bench(["--mode", "pingpong", "--connections", "0"]), `--connections: "0" is not a whole number in 1..1000000`],
    ["bench --size lots", () => bench(["--mode", "pingpong", "--size", "lots"]), `--size: "lots" is not a size in bytes (like 65536, 64k, 1m)`],
    ["bench --size 2g", () => bench(["--mode", "pingpong", "--size", "2g"]), `--size: "2g" is not a size in 0..1073741824 bytes`],
    ["bench --warmup -1", () => bench(["--mode", "pingpong", "--warmup", "-1"]), `--warmup: "-1" is not a duration (like 5.5, 5.5s, 500ms, 2m, 1h) in 0..1000000 s`],
    ["bench --rate in idle mode", () => bench(["--mode", "idle", "--rate", "5"]), "--rate is only for pingpong and connect modes, not idle"],
    ["bench --rate 0", () => bench(["--mode", "pingpong", "--rate", "0"]), `--rate: "0" is not a rate in messages per second > 0`],
    ["bench --rate fast", () => bench(["--mode", "pingpong", "--rate", "fast"]), `--rate: "fast" is not a rate in messages per second > 0`],
    ["bench --count in idle mode", () => bench(["--mode", "idle", "--count", "3"]), "--count is not for idle mode (it holds connections for --duration)"],
    ["bench --count 1.5", () => bench(["--mode", "pingpong", "--count", "1.5"]), `--count: "1.5" is not a whole number (1..1125899906842624)`],
    ["bench --port 0", () => bench(["--mode", "pingpong", "--port", "0"]), `--port: "0" is not a port in 1..65535`],
    ["bench --host ::1:", () => bench(["--mode", "pingpong", "--host", "::1:"]), `--host: "::1:" is not an IP address or a host name (like 127.0.0.1, ::1, localhost, echo.internal)`],
    ["bench TCP_ECHO_CONNECTIONS=many", () => bench(["--mode", "pingpong"], { TCP_ECHO_CONNECTIONS: "many" }), `TCP_ECHO_CONNECTIONS: "many" is not a whole number (1..1000000)`],
    ["client TCP_ECHO_SYN_RETRIES=lots", () => client([], { TCP_ECHO_SYN_RETRIES: "lots" }), `TCP_ECHO_SYN_RETRIES: "lots" is not a whole number (1..127)`],
    ["client --record !Z", () => client(["--record", "!Z", "--values", "1"]), "--record: bad char 'Z' at position 1 in struct format '!Z'"],
    ["client --record !h --values 99999", () => client(["--record", "!h", "--values", "99999"]), `--values: field 1 "99999": 'h' format requires -32768 <= number <= 32767`],
    ["client --message of two lines with --record", () => client(["--record", "!B", "--values", "1", "--message", "two\nlines"]), "--message: with --record the message must be one line (the record follows its newline)"],
  ];
  for (const [name, f, message] of cases) test(name, () => expect(usage(f)).toBe(message));

  test("client durations take units; bench keeps loadgen's defaults", () => {
    expect(client(["--interval", "200ms", "--connect-timeout", "1m"]).settings).toMatchObject({ interval: 0.2, connectTimeout: 60 });
    expect(bench(["--mode", "stream"]).settings).toMatchObject({ size: 16384, duration: 5, warmup: 1, connections: 10 });
    expect(bench(["--mode", "pingpong", "--count", "100"]).settings).toMatchObject({ duration: null, count: 100 });
  });
});

describe("client and bench: the target as one argument, or --host/--port", () => {
  const cases: [string, () => { settings: { host: string; port: number } }, { host: string; port: number }][] = [
    ["[::1]:9999", () => client(["[::1]:9999"]), { host: "::1", port: 9999 }],
    ["localhost:7 (a name stays a name)", () => client(["localhost:7"]), { host: "localhost", port: 7 }],
    ["127.0.0.1:7007", () => client(["127.0.0.1:7007"]), { host: "127.0.0.1", port: 7007 }],
    ["a bare IPv6 address takes --port's default", () => client(["::1"]), { host: "::1", port: 9999 }],
    ["::1:9999 is an IPv6 address, not ::1 port 9999", () => client(["::1:9999"]), { host: "::1:9999", port: 9999 }],
    ["[::1] in brackets without a port", () => client(["[::1]"]), { host: "::1", port: 9999 }],
    ["a bare name with --port", () => client(["echo.internal", "--port", "7"]), { host: "echo.internal", port: 7 }],
    ["a bare name takes the port from TCP_ECHO_PORT", () => client(["echo.internal"], { TCP_ECHO_PORT: "7" }), { host: "echo.internal", port: 7 }],
    ["the target counts as the flags: it wins over the variables", () => client(["127.0.0.1:7"], { TCP_ECHO_HOST: "10.0.0.1", TCP_ECHO_PORT: "8" }), { host: "127.0.0.1", port: 7 }],
    ["the target wins over the config file", () => client(["[::1]:7", "--config", file(`host = "10.0.0.1"\nport = 8\n`)]), { host: "::1", port: 7 }],
    ["--host takes IPv6 in brackets", () => client(["--host", "[::1]"]), { host: "::1", port: 9999 }],
    ["--host takes a name (underscores as Docker's)", () => client(["--host", "echo_svc.internal"]), { host: "echo_svc.internal", port: 9999 }],
    ["TCP_ECHO_HOST takes a name", () => client([], { TCP_ECHO_HOST: "echo.internal" }), { host: "echo.internal", port: 9999 }],
    ["bench: the target after the options", () => bench(["--mode", "pingpong", "127.0.0.1:7007"]), { host: "127.0.0.1", port: 7007 }],
    ["bench: the target before them", () => bench(["[::1]:7007", "--mode", "pingpong"]), { host: "::1", port: 7007 }],
  ];
  for (const [name, f, expected] of cases) test(name, () => expect(f().settings).toMatchObject(expected));

  const bad: [string, () => unknown, string][] = [
    ["target and --host", () => client(["[::1]:9999", "--host", "::1"]), `target "[::1]:9999" and --host are both given: use one`],
    ["a bare target and --host", () => client(["localhost", "--host", "::1"]), `target "localhost" and --host are both given: use one`],
    ["target with a port and --port", () => client(["localhost:7", "--port", "8"]), `target "localhost:7" and --port are both given: use one`],
    ["bench: target and --port", () => bench(["--mode", "pingpong", "--port", "8", "127.0.0.1:7"]), `target "127.0.0.1:7" and --port are both given: use one`],
    ["two arguments, nc style", () => client(["localhost", "7"]), `unexpected argument "7" (the target is one argument: localhost:7)`],
    ["two arguments with IPv6", () => bench(["--mode", "pingpong", "::1", "7"]), `unexpected argument "7" (the target is one argument: [::1]:7)`],
    ["two targets", () => client(["a.test", "b.test"]), `unexpected argument "b.test"`],
    ["port 0", () => client(["localhost:0"]), `target "localhost:0": "0" is not a port in 1..65535`],
    ["a service name for a port", () => client(["localhost:echo"]), `target "localhost:echo": "echo" is not a port (1..65535)`],
    ["no host", () => client([":9999"]), `target ":9999" is not HOST, HOST:PORT or [IPV6]:PORT (like 127.0.0.1:7, [::1]:9999, localhost:7, echo.internal): no host`],
    ["IPv6 with a port needs brackets", () => client(["fe80::1::2:80"]), `target "fe80::1::2:80" is not HOST, HOST:PORT or [IPV6]:PORT (like 127.0.0.1:7, [::1]:9999, localhost:7, echo.internal) (an IPv6 address goes in brackets before a port)`],
    ["IPv4 in brackets", () => client(["[127.0.0.1]:7"]), `target "[127.0.0.1]:7" is not HOST, HOST:PORT or [IPV6]:PORT (like 127.0.0.1:7, [::1]:9999, localhost:7, echo.internal): "127.0.0.1" is not an IPv6 address`],
    ["an unclosed bracket", () => client(["[::1:99"]), `target "[::1:99" is not HOST, HOST:PORT or [IPV6]:PORT (like 127.0.0.1:7, [::1]:9999, localhost:7, echo.internal) (an IPv6 address goes in brackets before a port)`],
    // getaddrinfo would read these as inet_aton(3) addresses (127.0.0.1, 10.0.0.8), not as names.
    ["127.1", () => client(["127.1"]), `target "127.1": "127.1" is not an IP address or a host name (like 127.0.0.1, ::1, localhost, echo.internal)`],
    ["10.0.0.010:7", () => client(["10.0.0.010:7"]), `target "10.0.0.010:7": "10.0.0.010" is not an IP address or a host name (like 127.0.0.1, ::1, localhost, echo.internal)`],
    ["a URL", () => client(["tcp://echo.internal:7"]), `target "tcp://echo.internal:7" is not HOST, HOST:PORT or [IPV6]:PORT (like 127.0.0.1:7, [::1]:9999, localhost:7, echo.internal): a URL (no scheme: HOST:PORT)`],
    ["--host with a space", () => client(["--host", "echo internal"]), `--host: "echo internal" is not an IP address or a host name (like 127.0.0.1, ::1, localhost, echo.internal)`],
    ["--host with a label ending in -", () => client(["--host", "echo-.internal"]), `--host: "echo-.internal" is not an IP address or a host name (like 127.0.0.1, ::1, localhost, echo.internal)`],
    ["serve still takes no argument", () => serve(["[::1]:9999"]), `unexpected argument "[::1]:9999"`],
  ];
  for (const [name, f, message] of bad) test(`refused: ${name}`, () => expect(usage(f)).toBe(message));

  test("--print-config names the target as the source of host and port", () => {
    const out = client(["[::1]:7", "--print-config"]).print!;
    const row = (name: string) => out.split("\n").find((l) => l.startsWith(`${name} `))!.split(/\s{2,}/);
    expect(row("host")).toEqual(["host", "::1", `flag (target "[::1]:7")`]);
    expect(row("port")).toEqual(["port", "7", `flag (target "[::1]:7")`]);
    const bare = client(["echo.internal", "--port", "8", "--print-config"]).print!;
    expect(bare).toMatch(/^port +8 +flag \(--port\)$/m);
  });
});

describe("client --file", () => {
  test("a file path, or - for standard input; no record is packed", () => {
    const path = file("x");
    expect(client(["--file", path]).settings).toMatchObject({ file: path, record: null });
    expect(client(["--file", "-"]).settings.file).toBe("-");
    expect(client([]).settings.file).toBeNull();
  });

  const bad: [string, () => unknown, string][] = [
    ["with --count", () => client(["--file", "-", "--count", "2"]), "--file sends the input once instead of --message round trips: drop --count"],
    ["with --message", () => client(["--file", "-", "--message", "hi"]), "--file sends the input once instead of --message round trips: drop --message"],
    ["with --record", () => client(["--file", "-", "--record", "!I", "--values", "1"]), "--file sends the input once instead of --message round trips: drop --record"],
    ["with --interval", () => client(["--file", "-", "--interval", "0"]), "--file sends the input once instead of --message round trips: drop --interval"],
    ["with TCP_ECHO_MESSAGE", () => client(["--file", "-"], { TCP_ECHO_MESSAGE: "hi" }), "--file sends the input once instead of --message round trips: drop TCP_ECHO_MESSAGE"],
    ["a missing file", () => client(["--file", "/nonexistent/x.bin"]), `--file: "/nonexistent/x.bin": no such file`],
    ["a directory", () => client(["--file", dir]), `--file: ${JSON.stringify(dir)} is a directory`],
    ["an empty path", () => client(["--file", ""]), "--file: needs a file path, or - for standard input"],
  ];
  for (const [name, f, message] of bad) test(`refused: ${name}`, () => expect(usage(f)).toBe(message));
});
