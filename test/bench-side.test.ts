// The benchmark's side-by-side group (bench/lib/side-by-side.ts): which pairs run, and how a ratio
// is taken, from records written by hand (the group itself runs in CI's quick benchmark).
import { describe, expect, test } from "bun:test";
import { newRunRecord, type ClientRequest } from "../bench/lib/measure.ts";
import { scenarios as allScenarios, type LoadReport } from "../bench/lib/scenarios.ts";
import { SERVERS } from "../bench/lib/servers.ts";
import { renderSide, sidePairs, summarizeSide } from "../bench/lib/side-by-side.ts";
import type { RunRecord } from "../bench/lib/types.ts";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT } from "./helpers/process.ts";
import { python } from "./helpers/python.ts";

const pp100 = allScenarios(1000).find((s) => s.id === "pp100")!;
const connect16 = allScenarios(1000).find((s) => s.id === "connect16")!;
const spec = (id: string) => SERVERS.find((s) => s.id === id)!;

function rec(round: number, server: string, variant: string, msgs: number | null, p99 = 100, cpuPct = 50): RunRecord {
  const req: ClientRequest = { round, group: "side", scenario: pp100, variant, client: "loadgen", duration: 3, warmup: 1, idleHold: 0, pinned: true };
  const r = newRunRecord(req, server, 3, 1);
  if (msgs === null) {
    r.problems.push("server exited 1 before listening");
    return r;
  }
  r.ok = true;
  r.report = { mode: "pingpong", msgs_per_s: msgs, latency_us: { p50: 50, p90: 80, p99, p999: 200, max: 300, mean: 60 } } as LoadReport;
  r.cpu = { server_pct: cpuPct } as RunRecord["cpu"];
  return r;
}

describe("side by side with bare Bun", () => {
  test("pairs: every contender beside bare Bun, per round and scenario, in rotating order; info logs in connect16 only; none without bare Bun among the servers", () => {
    const servers = [spec("c"), spec("bun"), spec("tcp-echo"), spec("tcp-echo-exe")];
    const pairs = sidePairs(2, [pp100, connect16], servers);
    // Per round: five contenders in pp100, six in connect16.
    expect(pairs.length).toBe(2 * (5 + 6));
    expect(pairs.every((p) => p.partner.id === "bun")).toBe(true);
    expect(pairs.slice(0, 5).map((p) => p.contender.id)).toEqual(["bun", "bun-loaded", "tcp-echo-no-ballast", "tcp-echo", "tcp-echo-exe"]);
    expect(pairs.slice(5, 11).map((p) => p.contender.id)).toEqual(["bun", "bun-loaded", "tcp-echo-no-ballast", "tcp-echo-info", "tcp-echo", "tcp-echo-exe"]);
    expect(pairs.slice(16, 22).map((p) => p.contender.id)).toEqual(["bun-loaded", "tcp-echo-no-ballast", "tcp-echo-info", "tcp-echo", "tcp-echo-exe", "bun"]);
    expect(pairs.filter((p) => p.contender.id === "tcp-echo-info").every((p) => p.scenario.id === "connect16")).toBe(true);
    const paths = { root: "/r", bun: "bun", echoC: "", loadgen: "", exe: "" };
    const flag = (argv: string[], name: string) => argv[argv.indexOf(name) + 1];
    // tcp-echo without its ballast runs the source with --gc-ballast 0.
    const noBallast = pairs.find((p) => p.contender.id === "tcp-echo-no-ballast")!.contender;
    expect(flag(noBallast.argv(paths, pp100, {}), "--gc-ballast")).toBe("0");
    // With info logs it logs what it does without flags: info, pretty.
    const info = pairs.find((p) => p.contender.id === "tcp-echo-info")!.contender.argv(paths, connect16, {});
    expect([flag(info, "--log-level"), flag(info, "--log-format")]).toEqual(["info", "pretty"]);
    expect(info.filter((a) => a === "--log-level")).toHaveLength(1);
    // The three come with tcp-echo from source (bare Bun's --load takes the source's modules).
    expect(sidePairs(1, [pp100], [spec("bun"), spec("tcp-echo-exe")]).map((p) => p.contender.id)).toEqual(["bun", "tcp-echo-exe"]);
    expect(pairs.filter((p) => p.round === 1).every((p) => p.contenderFirst)).toBe(true);
    expect(pairs.filter((p) => p.round === 2).every((p) => !p.contenderFirst)).toBe(true);
    expect(sidePairs(3, [pp100], [spec("c"), spec("tcp-echo")])).toEqual([]);
  });

  test("a ratio is the contender's figure over the bare Bun's beside it in the same round; a round with a failed run is left out", () => {
    const runs = [
      rec(1, "tcp-echo", "contender", 90_000, 120, 50),
      rec(1, "bun", "beside:tcp-echo", 100_000, 100, 50),
      rec(2, "tcp-echo", "contender", 95_000, 100, 50),
      rec(2, "bun", "beside:tcp-echo", 100_000, 100, 50),
      rec(3, "tcp-echo", "contender", 50_000),
      rec(3, "bun", "beside:tcp-echo", null),
      // The control pair in the same rounds must not mix with tcp-echo's.
      rec(1, "bun", "contender", 200_000),
      rec(1, "bun", "beside:bun", 100_000),
    ];
    const [te, control] = summarizeSide(runs, [pp100], [spec("bun"), spec("tcp-echo")]).sort((a, b) => a.contender.localeCompare(b.contender)).reverse();
    expect(te!.contender).toBe("tcp-echo");
    expect(te!.rounds).toEqual([0.9, 0.95]);
    expect(te!.ratio).toBeCloseTo(0.925, 6);
    // CPU per message: (50 / 90,000) / (50 / 100,000) = 1.111 and 1.0526; median 1.0819.
    expect(te!.cpu_ratio).toBeCloseTo((1.1111 + 1.0526) / 2, 3);
    expect(te!.p99_rounds).toEqual([1.2, 1]);
    expect(control!.contender).toBe("bun");
    expect(control!.rounds).toEqual([2]);
    const md = renderSide([te!, control!], 0, 1).join("\n");
    expect(md).toContain("| pp100 (msg/s) | tcp-echo (bun run src/index.ts) | 0.925× | 0.900, 0.950 |");
  });
});

describe("bare Bun with another program's modules loaded (bun-echo.ts --load)", () => {
  test("imports each module before it listens, then echoes 1 MiB byte for byte to a python peer; a module that cannot be loaded stops it", async () => {
    const dir = mkdtempSync(join(tmpdir(), "bun-echo-load-"));
    try {
      const mod = join(dir, "marker.ts");
      writeFileSync(mod, 'process.stdout.write("MODULE LOADED\\n");\nexport const x = 1;\n');
      const proc = Bun.spawn(["bun", `${ROOT}/bench/baseline/bun-echo.ts`, "--port", "0", "--load", mod, "--load", `${ROOT}/src/cli/commands/serve.ts`], { stdout: "pipe", stderr: "pipe" });
      try {
        const reader = proc.stdout.getReader();
        let text = "";
        while (!/LISTENING \d+\n/.test(text)) {
          const { value, done } = await reader.read();
          if (done) throw new Error(`bun-echo exited before listening: ${text}`);
          text += new TextDecoder().decode(value);
        }
        expect(text.split("\n").slice(0, 1)).toEqual(["MODULE LOADED"]);
        const port = Number(/LISTENING (\d+)/.exec(text)![1]);
        const out = await python(
          `import socket,sys,hashlib
data = bytes((i * 7 + 3) % 251 for i in range(1 << 20))
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(data); s.shutdown(socket.SHUT_WR)
got = bytearray()
s.settimeout(10)
while len(got) < len(data):
    b = s.recv(65536)
    if not b: break
    got += b
print(len(got), got == data)`,
          [port],
        );
        expect(out.trim()).toBe("1048576 True");
      } finally {
        proc.kill();
        await proc.exited;
      }
      const bad = Bun.spawnSync(["bun", `${ROOT}/bench/baseline/bun-echo.ts`, "--port", "0", "--load", join(dir, "absent.ts")], { stdout: "pipe", stderr: "pipe" });
      expect(bad.exitCode).not.toBe(0);
      expect(bad.stdout.toString()).not.toContain("LISTENING");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);
});
