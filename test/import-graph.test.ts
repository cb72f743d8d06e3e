// `tcp-echo serve` loads only what serving needs. Every module it loads stays in its heap for
// the life of the process, and each garbage collection walks it: the load generator's
// hdr-histogram-js (with pako and a WASM image) once rode in through an options table and cost
// 3.6 MiB of RSS at start. Read from the bundler's own import graph (`bun build --metafile`).
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT } from "./helpers/process.ts";

const dir = mkdtempSync(join(tmpdir(), "tcp-echo-graph-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Modules `from` reaches through static imports (dynamic import() loads later, on demand). */
function reachable(from: string): Set<string> {
  const built = Bun.spawnSync(["bun", "build", "--target=bun", "--splitting", "--outdir", join(dir, "out"), `--metafile=${join(dir, "meta.json")}`, "src/index.ts"], { cwd: ROOT, stdout: "ignore", stderr: "pipe" });
  if (built.exitCode !== 0) throw new Error(`bun build failed: ${built.stderr.toString()}`);
  const meta = JSON.parse(readFileSync(join(dir, "meta.json"), "utf8")) as { inputs: Record<string, { imports: { path: string; kind: string }[] }> };
  const seen = new Set([from]);
  const queue = [from];
  while (queue.length > 0) {
    for (const i of meta.inputs[queue.shift()!]?.imports ?? []) {
      if (i.kind === "dynamic-import" || seen.has(i.path)) continue;
      seen.add(i.path);
      queue.push(i.path);
    }
  }
  return seen;
}

test("serve statically loads neither the load generator, the client, the self-signed certificate maker's libraries, nor the API, status page and HTTP server it runs only with --api or --metrics", () => {
  const mods = [...reachable("src/cli/commands/serve.ts")];
  expect(mods.length).toBeGreaterThan(50); // the graph was read at all
  const packages = new Set(mods.filter((m) => m.includes("node_modules/")).map((m) => m.split("node_modules/")[1]!.split("/")[0]!));
  expect([...packages].sort()).toEqual(["citty", "consola"]);
  expect(mods.filter((m) => m.startsWith("src/client/") || (m.startsWith("src/bench/") && m !== "src/bench/options.ts"))).toEqual([]);
  // uPlot (52 KB), the status page, the API and their HTTP server: loaded by import() when asked for.
  expect(mods.filter((m) => /^src\/(api|status|http)\//.test(m) || m === "src/cluster/supervisor.ts")).toEqual([]);
  expect(mods).toContain("src/cluster/service.ts");
}, 30_000);
