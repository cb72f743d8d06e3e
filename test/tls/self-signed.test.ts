// The --tls-self-signed certificate, checked by peers that share no code with it: the openssl CLI
// (OpenSSL 3) reads and verifies it, python3's ssl module trusts it as a CA and checks the names.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { checkCertificateName, makeSelfSigned, type SelfSignedCertificate } from "../../src/tls/index.ts";
import { python } from "../helpers/python.ts";

const dir = mkdtempSync(join(tmpdir(), "tcp-echo-selfsigned-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const NAMES = ["echo.test", "localhost", "127.0.0.1", "::1", "*.svc.echo.test"];
let made: Promise<{ c: SelfSignedCertificate; certFile: string; keyFile: string }> | null = null;
/** One certificate, valid now, for most of the file (the first one made pays the library import). */
function cert() {
  return (made ??= makeSelfSigned({ names: NAMES }).then((c) => ({ c, ...save("cert", c) })));
}

function save(name: string, c: SelfSignedCertificate): { certFile: string; keyFile: string } {
  const certFile = join(dir, `${name}.pem`);
  const keyFile = join(dir, `${name}.key`);
  writeFileSync(certFile, c.certPem);
  writeFileSync(keyFile, c.keyPem);
  return { certFile, keyFile };
}

function openssl(args: string[]): { code: number; out: string } {
  const r = Bun.spawnSync(["openssl", ...args], { stdout: "pipe", stderr: "pipe", timeout: 10_000 });
  return { code: r.exitCode ?? -1, out: r.stdout.toString() + r.stderr.toString() };
}

describe("self-signed certificate, as openssl reads it", () => {
  test("has every name as a SAN of its kind (DNS or IP), an ECDSA P-256 key, CA:FALSE and the first name as CN", async () => {
    const { certFile } = await cert();
    const { code, out } = openssl(["x509", "-in", certFile, "-noout", "-text"]);
    expect(code).toBe(0);
    const san = /X509v3 Subject Alternative Name:\s*\n\s*(.+)\n/.exec(out)?.[1]?.trim();
    // OpenSSL 3.0 prints ::1 uncompressed.
    expect(san).toBe("DNS:echo.test, DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1, DNS:*.svc.echo.test");
    expect(out).toContain("Public Key Algorithm: id-ecPublicKey");
    expect(out).toContain("NIST CURVE: P-256");
    expect(out).toContain("Signature Algorithm: ecdsa-with-SHA256");
    expect(out).toMatch(/Basic Constraints: critical\s*\n\s*CA:FALSE/);
    expect(out).toMatch(/Extended Key Usage:\s*\n\s*TLS Web Server Authentication, TLS Web Client Authentication/);
    expect(out).toContain("Subject: CN = echo.test, O = tcp-echo self-signed");
  });

  test("is valid from one hour before `now` to `days` after it, and openssl verify agrees at both ends", async () => {
    const now = new Date("2026-03-01T12:00:00.750Z");
    const c = await makeSelfSigned({ names: ["localhost"], days: 10, now });
    const { certFile } = save("pinned", c);
    const { out } = openssl(["x509", "-in", certFile, "-noout", "-startdate", "-enddate", "-dateopt", "iso_8601"]);
    expect(out.trim().split("\n")).toEqual(["notBefore=2026-03-01 11:00:00Z", "notAfter=2026-03-11 12:00:00Z"]);
    expect([c.notBefore.toISOString(), c.notAfter.toISOString()]).toEqual(["2026-03-01T11:00:00.000Z", "2026-03-11T12:00:00.000Z"]);
    const verifyAt = (iso: string) => openssl(["verify", "-attime", String(Date.parse(iso) / 1000), "-CAfile", certFile, certFile]).out;
    expect(verifyAt("2026-03-01T11:00:00Z")).toBe(`${certFile}: OK\n`);
    expect(verifyAt("2026-03-01T10:59:59Z")).toContain("certificate is not yet valid");
    expect(verifyAt("2026-03-11T12:00:01Z")).toContain("certificate has expired");
  });

  test("verifies against itself as the only trusted certificate (openssl verify, also -x509_strict)", async () => {
    const { certFile } = await cert();
    expect(openssl(["verify", "-CAfile", certFile, certFile])).toEqual({ code: 0, out: `${certFile}: OK\n` });
    expect(openssl(["verify", "-x509_strict", "-CAfile", certFile, certFile]).code).toBe(0);
  });

  test("reports the SHA-256 fingerprint, subject and SANs exactly as openssl prints them", async () => {
    const { c, certFile } = await cert();
    const { out } = openssl(["x509", "-in", certFile, "-noout", "-fingerprint", "-sha256"]);
    expect(out.trim()).toBe(`sha256 Fingerprint=${c.fingerprint256}`);
    expect(c.subject).toBe("CN=echo.test, O=tcp-echo self-signed");
    expect(c.sans).toEqual(["DNS:echo.test", "DNS:localhost", "IP Address:127.0.0.1", "IP Address:0:0:0:0:0:0:0:1", "DNS:*.svc.echo.test"]);
  });

  test("comes with its PKCS#8 private key: the public halves of key and certificate are the same", async () => {
    const { c, certFile, keyFile } = await cert();
    expect(c.keyPem).toStartWith("-----BEGIN PRIVATE KEY-----\n");
    const fromKey = openssl(["pkey", "-in", keyFile, "-pubout"]);
    const fromCert = openssl(["x509", "-in", certFile, "-noout", "-pubkey"]);
    expect(fromKey.code).toBe(0);
    expect(fromKey.out).toBe(fromCert.out);
  });

  test("two certificates made in a row have different keys, serials and fingerprints", async () => {
    const [a, b] = await Promise.all([makeSelfSigned({ names: ["localhost"] }), makeSelfSigned({ names: ["localhost"] })]);
    expect(a.keyPem).not.toBe(b.keyPem);
    expect(a.fingerprint256).not.toBe(b.fingerprint256);
    const serial = (pem: string) => {
      const f = join(dir, `s-${Math.random()}.pem`);
      writeFileSync(f, pem);
      return openssl(["x509", "-in", f, "-noout", "-serial"]).out.trim();
    };
    const [sa, sb] = [serial(a.certPem), serial(b.certPem)];
    expect(sa).not.toBe(sb);
    // 16 octets with the top bit clear: a positive serial of 128 bits (RFC 5280 §4.1.2.2).
    expect(sa).toMatch(/^serial=[4-7][0-9A-F]{31}$/);
  });
});

describe("self-signed certificate, used by a TLS server", () => {
  test("python3 ssl trusts it as CA for each DNS and IP SAN and refuses any other hostname", async () => {
    const { c, certFile } = await cert();
    // A one-line TLS echo on the certificate: what is under test is the certificate, not tcp-echo.
    using server = Bun.listen({
      hostname: "127.0.0.1",
      port: 0,
      tls: { cert: c.certPem, key: c.keyPem },
      socket: {
        data(s, d) {
          s.write(d);
        },
      },
    });
    const out = await python(
      `
import socket, ssl, sys
port, cafile = int(sys.argv[1]), sys.argv[2]
ctx = ssl.create_default_context(cafile=cafile)
for name in ["echo.test", "localhost", "127.0.0.1", "a.svc.echo.test", "other.test", "svc.echo.test", "127.0.0.2"]:
    try:
        with ctx.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=5), server_hostname=name) as t:
            t.sendall(name.encode())
            print(name, "ok", t.recv(100).decode() == name)
    except ssl.SSLCertVerificationError as e:
        print(name, "refused", e.verify_message)
`,
      [server.port, certFile],
    );
    expect(out.trim().split("\n")).toEqual([
      "echo.test ok True",
      "localhost ok True",
      "127.0.0.1 ok True",
      "a.svc.echo.test ok True",
      "other.test refused Hostname mismatch, certificate is not valid for 'other.test'.",
      "svc.echo.test refused Hostname mismatch, certificate is not valid for 'svc.echo.test'.",
      "127.0.0.2 refused IP address mismatch, certificate is not valid for '127.0.0.2'.",
    ]);
  });
});

describe("certificate names", () => {
  test.each([
    ["localhost", "dns"],
    ["echo.test.", "dns"],
    ["*.echo.test", "dns"],
    ["10.1.2.3", "ip"],
    ["::1", "ip"],
    ["fe80::1", "ip"],
    ["10.0.0.256x", "dns"],
  ])("%p is a %s name", (name, kind) => {
    expect(checkCertificateName(name)).toBe(kind as "dns" | "ip");
  });

  test.each(["", "a b", "under_score.test", "-lead.test", "foo.*.test", "a..b", `${"x".repeat(64)}.test`, "10.0.0.256", "1.2.3"])(
    "%p is refused, and the message names it",
    async (name) => {
      expect(() => checkCertificateName(name)).toThrow(`"${name}" is neither an IP address nor a DNS name`);
      await expect(makeSelfSigned({ names: ["localhost", name] })).rejects.toThrow(`"${name}"`);
    },
  );

  test("no names, or days that are not positive, are refused before any key is made", async () => {
    await expect(makeSelfSigned({ names: [] })).rejects.toThrow("at least one name");
    await expect(makeSelfSigned({ names: ["localhost"], days: 0 })).rejects.toThrow("days must be positive, not 0");
  });
});
