// Independent TLS peers: openssl s_client and python3's ssl module, bounded in time.

export interface Run {
  readonly code: number | null;
  readonly out: string;
  readonly err: string;
}

/** Runs a command with `input` on stdin (then closed), killed after `ms`. */
export async function runWith(cmd: string[], input: string | Uint8Array = "", ms = 10_000): Promise<Run> {
  const p = Bun.spawn(cmd, { stdin: "pipe", stdout: "pipe", stderr: "pipe", timeout: ms, killSignal: "SIGKILL" });
  p.stdin.write(input);
  await p.stdin.end();
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  return { code, out, err };
}

/**
 * openssl s_client to 127.0.0.1:port; stdin is sent, then EOF. -no_ign_eof: s_client ends at our
 * EOF rather than waiting on the server.
 */
export function sClient(port: number, args: string[], input = "", ms = 10_000): Promise<Run> {
  return runWith(["openssl", "s_client", "-connect", `127.0.0.1:${port}`, "-no_ign_eof", ...args], input, ms);
}

/** Runs a python3 script with argv; returns stdout, stderr and the exit code (no throw). */
export function py(script: string, args: (string | number)[] = [], ms = 20_000): Promise<Run> {
  return runWith(["python3", "-c", script, ...args.map(String)], "", ms);
}

/**
 * openssl s_client that sends `line` and ends its input only once the line has come back (or
 * after `ms`): with -no_ign_eof it would quit at our EOF before the echo arrived.
 */
export async function sClientEcho(port: number, args: string[], line: string, ms = 10_000): Promise<Run & { echoed: boolean }> {
  const p = Bun.spawn(["openssl", "s_client", "-connect", `127.0.0.1:${port}`, "-no_ign_eof", ...args], { stdin: "pipe", stdout: "pipe", stderr: "pipe", timeout: ms, killSignal: "SIGKILL" });
  let out = "";
  let echoed = false;
  const decoder = new TextDecoder();
  const reading = (async () => {
    for await (const chunk of p.stdout) {
      out += decoder.decode(chunk, { stream: true });
      // After the handshake report ("---" then the session), the echo is the line itself.
      if (!echoed && out.includes("Verify return code") && out.split("\n").some((l) => l === line)) {
        echoed = true;
        await p.stdin.end();
      }
    }
  })();
  p.stdin.write(line + "\n");
  await p.stdin.flush();
  const [err, code] = await Promise.all([new Response(p.stderr).text(), p.exited, reading]);
  return { code, out, err, echoed };
}
