import { describe, expect, test } from "bun:test";
import { runCli, spawnServer } from "./helpers/process.ts";
import pkg from "../package.json" with { type: "json" };

describe("bad input: one line naming the option and the value, exit 2", () => {
  const cases: [string[], RegExp][] = [
    [["--bogus"], /unknown option --bogus/],
    [["serve", "--prot", "1"], /unknown option --prot/],
    [["--port", "70000"], /--port: "70000" is not a port in 0\.\.65535/],
    [["--port", "-1"], /--port: "-1" is not a port/],
    [["--port", "http"], /--port: "http" is not a port/],
    [["--timeout", "-1"], /--timeout: "-1" is not a number of seconds >= 0/],
    [["--timeout", "soon"], /--timeout: "soon" is not a number of seconds/],
    [["--shutdown-timeout", "-2"], /--shutdown-timeout: "-2" is not a number of seconds/],
    [["--recv-buf", "-5"], /--recv-buf: "-5" is not a size in bytes/],
    [["--max-buffer", "lots"], /--max-buffer: "lots" is not a size in bytes/],
    [["--backlog", "1.5"], /--backlog: "1.5" is not a whole number/],
    [["--max-connections", "-3"], /--max-connections: "-3" is not a whole number/],
    [["--keepalive", "0"], /--keepalive: "0" is not a whole number of seconds in 1\.\.32767/],
    [["--keepalive-count", "3"], /--keepalive-count needs --keepalive SECONDS/],
    [["--host", "::1"], /--host: "::1" is not an IPv4 address/],
    [["--host", "300.1.1.1"], /--host: "300.1.1.1" is not an IPv4 address/],
    [["--log-level", "loud"], /--log-level: "loud" is not one of silent, error, warn, info, debug, trace/],
    [["--log-format", "xml"], /--log-format: "xml" is not one of pretty, json/],
    [["--quickack", "sometimes"], /--quickack: "sometimes" is not one of auto, always, off/],
    [["--nodelay=1"], /--nodelay takes no value/],
    [["--port"], /--port needs a value/],
    [["frobnicate"], /unknown command "frobnicate"/],
    [["serve", "extra"], /unexpected argument "extra"/],
  ];
  for (const [argv, message] of cases) {
    test(`tcp-echo ${argv.join(" ")}`, async () => {
      const r = await runCli(argv);
      expect(r.code).toBe(2);
      const lines = r.stderr.trim().split("\n");
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(message);
      expect(r.stderr).not.toContain("    at ");
    });
  }

  test("a bad TCP_ECHO_* variable is named as the variable", async () => {
    const r = await runCli(["serve"], { env: { TCP_ECHO_TIMEOUT: "forever" } });
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toMatch(/^tcp-echo: TCP_ECHO_TIMEOUT: "forever" is not a number of seconds/);
  });
});

describe("runtime failures: errno name and meaning, exit 1", () => {
  test("address in use", async () => {
    await using first = await spawnServer(["--no-reuse-port"]);
    const r = await runCli(["serve", "--port", String(first.port), "--no-reuse-port"]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe(`tcp-echo: bind 127.0.0.1:${first.port} failed: EADDRINUSE: Address already in use`);
  });

  test("an address this machine does not have", async () => {
    const r = await runCli(["serve", "--host", "192.0.2.1", "--port", "0"]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe("tcp-echo: bind 192.0.2.1:0 failed: EADDRNOTAVAIL: Cannot assign requested address");
  });
});

describe("help, version, options from the environment", () => {
  test("--version prints the package version", async () => {
    const r = await runCli(["--version"]);
    expect(r).toMatchObject({ code: 0, stdout: `${pkg.version}\n` });
  });

  test("--help lists the commands, serve --help every option", async () => {
    const top = await runCli(["--help"]);
    expect(top.code).toBe(0);
    expect(top.stdout).toContain("serve");
    const serve = await runCli(["serve", "--help"]);
    expect(serve.code).toBe(0);
    for (const opt of ["--host", "--port", "--timeout", "--backlog", "--recv-buf", "--send-buf", "--quickack", "--nodelay", "--keepalive", "--keepalive-interval", "--keepalive-count", "--reuse-port", "--max-connections", "--max-buffer", "--shutdown-timeout", "--log-level", "--log-format"])
      expect(serve.stdout).toContain(opt);
  });

  test("TCP_ECHO_* variables set options, and a flag wins over its variable", async () => {
    await using p = await spawnServer(["--max-buffer", "128k"], { env: { TCP_ECHO_TIMEOUT: "2.5", TCP_ECHO_MAX_BUFFER: "1k", TCP_ECHO_NODELAY: "0" } });
    const listening = await p.log.waitFor((e) => e.event === "listening");
    expect(listening).toMatchObject({ timeout: 2.5, max_buffer: 128 * 1024 });
    const nodelay = await p.log.waitFor((e) => e.event === "option" && e.option === "TCP_NODELAY");
    expect(nodelay).toMatchObject({ asked: false });
  });
});
