// A throwaway PKI made by the openssl CLI (an independent implementation: nothing here goes through
// our code or Bun's), in a temporary directory removed by dispose().
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface Pki {
  readonly dir: string;
  /** The CA every certificate below is signed by (except the rogue ones). */
  readonly ca: string;
  /** CN=foo.test; SANs foo.test, localhost, 127.0.0.1, ::1; serverAuth. */
  readonly foo: Pair;
  /** The same names as foo, another key: a renewed certificate (reload tests). */
  readonly foo2: Pair;
  /** CN=bar.test; SANs bar.test, *.bar.test. */
  readonly bar: Pair;
  /** CN=client-one; SANs client.test, email one@client.test; clientAuth. */
  readonly client: Pair;
  /** A client certificate from another CA (rogue-ca.pem): must not verify against `ca`. */
  readonly rogue: Pair;
  readonly rogueCa: string;
  /** SHA-256 fingerprint as openssl prints it (AB:CD:...). */
  fingerprint(certFile: string): string;
  dispose(): void;
}

export interface Pair {
  readonly cert: string;
  readonly key: string;
}

function run(dir: string, args: string[]): string {
  const r = Bun.spawnSync(["openssl", ...args], { cwd: dir, stdout: "pipe", stderr: "pipe", timeout: 20_000 });
  if (r.exitCode !== 0) throw new Error(`openssl ${args.join(" ")}: ${r.stderr.toString()}`);
  return r.stdout.toString();
}

const EC = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];

export function makePki(): Pki {
  const dir = mkdtempSync(join(tmpdir(), "tcp-echo-pki-"));
  const p = (f: string) => join(dir, f);
  const ca = (name: string) => run(dir, ["req", "-x509", ...EC, "-days", "3", "-subj", `/CN=${name} CA/O=tcp-echo tests`, "-keyout", `${name}.key`, "-out", `${name}.pem`]);
  const leaf = (name: string, caName: string, cn: string, san: string, eku: string): Pair => {
    writeFileSync(p(`${name}.ext`), `subjectAltName=${san}\nextendedKeyUsage=${eku}\n`);
    run(dir, ["req", ...EC, "-subj", `/CN=${cn}/O=tcp-echo tests`, "-keyout", `${name}.key`, "-out", `${name}.csr`]);
    run(dir, ["x509", "-req", "-in", `${name}.csr`, "-CA", `${caName}.pem`, "-CAkey", `${caName}.key`, "-CAcreateserial", "-days", "3", "-extfile", `${name}.ext`, "-out", `${name}.pem`]);
    return { cert: p(`${name}.pem`), key: p(`${name}.key`) };
  };
  ca("ca");
  ca("rogue-ca");
  const fooSan = "DNS:foo.test,DNS:localhost,IP:127.0.0.1,IP:::1";
  return {
    dir,
    ca: p("ca.pem"),
    foo: leaf("foo", "ca", "foo.test", fooSan, "serverAuth"),
    foo2: leaf("foo2", "ca", "foo.test", fooSan, "serverAuth"),
    bar: leaf("bar", "ca", "bar.test", "DNS:bar.test,DNS:*.bar.test", "serverAuth"),
    client: leaf("client", "ca", "client-one", "DNS:client.test,email:one@client.test", "clientAuth"),
    rogue: leaf("rogue", "rogue-ca", "rogue-client", "DNS:rogue.test", "clientAuth"),
    rogueCa: p("rogue-ca.pem"),
    fingerprint: (certFile) => run(dir, ["x509", "-in", certFile, "-noout", "-fingerprint", "-sha256"]).trim().replace(/^.*Fingerprint=/, ""),
    dispose: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export function pem(file: string): string {
  return readFileSync(file, "utf8");
}
