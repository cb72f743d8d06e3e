// `tcp-echo client --tls` and `tcp-echo bench --tls` against independent TLS servers (python3's ssl
// module, OpenSSL) and against tcp-echo itself: what the client prints is what the server saw, a
// certificate that does not verify is one line and exit 1, and bench verifies every byte over TLS.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import type { TlsConfig } from "../../src/server/index.ts";
import { makePki, type Pair } from "../helpers/pki.ts";
import { runCli } from "../helpers/process.ts";
import { serve } from "../helpers/server.ts";

const pki = makePki();
const SERVER = join(import.meta.dir, "tls_echo_server.py");

/** The python TLS echo server: its port, and a JSON line per connection it served. */
async function pyServer(o: { pair: Pair; ca?: string; require?: boolean; alpn?: string[] }) {
  const proc = Bun.spawn(["python3", SERVER, JSON.stringify({ cert: o.pair.cert, key: o.pair.key, ca: o.ca ?? null, require: o.require ?? false, alpn: o.alpn ?? null })], { stdout: "pipe", stderr: "pipe" });
  const reader = proc.stdout.getReader();
  const lines: string[] = [];
  let buf = "";
  const port = await new Promise<number>((resolve, reject) => {
    void (async () => {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return reject(new Error("the python TLS server ended"));
        buf += new TextDecoder().decode(value);
        let i: number;
        while ((i = buf.indexOf("\n")) >= 0) {
          lines.push(buf.slice(0, i));
          buf = buf.slice(i + 1);
          if (lines.length === 1) resolve(Number(lines[0]));
        }
      }
    })();
  });
  return {
    port,
    /** Connections it reported so far. */
    seen: () => lines.slice(1).map((l) => JSON.parse(l) as Record<string, any>),
    stop: async () => {
      proc.kill();
      await proc.exited;
    },
  };
}

let plain: Awaited<ReturnType<typeof pyServer>>;
let mutual: Awaited<ReturnType<typeof pyServer>>;
beforeAll(async () => {
  [plain, mutual] = await Promise.all([pyServer({ pair: pki.foo, alpn: ["http/1.1", "h2"] }), pyServer({ pair: pki.bar, ca: pki.ca, require: true })]);
});
afterAll(async () => {
  await plain?.stop();
  await mutual?.stop();
  pki.dispose();
});

describe("tcp-echo client --tls", () => {
  test("prints what was negotiated and the server's certificate (subject, SHA-256 as openssl computes it); the python server saw the same version, cipher, ALPN and SNI", async () => {
    const r = await runCli(["client", "--tls", "--tls-ca", pki.ca, "--alpn", "h2,http/1.1", "--count", "2", "--interval", "0", `localhost:${plain.port}`]);
    expect(r.code).toBe(0);
    const line = r.stdout.split("\n").find((l) => l.startsWith("tls: "))!;
    const seen = plain.seen().at(-1)!;
    expect(seen).toMatchObject({ sni: "localhost", alpn: "http/1.1" });
    expect(line).toStartWith(`tls: ${seen.version} ${seen.cipher}, ALPN http/1.1, SNI localhost, server certificate CN=foo.test, O=tcp-echo tests (SHA-256 ${pki.fingerprint(pki.foo.cert)}, valid to `);
    expect(line).toContain(`verified for localhost against ${pki.ca}`);
    expect(r.stdout).toContain("2 sent, 2 echoed, 0 mismatched");
  });

  test("an address is verified against the certificate's IP SANs and sent no SNI (RFC 6066 §3)", async () => {
    const r = await runCli(["client", "--tls", "--tls-ca", pki.ca, "--count", "1", `127.0.0.1:${plain.port}`]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("no SNI");
    expect(r.stdout).toContain("verified for 127.0.0.1");
    expect(plain.seen().at(-1)!.sni).toBeNull();
  });

  const failures: [string, string[], RegExp][] = [
    ["a certificate for another name (--sni)", ["--tls-ca", "CA", "--sni", "other.test"], /failed: Hostname\/IP does not match certificate's altnames: Host: other\.test\. .*\(ERR_TLS_CERT_ALTNAME_INVALID\); server certificate CN=foo\.test/],
    // The python server sends its certificate alone, without the CA: the chain ends at the leaf.
    ["a certificate from an unknown CA (the bundled roots)", [], /failed: unable to verify the first certificate \(UNABLE_TO_VERIFY_LEAF_SIGNATURE\); server certificate CN=foo\.test/],
    ["a certificate from another CA (--tls-ca)", ["--tls-ca", "ROGUE"], /failed: unable to verify the first certificate \(UNABLE_TO_VERIFY_LEAF_SIGNATURE\)/],
  ];
  for (const [what, args, want] of failures) {
    test(`verification failure, ${what}: one line on stderr, exit 1, nothing sent`, async () => {
      const r = await runCli(["client", "--tls", ...args.map((a) => (a === "CA" ? pki.ca : a === "ROGUE" ? pki.rogueCa : a)), `127.0.0.1:${plain.port}`]);
      expect(r.code).toBe(1);
      const err = r.stderr.trim().split("\n");
      expect(err.length).toBe(1);
      expect(err[0]).toMatch(/^tcp-echo: TLS handshake with 127\.0\.0\.1:\d+ (\(SNI other\.test\) )?failed: /);
      expect(err[0]).toMatch(want);
      expect(r.stdout).not.toContain("seq=1");
    });
  }

  test("an address the certificate does not name: refused by our own IP check; --tls-insecure shows the certificate and echoes", async () => {
    // bar.pem names bar.test and *.bar.test only.
    const bad = await runCli(["client", "--tls", "--tls-ca", pki.ca, "--tls-cert", pki.client.cert, "--tls-key", pki.client.key, `127.0.0.1:${mutual.port}`]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/IP: 127\.0\.0\.1 is not in the cert's list/);
    const insecure = await runCli(["client", "--tls", "--tls-insecure", "--tls-cert", pki.client.cert, "--tls-key", pki.client.key, "--count", "1", `127.0.0.1:${mutual.port}`]);
    expect(insecure.code).toBe(0);
    expect(insecure.stdout).toMatch(/server certificate CN=bar\.test, O=tcp-echo tests .*NOT verified \(--tls-insecure\)/);
  });

  test("a client certificate (--tls-cert/--tls-key) for a server that requires one: the server saw its subject; without it the server refuses", async () => {
    const ok = await runCli(["client", "--tls", "--tls-ca", pki.ca, "--sni", "api.bar.test", "--tls-cert", pki.client.cert, "--tls-key", pki.client.key, "--count", "1", `127.0.0.1:${mutual.port}`]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain("verified for api.bar.test");
    expect(mutual.seen().at(-1)).toMatchObject({ sni: "api.bar.test", client: { commonName: "client-one" } });
    const without = await runCli(["client", "--tls", "--tls-ca", pki.ca, "--sni", "bar.test", "--count", "1", "--timeout", "2", `127.0.0.1:${mutual.port}`]);
    expect(without.code).toBe(1);
  });

  const usage: [string, string[], RegExp][] = [
    ["--sni without --tls", ["--sni", "a.test"], /^tcp-echo: --sni needs --tls as well/],
    ["--tls-key without --tls-cert", ["--tls", "--tls-key", "k.pem"], /^tcp-echo: --tls-key needs --tls-cert FILE as well/],
    ["--tls-insecure with --tls-ca", ["--tls", "--tls-insecure", "--tls-ca", "CA"], /^tcp-echo: --tls-insecure and --tls-ca: one verifies/],
    ["an IP address as --sni", ["--tls", "--sni", "10.0.0.1"], /^tcp-echo: --sni: "10\.0\.0\.1" is an IP address/],
    ["a missing CA file", ["--tls", "--tls-ca", "/nonexistent/ca.pem"], /^tcp-echo: --tls-ca: "\/nonexistent\/ca\.pem": no such file/],
    ["a client key that is not the certificate's", ["--tls", "--tls-cert", "CLIENT", "--tls-key", "FOOKEY"], /^tcp-echo: --tls-key: ".*foo\.key" is not the private key of the certificate/],
  ];
  for (const [what, args, want] of usage) {
    test(`usage: ${what} is one line, exit 2`, async () => {
      const map: Record<string, string> = { CA: pki.ca, CLIENT: pki.client.cert, FOOKEY: pki.foo.key };
      const r = await runCli(["client", ...args.map((a) => map[a] ?? a), "127.0.0.1:1"]);
      expect({ code: r.code, lines: r.stderr.trim().split("\n").length }).toEqual({ code: 2, lines: 1 });
      expect(r.stderr).toMatch(want);
    });
  }
});

describe("tcp-echo bench --tls", () => {
  const TLS: TlsConfig = { cert: { kind: "files", cert: pki.foo.cert, key: pki.foo.key }, sni: [], clientCa: null, clientAuth: "off", alpn: null, minVersion: "1.2" };

  test("100 MB through one TLS connection (stream, --count), every byte verified; the server counts the same bytes", async () => {
    await using s = serve({ tls: TLS, timeout: 10 }, "warn");
    const count = 6104; // x 16 KiB = 100.0 MB
    const r = await runCli(["bench", "--tls", "--tls-ca", pki.ca, "--mode", "stream", "--connections", "1", "--count", String(count), "--warmup", "0", "--json", `localhost:${s.port}`], { timeoutMs: 60_000 });
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect({ errors: j.errors, mismatches: j.mismatches, messages: j.messages }).toEqual({ errors: 0, mismatches: 0, messages: count });
    await s.handle.stop();
    expect(s.handle.stats().bytesOut).toBeGreaterThanOrEqual(count * 16384);
    expect(s.handle.stats().byListener.main!.tlsHandshakes).toEqual({ "TLSv1.3 ok": 1 });
  }, 60_000);

  test("every mode over TLS with verification: no error, no mismatch, and the handshakes counted", async () => {
    await using s = serve({ tls: TLS, timeout: 10 }, "warn");
    for (const mode of ["pingpong", "stream", "connect", "idle"]) {
      const r = await runCli(["bench", "--tls", "--tls-ca", pki.ca, "--mode", mode, "--connections", "4", "--duration", "0.4", "--warmup", "0.1", `localhost:${s.port}`], { timeoutMs: 20_000 });
      expect({ mode, code: r.code }).toEqual({ mode, code: 0 });
      expect(r.stdout).toMatch(/^ {2}tls {10}[\d,]+ handshakes; first: TLSv1\.3 .*, SNI localhost, server certificate CN=foo\.test.*verified for localhost/m);
      expect(r.stdout).toContain("errors       0");
      expect(r.stdout).toContain("mismatches   0");
    }
  }, 60_000);

  test("a certificate that does not verify makes every connection an error, exit 1", async () => {
    await using s = serve({ tls: TLS, timeout: 10 }, "warn");
    const r = await runCli(["bench", "--tls", "--tls-ca", pki.ca, "--sni", "wrong.test", "--mode", "pingpong", "--connections", "2", "--duration", "0.3", "--warmup", "0", `127.0.0.1:${s.port}`]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/errors {7}[1-9][\d,]* \(first: TLS handshake failed: Hostname\/IP does not match certificate's altnames: Host: wrong\.test\./);
    expect(r.stdout).toContain("messages     0");
  });
});
