// python3's socket module as an independent peer: what it sees is not filtered through Bun.

let interpreter: string | null = null;

/**
 * How to start python3: the interpreter itself with -S. A version manager's shim (pyenv's is a bash
 * script that runs `pyenv exec`) and site-packages cost 0.5 s per start here against 0.07 s for
 * the binary with -S (measured), and the suite starts python some hundred times. The peers use
 * the standard library only, which -S keeps.
 */
export function pythonCmd(): string[] {
  if (interpreter === null) {
    const p = Bun.spawnSync(["python3", "-S", "-c", "import sys; print(sys.executable)"], { stdout: "pipe", stderr: "pipe", timeout: 10_000 });
    const path = p.stdout.toString().trim();
    interpreter = p.exitCode === 0 && path ? path : "python3";
  }
  return [interpreter, "-S"];
}

/** Runs a python3 script (argv after it: `args`) and returns its stdout; fails on a non-zero exit. */
export async function python(script: string, args: (string | number)[] = [], timeoutMs = 20_000): Promise<string> {
  const proc = Bun.spawn([...pythonCmd(), "-c", script, ...args.map(String)], { stdout: "pipe", stderr: "pipe" });
  const timer = setTimeout(() => proc.kill(), timeoutMs);
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  clearTimeout(timer);
  if (code !== 0) throw new Error(`python3 exited ${code}: ${err.trim()}`);
  return out;
}
