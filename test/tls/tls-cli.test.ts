// serve's TLS options through the CLI: every mistake one line naming the option and the file
// (exit 2), the start-up report, --tls-self-signed as openssl sees it, SIGHUP reloading
// certificates under an open connection, and --workers serving one certificate.
import { afterAll, describe, expect, test } from "bun:test";
import { copyFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { makePki } from "../helpers/pki.ts";
import { runCli, spawnServer, type ServerProcess } from "../helpers/process.ts";
import { py, runWith, sClient } from "../helpers/tls-peers.ts";

const pki = makePki();
afterAll(() => pki.dispose());
const f = (name: string) => join(pki.dir, name);

Bun.spawnSync(["openssl", "pkey", "-in", pki.foo.key, "-aes256", "-passout", "pass:secret", "-out", f("encrypted.key")]);
Bun.spawnSync(["openssl", "x509", "-in", pki.foo.cert, "-outform", "DER", "-out", f("foo.der")]);
writeFileSync(f("empty.pem"), "");

describe("serve --tls-*: mistakes are one line naming the option and the file, exit 2", () => {
  const cases: [string, string[], RegExp][] = [
    ["a missing certificate file", ["--tls-cert", f("nope.pem"), "--tls-key", pki.foo.key], /^tcp-echo: --tls-cert: ".*nope\.pem": no such file/],
    ["a key that is not the certificate's", ["--tls-cert", pki.foo.cert, "--tls-key", pki.bar.key], /^tcp-echo: --tls-key: ".*bar\.key" is not the private key of the certificate in ".*foo\.pem" \(CN=foo\.test/],
    ["a key given as the certificate", ["--tls-cert", pki.foo.key, "--tls-key", pki.foo.key], /^tcp-echo: --tls-cert: ".*foo\.key" holds no PEM certificate .*: it holds a private key/],
    ["a certificate given as the key", ["--tls-cert", pki.foo.cert, "--tls-key", pki.foo.cert], /^tcp-echo: --tls-key: ".*foo\.pem" holds no PEM private key .*: it holds a certificate/],
    ["an empty certificate file", ["--tls-cert", f("empty.pem"), "--tls-key", pki.foo.key], /^tcp-echo: --tls-cert: ".*empty\.pem" holds no PEM certificate .*: it is empty/],
    ["a DER certificate", ["--tls-cert", f("foo.der"), "--tls-key", pki.foo.key], /^tcp-echo: --tls-cert: ".*foo\.der" is DER, not PEM/],
    ["an encrypted key", ["--tls-cert", pki.foo.cert, "--tls-key", f("encrypted.key")], /^tcp-echo: --tls-key: ".*encrypted\.key" is encrypted/],
    ["a CA file holding a key", ["--tls-cert", pki.foo.cert, "--tls-key", pki.foo.key, "--tls-client-auth", "require", "--tls-client-ca", pki.foo.key], /^tcp-echo: --tls-client-ca: ".*foo\.key" holds no PEM certificate/],
    ["a certificate without its key", ["--tls-cert", pki.foo.cert], /^tcp-echo: --tls-cert needs --tls-key FILE as well/],
    ["a TLS option without a certificate", ["--tls-alpn", "h2"], /^tcp-echo: --tls-alpn needs --tls-cert FILE and --tls-key FILE, or --tls-self-signed/],
    ["files and --tls-self-signed", ["--tls-self-signed", "--tls-cert", pki.foo.cert, "--tls-key", pki.foo.key], /^tcp-echo: --tls-self-signed and --tls-cert both give the certificate/],
    ["a client CA without client auth", ["--tls-self-signed", "--tls-client-ca", pki.ca], /^tcp-echo: --tls-client-ca needs --tls-client-auth request or require/],
    ["require without a client CA", ["--tls-self-signed", "--tls-client-auth", "require"], /^tcp-echo: --tls-client-auth require needs --tls-client-ca FILE/],
    ["an empty ALPN name", ["--tls-self-signed", "--tls-alpn", "h2,,http/1.1"], /^tcp-echo: --tls-alpn: "h2,,http\/1\.1" is not a protocol list .*an empty protocol name/],
    ["TLS 1.1 as the minimum", ["--tls-self-signed", "--tls-min-version", "1.1"], /^tcp-echo: --tls-min-version: "1\.1" is not one of 1\.2, 1\.3/],
    ["a bad file from a variable", ["--tls-key", pki.foo.key], /^tcp-echo: TCP_ECHO_TLS_CERT: ".*nope\.pem": no such file/],
  ];
  for (const [what, args, want] of cases) {
    test(what, async () => {
      const env: Record<string, string> = what.includes("variable") ? { TCP_ECHO_TLS_CERT: f("nope.pem") } : {};
      const r = await runCli(["serve", "--port", "0", ...args], { env });
      expect({ code: r.code, lines: r.stderr.trim().split("\n").length }).toEqual({ code: 2, lines: 1 });
      expect(r.stderr).toMatch(want);
    });
  }

  test("a config file: a tls-sni table with a bad file, an IP as an SNI name, and SNI tables without a default certificate", async () => {
    const write = (name: string, text: string) => (writeFileSync(f(name), text), f(name));
    const base = `tls-cert = "${pki.foo.cert}"\ntls-key = "${pki.foo.key}"\n`;
    const bad = await runCli(["serve", "--config", write("a.toml", `${base}[[tls-sni]]\nnames = ["bar.test"]\ncert = "${pki.bar.cert}"\nkey = "${pki.foo.key}"\n`)]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^tcp-echo: .*a\.toml: tls-sni\[1\]: key: ".*foo\.key" is not the private key of the certificate in ".*bar\.pem"/);
    const ip = await runCli(["serve", "--config", write("b.toml", `[[listener]]\nlisten = "127.0.0.1:0"\n${base}[[listener.tls-sni]]\nnames = ["10.0.0.1"]\ncert = "${pki.bar.cert}"\nkey = "${pki.bar.key}"\n`)]);
    expect(ip.code).toBe(2);
    expect(ip.stderr).toMatch(/b\.toml: listener\[1\]: tls-sni\[1\]: names: "10\.0\.0\.1" is an IP address/);
    const nodefault = await runCli(["serve", "--config", write("c.toml", `[[tls-sni]]\nnames = "bar.test"\ncert = "${pki.bar.cert}"\nkey = "${pki.bar.key}"\n`)]);
    expect(nodefault.code).toBe(2);
    expect(nodefault.stderr).toMatch(/c\.toml: tls-sni: SNI certificates need a default one/);
  });

  test("--print-config shows each listener's TLS as it will be served", async () => {
    const r = await runCli(["serve", "--print-config", "--tls-cert", pki.foo.cert, "--tls-key", pki.foo.key, "--tls-alpn", "h2,http/1.1", "--tls-min-version", "1.3"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`tls ${pki.foo.cert}, min 1.3, client auth off, alpn h2,http/1.1`.replace("tls ", "tls cert "));
    expect(r.stdout).toMatch(/^tls-alpn\s+h2,http\/1\.1\s+flag \(--tls-alpn\)$/m);
  });
});

/** The server certificate openssl s_client received, as PEM. */
function servedPem(out: string): string {
  const m = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----\n/.exec(out);
  if (!m) throw new Error(`no certificate in s_client's output: ${out}`);
  return m[0];
}

/** SHA-256 of the certificate s_client got, by openssl. */
async function servedFingerprint(port: number, extra: string[] = []): Promise<string> {
  const r = await sClient(port, extra, "");
  const x = await runWith(["openssl", "x509", "-noout", "-fingerprint", "-sha256"], servedPem(r.out));
  return x.out.trim().replace(/^.*Fingerprint=/, "");
}

describe("--tls-self-signed", () => {
  test("the report's SHA-256 is the certificate's as openssl computes it; it verifies as localhost and 127.0.0.1 with itself as the CA", async () => {
    await using p = await spawnServer(["--tls-self-signed"]);
    const cert = await p.log.waitFor((e) => e.event === "tls-certificate");
    expect(cert.source).toBe("self-signed");
    expect(cert.sans).toEqual(expect.arrayContaining(["IP Address:127.0.0.1", "DNS:localhost", "IP Address:0:0:0:0:0:0:0:1"]));
    const got = await sClient(p.port, [], "");
    writeFileSync(f("self.pem"), servedPem(got.out));
    const fp = (await runWith(["openssl", "x509", "-noout", "-fingerprint", "-sha256", "-in", f("self.pem")])).out.trim().replace(/^.*Fingerprint=/, "");
    expect(cert.sha256).toBe(fp);
    for (const check of [["-verify_hostname", "localhost"], ["-verify_ip", "127.0.0.1"]]) {
      const v = await sClient(p.port, ["-CAfile", f("self.pem"), "-verify_return_error", ...check], "");
      expect(v.out).toContain("Verify return code: 0 (ok)");
    }
  });
});

/** A python TLS client kept open: it echoes once per line on its stdin and prints what it saw. */
function heldClient(port: number) {
  const proc = Bun.spawn(
    [
      "python3",
      "-c",
      `import hashlib, socket, ssl, sys
ctx = ssl.create_default_context(cafile=sys.argv[2])
t = ctx.wrap_socket(socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10), server_hostname="foo.test")
print(hashlib.sha256(t.getpeercert(True)).hexdigest(), flush=True)
for line in sys.stdin:
    t.sendall(line.encode()); got = b""
    while len(got) < len(line): got += t.recv(100)
    print(got.decode().strip(), flush=True)`,
      String(port),
      pki.ca,
    ],
    { stdin: "pipe", stdout: "pipe" },
  );
  const reader = proc.stdout.getReader();
  let buf = "";
  const nextLine = async () => {
    while (!buf.includes("\n")) {
      const { value, done } = await reader.read();
      if (done) throw new Error("held client ended");
      buf += new TextDecoder().decode(value);
    }
    const i = buf.indexOf("\n");
    const l = buf.slice(0, i);
    buf = buf.slice(i + 1);
    return l;
  };
  return {
    nextLine,
    async echo(text: string) {
      proc.stdin.write(text + "\n");
      await proc.stdin.flush();
      return nextLine();
    },
    async [Symbol.asyncDispose]() {
      proc.kill();
      await proc.exited;
    },
  };
}

const hex = (fp: string) => fp.replace(/:/g, "").toLowerCase();

async function reloaded(p: ServerProcess, n: number, event = "tls-reload"): Promise<void> {
  await p.log.waitFor(() => p.log.of(event).length >= n);
}

describe("SIGHUP reloads certificates", () => {
  test("an open connection keeps echoing across a reload; new ones get the new certificate; a bad file keeps the old one and logs an error", async () => {
    copyFileSync(pki.foo.cert, f("live.pem"));
    copyFileSync(pki.foo.key, f("live.key"));
    await using p = await spawnServer(["--tls-cert", f("live.pem"), "--tls-key", f("live.key"), "--timeout", "0"]);
    await using held = heldClient(p.port);
    expect(await held.nextLine()).toBe(hex(pki.fingerprint(pki.foo.cert)));
    expect(await held.echo("before")).toBe("before");

    copyFileSync(pki.foo2.cert, f("live.pem"));
    copyFileSync(pki.foo2.key, f("live.key"));
    p.proc.kill("SIGHUP");
    await reloaded(p, 1);
    expect(p.log.of("tls-reload")[0]!.sha256).toBe(pki.fingerprint(pki.foo2.cert));
    expect(await servedFingerprint(p.port)).toBe(pki.fingerprint(pki.foo2.cert));
    expect(await held.echo("after the reload")).toBe("after the reload");

    // A half-written certificate (a deploy caught mid-copy): the error is logged, foo2 stays.
    writeFileSync(f("live.pem"), "-----BEGIN CERTIFICATE-----\nMIIB6DCC\n");
    p.proc.kill("SIGHUP");
    const err = await p.log.waitFor((e) => e.event === "tls-reload" && e.level === "error");
    expect(err.msg).toMatch(/certificates not reloaded, the old ones stay: .*live\.pem/);
    expect(await servedFingerprint(p.port)).toBe(pki.fingerprint(pki.foo2.cert));
    expect(await held.echo("still here")).toBe("still here");
    expect(p.proc.exitCode).toBeNull();
  });
});

describe("--workers with TLS", () => {
  test("a self-signed certificate is made once: both workers serve it", async () => {
    await using p = await spawnServer(["--workers", "2", "--tls-self-signed", "--timeout", "0"]);
    for (const w of [1, 2]) await p.log.waitFor((e) => e.event === "worker-ready" && e.worker === w);
    const report = await p.log.waitFor((e) => e.event === "tls-certificate");
    const r = await py(
      `import hashlib, json, socket, ssl, sys
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
out = []
for i in range(24):
    with ctx.wrap_socket(socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)) as t:
        out.append(hashlib.sha256(t.getpeercert(True)).hexdigest()); t.sendall(b"x"); t.recv(1)
print(json.dumps(out))`,
      [p.port],
    );
    const seen = new Set(JSON.parse(r.out) as string[]);
    expect([...seen]).toEqual([hex(report.sha256 as string)]);
    await p.log.waitFor(() => p.log.of("open").length >= 24);
    expect(new Set(p.log.of("open").map((e) => e.worker))).toEqual(new Set([1, 2]));
  });

  test("SIGHUP reaches every worker: each re-reads its certificate files", async () => {
    copyFileSync(pki.foo.cert, f("w.pem"));
    copyFileSync(pki.foo.key, f("w.key"));
    await using p = await spawnServer(["--workers", "2", "--tls-cert", f("w.pem"), "--tls-key", f("w.key")]);
    for (const w of [1, 2]) await p.log.waitFor((e) => e.event === "worker-ready" && e.worker === w);
    copyFileSync(pki.foo2.cert, f("w.pem"));
    copyFileSync(pki.foo2.key, f("w.key"));
    p.proc.kill("SIGHUP");
    await reloaded(p, 2);
    expect(new Set(p.log.of("tls-reload").map((e) => `${e.worker} ${e.sha256}`))).toEqual(new Set([1, 2].map((w) => `${w} ${pki.fingerprint(pki.foo2.cert)}`)));
  });
});
