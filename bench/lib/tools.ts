// Builds what the benchmark runs (C baseline and load generator with `cc -O2`, the tcp-echo executable)
// into bench/build/, and probes which tcp-echo features exist in this tree.
import { existsSync, readdirSync, statSync } from "node:fs";
import type { Paths } from "./servers.ts";

export interface Prepared {
  readonly paths: Paths;
  /** Said in the results (e.g. a stale executable was used). */
  readonly notes: string[];
  /** Anything that makes the run invalid. */
  readonly failures: string[];
  /** false: the compiled executable could not be built and none exists. */
  readonly exeAvailable: boolean;
}

async function run(cmd: string[], cwd: string): Promise<{ code: number; out: string }> {
  const p = Bun.spawn(cmd, { cwd, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  return { code, out: (out + err).trim() };
}

function newestMtime(paths: string[]): number {
  let newest = 0;
  const visit = (p: string) => {
    const st = statSync(p, { throwIfNoEntry: false });
    if (!st) return;
    if (st.isDirectory()) for (const e of readdirSync(p)) visit(`${p}/${e}`);
    else newest = Math.max(newest, st.mtimeMs);
  };
  for (const p of paths) visit(p);
  return newest;
}

const mtime = (p: string) => statSync(p, { throwIfNoEntry: false })?.mtimeMs ?? 0;

export async function prepare(root: string, buildDir: string): Promise<Prepared> {
  const notes: string[] = [];
  const failures: string[] = [];
  const paths: Paths = {
    root,
    bun: process.execPath,
    echoC: `${buildDir}/echo-c`,
    loadgen: `${buildDir}/loadgen`,
    exe: `${buildDir}/tcp-echo`,
  };
  const cc = (out: string, src: string) =>
    run(["cc", "-O2", "-Wall", "-Wextra", "-o", out, src], root).then((r) => {
      if (r.code !== 0) failures.push(`cc ${src} failed: ${r.out.slice(0, 800)}`);
      else if (r.out) notes.push(`cc ${src} warned: ${r.out.slice(0, 400)}`);
    });

  // An executable newer than every source is used as it is (CI has just run `bun run build`);
  // otherwise build.ts builds one into bench/build/.
  const sources = ["src", "package.json", "bun.lock", "build.ts"].map((p) => `${root}/${p}`);
  const candidates = [`${root}/dist/tcp-echo`, paths.exe];
  const exeJob = (async () => {
    const srcTime = newestMtime(sources);
    const fresh = candidates.find((p) => mtime(p) >= srcTime);
    if (fresh) {
      paths.exe = fresh;
      return true;
    }
    const built = `${buildDir}/tcp-echo`;
    const r = await run([process.execPath, "run", "build.ts", built], root);
    if (r.code === 0 && existsSync(built)) {
      paths.exe = built;
      return true;
    }
    const firstError = r.out.split("\n").find((l) => l.includes("error")) ?? r.out.split("\n")[0] ?? "";
    const fallback = candidates.filter((p) => existsSync(p)).sort((a, b) => mtime(b) - mtime(a))[0];
    if (!fallback) {
      failures.push(`building the tcp-echo executable failed (${firstError.trim()}) and none exists`);
      return false;
    }
    paths.exe = fallback;
    notes.push(
      `building the tcp-echo executable from this tree failed (${firstError.trim()}); ` +
        `measured the older ${fallback.replace(`${root}/`, "")} (built ${new Date(mtime(fallback)).toISOString()})`,
    );
    return true;
  })();

  const [, , exeAvailable] = await Promise.all([
    cc(paths.echoC, `${root}/bench/baseline/echo.c`),
    cc(paths.loadgen, `${root}/bench/loadgen/loadgen.c`),
    exeJob,
  ]);
  return { paths, notes, failures, exeAvailable };
}

export interface Features {
  /** serve flags found in `serve --help`. */
  readonly serveFlags: Set<string>;
  /** `tcp-echo bench` exists (its --help succeeds). */
  readonly benchCommand: boolean;
  readonly benchProbe: string;
}

export async function probeFeatures(paths: Paths): Promise<Features> {
  const cli = [paths.bun, "run", `${paths.root}/src/index.ts`];
  const [serve, bench] = await Promise.all([
    run([...cli, "serve", "--help"], paths.root),
    run([...cli, "bench", "--help"], paths.root),
  ]);
  const plain = serve.out.replace(/\x1b\[[0-9;]*m/g, "");
  const serveFlags = new Set([...plain.matchAll(/--[a-z][a-z-]*/g)].map((m) => m[0]));
  const benchCommand = bench.code === 0 && /--json/.test(bench.out);
  return { serveFlags, benchCommand, benchProbe: bench.out.split("\n")[0]?.slice(0, 200) ?? "" };
}
