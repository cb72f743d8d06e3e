// python3's socket module as an independent peer: what it sees is not filtered through Bun.

/** Runs a python3 script (argv after it: `args`) and returns its stdout; fails on a non-zero exit. */
export async function python(script: string, args: (string | number)[] = [], timeoutMs = 20_000): Promise<string> {
  const proc = Bun.spawn(["python3", "-c", script, ...args.map(String)], { stdout: "pipe", stderr: "pipe" });
  const timer = setTimeout(() => proc.kill(), timeoutMs);
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  clearTimeout(timer);
  if (code !== 0) throw new Error(`python3 exited ${code}: ${err.trim()}`);
  return out;
}
