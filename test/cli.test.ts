import { describe, expect, test } from "bun:test";
import { runCli, spawnServer } from "./helpers/process.ts";
import { normalizeArgv } from "../src/cli/flags.ts";
import { argsDef } from "../src/cli/options/option.ts";
import { SERVE_OPTIONS } from "../src/cli/options/table.ts";
import pkg from "../package.json" with { type: "json" };

describe.concurrent("bad input: one line naming the option and the command's help, exit 2", () => {
  // One spawned process per command for the exit code and the printing; the messages of every
  // option are checked in-process by options-table.test.ts.
  const cases: [string[], string][] = [
    [["--timeout", "soon"], `tcp-echo: --timeout: "soon" is not a duration (like 5.5, 5.5s, 500ms, 2m, 1h) in 0..2147483.647 s (see tcp-echo serve --help)`],
    [["client", "--count", "0"], `tcp-echo: --count: "0" is not a whole number in 1..2147483647 (see tcp-echo client --help)`],
    [["bench", "--mode", "warp"], `tcp-echo: --mode: "warp" is not one of pingpong, stream, connect, idle (see tcp-echo bench --help)`],
    [["frobnicate"], `tcp-echo: unknown command "frobnicate" (commands: serve, client, bench) (see tcp-echo --help)`],
  ];
  test.concurrent.each(cases)("tcp-echo %p", async (argv, line) => {
    const r = await runCli(argv);
    expect({ code: r.code, stderr: r.stderr, stdout: r.stdout }).toEqual({ code: 2, stderr: `${line}\n`, stdout: "" });
  });
});

describe.concurrent("argv shapes: unknown, valueless and stray arguments", () => {
  const defs = argsDef(SERVE_OPTIONS);
  const cases: [string[], string][] = [
    [["--bogus"], "unknown option --bogus"],
    [["--prot", "1"], "unknown option --prot"],
    [["--nodelay=1"], `--nodelay takes no value (got "1")`],
    [["--port"], "--port needs a value"],
    [["extra"], `unexpected argument "extra"`],
    [["-p", "1"], `unknown option "-p"`],
  ];
  for (const [argv, message] of cases) test(argv.join(" "), () => expect(() => normalizeArgv(argv, defs)).toThrow(message));
  test("a negative number reaches the option's own check", () => expect(normalizeArgv(["--timeout", "-1"], defs)).toEqual(["--timeout=-1"]));
});

describe.concurrent("runtime failures: errno name and meaning, exit 1", () => {
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

describe.concurrent("help, version, options from the environment", () => {
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
    // Every option of the table, with its default; no line wider than 80 columns; no colour when
    // stdout is not a terminal; examples, the variable rule and the exit codes at the end.
    for (const o of Object.values(SERVE_OPTIONS)) expect(serve.stdout).toContain(`--${o.name}`);
    expect(serve.stdout).toContain("[5.5]");
    expect(serve.stdout.split("\n").filter((l) => l.length > 80)).toEqual([]);
    expect(serve.stdout).not.toContain("\x1b[");
    expect(serve.stdout).toMatch(/Examples:[\s\S]*Environment:[\s\S]*TCP_ECHO_<OPTION>[\s\S]*Exit codes:/);
  });

  test("TCP_ECHO_* variables set options, and a flag wins over its variable", async () => {
    await using p = await spawnServer(["--max-buffer", "128k"], { env: { TCP_ECHO_TIMEOUT: "2.5", TCP_ECHO_MAX_BUFFER: "1k", TCP_ECHO_NODELAY: "0" } });
    const listening = await p.log.waitFor((e) => e.event === "listening");
    expect(listening).toMatchObject({ timeout: 2.5, max_buffer: 128 * 1024 });
    const nodelay = await p.log.waitFor((e) => e.event === "option" && e.option === "TCP_NODELAY");
    expect(nodelay).toMatchObject({ asked: false });
  });
});
