// Start-up configuration of faults: --toxic, [[toxic]] and [[listener.toxic]] tables, toxiproxy's
// -config file, --seed, and the API's security rule (a non-loopback --api needs a token).
import { describe, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "citty";
import { UsageError } from "../../src/cli/errors.ts";
import { normalizeArgv } from "../../src/cli/flags.ts";
import { argsDef, manyOptions } from "../../src/cli/options/option.ts";
import { SERVE_OPTIONS } from "../../src/cli/options/table.ts";
import { resolveServe } from "../../src/cli/serve-settings.ts";
import { runCli, spawnServer } from "../helpers/process.ts";

const defs = argsDef(SERVE_OPTIONS);
const settings = (argv: string[], env: Record<string, string> = {}) =>
  resolveServe(parseArgs(normalizeArgv(argv, defs, manyOptions(SERVE_OPTIONS)), defs) as Record<string, unknown>, env).settings;
function usage(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof UsageError) return e.message;
    throw e;
  }
  throw new Error("no usage error");
}
const dir = mkdtempSync(join(tmpdir(), "tcp-echo-faults-"));
const file = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

describe("--toxic", () => {
  test("repeatable; TYPE[@STREAM]:k=v,...; name and toxicity as keys; every listener gets them", () => {
    const s = settings(["--toxic", "latency:latency=100,jitter=10", "--toxic", "timeout@upstream:timeout=0,name=stall,toxicity=0.5", "--listen", "a=127.0.0.1:0", "--listen", "b=127.0.0.1:0"]);
    for (const l of s.listeners)
      expect(l.toxics).toEqual([
        { name: "latency_downstream", type: "latency", stream: "downstream", toxicity: 1, attributes: { latency: 100, jitter: 10 } },
        { name: "stall", type: "timeout", stream: "upstream", toxicity: 0.5, attributes: { timeout: 0 } },
      ]);
  });

  test.each([
    [["--toxic", "melt:x=1"], 'invalid toxic type: "melt"'],
    [["--toxic", "latency:latency=-1"], "--toxic: latency: attributes.latency:"],
    [["--toxic", "latency:latency=1.5"], "attributes.latency"],
    [["--toxic", "latency:delay=5"], 'unknown attribute "delay"'],
    [["--toxic", "latency@sideways:latency=5"], "stream was invalid"],
    [["--toxic", "latency:toxicity=2"], "toxicity: 2 is not a number in 0..1"],
    [["--toxic", "latency=5"], "does not start a toxic"],
    [["--toxic", "latency:latency=5", "--toxic", "latency:latency=6"], 'two toxics named "latency_downstream"'],
  ])("%p is refused: %s", (argv, message) => {
    expect(usage(() => settings(argv))).toContain(message);
  });

  test("config file: [[toxic]] for every listener, [[listener.toxic]] for one, in toxiproxy's JSON shape or the short form", () => {
    const p = file(
      "t.toml",
      `
[[toxic]]
type = "latency"
attributes = { latency = 50 }

[[listener]]
name = "a"
listen = "127.0.0.1:0"

[[listener]]
name = "b"
listen = "127.0.0.1:0"
toxic = ["slow_close:delay=200"]

[[listener]]
name = "c"
listen = "127.0.0.1:0"
[[listener.toxic]]
type = "limit_data"
stream = "upstream"
attributes = { bytes = 10 }
`,
    );
    const [a, b, c] = settings(["--config", p]).listeners;
    expect(a!.toxics.map((t) => t.name)).toEqual(["latency_downstream"]);
    expect(b!.toxics.map((t) => t.name)).toEqual(["slow_close_downstream"]);
    expect(c!.toxics).toEqual([{ name: "limit_data_upstream", type: "limit_data", stream: "upstream", toxicity: 1, attributes: { bytes: 10 } }]);
  });
});

describe("--toxiproxy-config, --seed, --api", () => {
  test("toxiproxy's -config JSON: each proxy a listener of that name and address; enabled false starts it disabled", () => {
    const p = file(
      "toxiproxy.json",
      JSON.stringify([
        { name: "redis", listen: "127.0.0.1:26379", upstream: "localhost:6379", enabled: true },
        { name: "pg", listen: "[::1]:25432", upstream: "echo", enabled: false },
        { name: "any", listen: ":24000", upstream: "" },
      ]),
    );
    const s = settings(["--toxiproxy-config", p]);
    expect(s.listeners.map((l) => [l.name, l.host, l.port, l.enabled, l.upstream])).toEqual([
      ["redis", "127.0.0.1", 26379, true, "localhost:6379"],
      ["pg", "::1", 25432, false, "echo"],
      ["any", "::", 24000, true, "echo"],
    ]);
    expect(usage(() => settings(["--toxiproxy-config", file("bad.json", '[{"name":"x","listen":"db:1"}]')]))).toContain("proxy 1: listen");
    expect(usage(() => settings(["--toxiproxy-config", join(dir, "missing.json")]))).toContain("no such file");
  });

  test("--seed is the toxics' seed", () => {
    expect(settings(["--seed", "42"]).seed).toBe(42);
    expect(settings([]).seed).toBeNull();
  });

  test("a non-loopback --api needs a token; loopback does not; --workers > 1 is refused with one line", () => {
    expect(usage(() => settings(["--api", "0.0.0.0:8474"]))).toMatch(/not a loopback address.*--api-token/);
    expect(settings(["--api", "0.0.0.0:8474", "--api-token", "t"]).apiToken).toBe("t");
    expect(settings(["--api", "0.0.0.0:8474"], { TCP_ECHO_API_TOKEN: "t" }).apiToken).toBe("t");
    expect(settings(["--api", "127.0.0.1:8474"]).api).toEqual({ host: "127.0.0.1", port: 8474 });
    // A bare port binds loopback: the safe default.
    expect(settings(["--api", "8474"]).api).toEqual({ host: "127.0.0.1", port: 8474 });
    expect(usage(() => settings(["--api", "127.0.0.1:8474", "--workers", "2"]))).toContain("needs a single process");
  });

  test("the process: a non-loopback --api without a token exits 2 with the reason", async () => {
    const r = await runCli(["--port", "0", "--api", "0.0.0.0:0"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("not a loopback address");
  });

  test("the process: --api serves toxiproxy's routes and --toxic acts from the start", async () => {
    await using srv = await spawnServer(["--timeout", "0", "--api", "127.0.0.1:0", "--toxic", "latency:latency=150"]);
    const api = await srv.log.waitFor((e) => e.event === "api");
    const proxies = (await (await fetch(`http://127.0.0.1:${api.port}/proxies`)).json()) as Record<string, { toxics: { name: string }[] }>;
    expect(proxies.main!.toxics.map((t) => t.name)).toEqual(["latency_downstream"]);
    const t = performance.now();
    const c = await Bun.connect({ hostname: "127.0.0.1", port: srv.port, socket: { data: () => void done.resolve() } });
    const done = Promise.withResolvers<void>();
    c.write("x");
    await done.promise;
    expect(performance.now() - t).toBeGreaterThanOrEqual(150);
    c.end();
  });
});
