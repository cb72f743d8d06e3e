// Shared helpers for the TLS experiments (issue 17): a throwaway PKI made with the openssl CLI, a
// listening fd made by tcp-echo's own libc path, and bounded runs of openssl s_client / python3.
// Everything talks to 127.0.0.1 only and every child process has a hard time limit.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openListenSocket, getSockName } from "../../src/net/index.ts";

export interface Pki {
  dir: string;
  caCert: string; // path
  /** CN=foo.test, SAN foo.test, localhost, 127.0.0.1; signed by the CA. */
  fooCert: string;
  fooKey: string;
  /** CN=bar.test, SAN bar.test; signed by the CA. */
  barCert: string;
  barKey: string;
  /** CN=client-one, SAN DNS client.test, email one@client.test; signed by the CA. */
  clientCert: string;
  clientKey: string;
  /** A client certificate from another CA: must fail verification. */
  rogueCert: string;
  rogueKey: string;
}

function sh(args: string[], cwd: string): void {
  const r = Bun.spawnSync(args, { cwd, stdout: "pipe", stderr: "pipe", timeout: 20_000 });
  if (r.exitCode !== 0) throw new Error(`${args.join(" ")} failed: ${r.stderr.toString()}`);
}

export function makePki(): Pki {
  const dir = mkdtempSync(join(tmpdir(), "tls-exp-"));
  const ca = (name: string) => {
    sh(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2",
      "-subj", `/CN=${name}`, "-keyout", `${name}.key`, "-out", `${name}.pem`], dir);
  };
  const leaf = (name: string, caName: string, cn: string, san: string, eku: string) => {
    writeFileSync(join(dir, `${name}.ext`), `subjectAltName=${san}\nextendedKeyUsage=${eku}\n`);
    sh(["openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", `/CN=${cn}/O=tcp-echo tests`,
      "-keyout", `${name}.key`, "-out", `${name}.csr`], dir);
    sh(["openssl", "x509", "-req", "-in", `${name}.csr`, "-CA", `${caName}.pem`, "-CAkey", `${caName}.key`, "-CAcreateserial",
      "-days", "2", "-extfile", `${name}.ext`, "-out", `${name}.pem`], dir);
  };
  ca("ca");
  ca("rogue-ca");
  leaf("foo", "ca", "foo.test", "DNS:foo.test,DNS:localhost,IP:127.0.0.1", "serverAuth");
  leaf("bar", "ca", "bar.test", "DNS:bar.test", "serverAuth");
  leaf("client", "ca", "client-one", "DNS:client.test,email:one@client.test", "clientAuth");
  leaf("rogue", "rogue-ca", "rogue-client", "DNS:rogue.test", "clientAuth");
  const p = (f: string) => join(dir, f);
  return {
    dir,
    caCert: p("ca.pem"),
    fooCert: p("foo.pem"),
    fooKey: p("foo.key"),
    barCert: p("bar.pem"),
    barKey: p("bar.key"),
    clientCert: p("client.pem"),
    clientKey: p("client.key"),
    rogueCert: p("rogue.pem"),
    rogueKey: p("rogue.key"),
  };
}

/** A listening fd made the tcp-echo way (libc socket/bind/listen), on 127.0.0.1 and a free port. */
export function ourListenFd(): { fd: number; port: number } {
  const fd = openListenSocket({ host: "127.0.0.1", port: 0, backlog: 128, reusePort: false, recvBuf: null, sendBuf: null, keepalive: null, nodelay: true });
  return { fd, port: getSockName(fd).port };
}

/** Bun.listen with { fd } (absent from Bun's types). */
export function listenFd<T>(opts: object): import("bun").TCPSocketListener<T> {
  return (Bun.listen as unknown as (o: object) => import("bun").TCPSocketListener<T>)(opts);
}

export interface Run {
  code: number | null;
  out: string;
  err: string;
}

/** Runs a command with input, bounded by ms; returns its output. */
export async function run(cmd: string[], input: string | Uint8Array = "", ms = 10_000): Promise<Run> {
  const p = Bun.spawn(cmd, { stdin: "pipe", stdout: "pipe", stderr: "pipe", timeout: ms, killSignal: "SIGKILL" });
  p.stdin.write(input);
  await p.stdin.end();
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  return { code, out, err };
}

/** openssl s_client against 127.0.0.1:port with extra args; stdin is sent then closed. */
export function sClient(port: number, args: string[], input = "", ms = 10_000): Promise<Run> {
  return run(["openssl", "s_client", "-connect", `127.0.0.1:${port}`, "-no_ign_eof", ...args], input, ms);
}

export function python(code: string, ms = 10_000): Promise<Run> {
  return run(["python3", "-c", code], "", ms);
}

/** Pull the interesting lines out of s_client output. */
export function grepLines(text: string, re: RegExp): string[] {
  return text.split("\n").filter((l) => re.test(l)).map((l) => l.trim());
}

export function show(label: string, v: unknown): void {
  console.log(`${label}:`, typeof v === "string" ? v : Bun.inspect(v, { depth: 4 }));
}

export const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Resolves when cond() is true, polling every 5 ms; rejects after ms. */
export async function until(cond: () => boolean, ms = 5000, what = "condition"): Promise<void> {
  const t0 = performance.now();
  while (!cond()) {
    if (performance.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await wait(5);
  }
}
