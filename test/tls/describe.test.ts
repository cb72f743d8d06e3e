// Certificate summaries for the logs, checked against what the openssl CLI prints for the same file,
// and taken from a real mutual-TLS handshake with a python3 client.
import { afterAll, describe, expect, test } from "bun:test";
import { X509Certificate } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describeCertificate, describePeerCertificate, splitSubjectAltName, type CertificateSummary } from "../../src/tls/index.ts";
import { python } from "../helpers/python.ts";

const dir = mkdtempSync(join(tmpdir(), "tcp-echo-describe-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function openssl(args: string[]): string {
  const r = Bun.spawnSync(["openssl", ...args], { cwd: dir, stdout: "pipe", stderr: "pipe", timeout: 10_000 });
  if (r.exitCode !== 0) throw new Error(`openssl ${args.join(" ")}: ${r.stderr.toString()}`);
  return r.stdout.toString();
}

/** A client certificate made by openssl (not by our code), with four kinds of SAN. */
const CLIENT_SAN = "DNS:client.test,IP:192.0.2.7,email:one@client.test,URI:spiffe://echo.test/client-one";
openssl([
  "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "3",
  "-subj", "/CN=client-one/O=tcp-echo tests/OU=describe", "-addext", `subjectAltName=${CLIENT_SAN}`,
  "-addext", "extendedKeyUsage=clientAuth", "-keyout", "client.key", "-out", "client.pem",
]);
const clientPem = readFileSync(join(dir, "client.pem"), "utf8");

/** What openssl says about client.pem, in the summary's shape. */
function opensslSummary(): CertificateSummary {
  const field = (opt: string) => openssl(["x509", "-in", "client.pem", "-noout", opt, "-nameopt", "compat", "-dateopt", "iso_8601"]).trim();
  // compat: "subject=/CN=client-one/O=tcp-echo tests/OU=describe"
  const dn = (s: string) => s.replace(/^\w+=\//, "").split("/").join(", ");
  const iso = (s: string) => new Date(s.replace(/^\w+=/, "").replace(" ", "T")).toISOString();
  return {
    subject: dn(field("-subject")),
    issuer: dn(field("-issuer")),
    sans: ["DNS:client.test", "IP Address:192.0.2.7", "email:one@client.test", "URI:spiffe://echo.test/client-one"],
    fingerprint256: field("-fingerprint").replace(/^.*Fingerprint=/, ""),
    serialNumber: field("-serial").replace(/^serial=/, ""),
    notBefore: iso(field("-startdate")),
    notAfter: iso(field("-enddate")),
  };
}

describe("describeCertificate", () => {
  test("a PEM certificate reads as openssl prints it: subject, issuer, every SAN, fingerprint, serial, dates", () => {
    // -fingerprint alone would be SHA-1: ask for SHA-256 explicitly.
    const expected = { ...opensslSummary(), fingerprint256: openssl(["x509", "-in", "client.pem", "-noout", "-fingerprint", "-sha256"]).trim().replace(/^.*Fingerprint=/, "") };
    expect(describeCertificate(clientPem)).toEqual(expected);
    expect(expected.subject).toBe("CN=client-one, O=tcp-echo tests, OU=describe");
  });

  test("gives the same summary for PEM text, DER bytes, an X509Certificate, and getPeerCertificate()'s object", () => {
    const x = new X509Certificate(clientPem);
    const der = new Uint8Array(x.raw);
    const legacy = x.toLegacyObject(); // the shape socket.getPeerCertificate() returns, `raw` included
    const fromPem = describeCertificate(clientPem);
    expect(describeCertificate(der)).toEqual(fromPem);
    expect(describeCertificate(x)).toEqual(fromPem);
    expect(describeCertificate(legacy)).toEqual(fromPem);
  });

  test("text or bytes that are not a certificate throw, and so does a peer object without DER", () => {
    expect(() => describeCertificate("-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----\n")).toThrow();
    expect(() => describeCertificate(new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x00]))).toThrow();
    expect(() => describeCertificate({} as never)).toThrow("no certificate");
  });
});

describe("describePeerCertificate over a real mutual-TLS handshake", () => {
  test("the server sees the python client's certificate as openssl describes it, and null from a client without one", async () => {
    openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "3",
      "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost", "-keyout", "server.key", "-out", "server.pem"]);
    const seen: (CertificateSummary | null)[] = [];
    const { promise: both, resolve } = Promise.withResolvers<void>();
    using listener = Bun.listen({
      hostname: "127.0.0.1",
      port: 0,
      tls: {
        cert: readFileSync(join(dir, "server.pem"), "utf8"),
        key: readFileSync(join(dir, "server.key"), "utf8"),
        ca: clientPem,
        requestCert: true,
        // "request", not "require": the client without a certificate must get through too.
        rejectUnauthorized: false,
      },
      socket: {
        handshake(s) {
          seen.push(describePeerCertificate(s));
          if (seen.length === 2) resolve();
          s.end();
        },
        data() {},
      },
    });
    await python(
      `
import socket, ssl, sys
port, d = int(sys.argv[1]), sys.argv[2]
for with_cert in (True, False):
    ctx = ssl.create_default_context(cafile=d + "/server.pem")
    if with_cert:
        ctx.load_cert_chain(d + "/client.pem", d + "/client.key")
    with ctx.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=5), server_hostname="localhost") as t:
        t.recv(1)  # until the server closes: TLS 1.3 sends the client certificate after the handshake starts
`,
      [listener.port, dir],
    );
    await both;
    const expected = { ...opensslSummary(), fingerprint256: openssl(["x509", "-in", "client.pem", "-noout", "-fingerprint", "-sha256"]).trim().replace(/^.*Fingerprint=/, "") };
    expect(seen).toEqual([expected, null]);
  });
});

describe("splitSubjectAltName", () => {
  test.each([
    [undefined, []],
    ["", []],
    ["DNS:a.test", ["DNS:a.test"]],
    ["DNS:a.test, IP Address:127.0.0.1, email:x@y.test", ["DNS:a.test", "IP Address:127.0.0.1", "email:x@y.test"]],
    // BoringSSL/Node quote a value holding a comma or a quote as a JSON string (CVE-2021-44532 fix).
    ['DNS:"a\\u002c b", URI:"spiffe://x/\\"q\\"", DNS:c', ["DNS:a, b", 'URI:spiffe://x/"q"', "DNS:c"]],
    ["IP Address:0:0:0:0:0:0:0:1", ["IP Address:0:0:0:0:0:0:0:1"]],
  ])("%p -> %p", (text, expected) => {
    expect(splitSubjectAltName(text)).toEqual(expected);
  });
});
