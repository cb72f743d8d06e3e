// The ClientHello reader, on hellos that real clients (openssl s_client, python3's ssl) send to a
// plain listener, then cut, re-fragmented and corrupted.
import { describe, expect, test } from "bun:test";
import { ClientHelloError, MAX_CLIENT_HELLO, isGrease, parseClientHello, tlsVersionName, type ClientHello } from "../../src/tls/index.ts";
import { pythonCmd } from "../helpers/python.ts";

/** Accepts one connection, reads until a whole ClientHello is in, closes, returns the bytes. */
async function capture(client: (port: number) => string[]): Promise<Uint8Array> {
  const { promise, resolve, reject } = Promise.withResolvers<Uint8Array>();
  let buf = new Uint8Array(0);
  using server = Bun.listen({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      binaryType: "uint8array",
      data(s, d) {
        const all = new Uint8Array(buf.length + d.length);
        all.set(buf);
        all.set(d, buf.length);
        buf = all;
        try {
          if (parseClientHello(buf).kind !== "incomplete") {
            resolve(buf);
            s.terminate();
          }
        } catch (e) {
          reject(e);
          s.terminate();
        }
      },
    },
  });
  const proc = Bun.spawn(client(server.port), { stdin: "pipe", stdout: "ignore", stderr: "ignore", timeout: 10_000 });
  try {
    return await promise;
  } finally {
    proc.kill();
    await proc.exited;
  }
}

const sClient = (args: string[]) => (port: number) => ["openssl", "s_client", "-connect", `127.0.0.1:${port}`, ...args];
const pyClient = (setup: string, host: string) => (port: number) => [
  ...pythonCmd(),
  "-c",
  `import socket, ssl\nctx = ssl.create_default_context()\n${setup}\ntry:\n    ctx.wrap_socket(socket.create_connection(("127.0.0.1", ${port}), timeout=5), server_hostname=${JSON.stringify(host)})\nexcept Exception:\n    pass`,
];

function hello(bytes: Uint8Array): ClientHello {
  const r = parseClientHello(bytes);
  if (r.kind !== "hello") throw new Error(`expected a hello, got ${r.kind}`);
  return r.hello;
}

/** Re-frames a single-record hello into records of at most `size` bytes of handshake data. */
function refragment(bytes: Uint8Array, size: number): Uint8Array {
  const len = (bytes[3]! << 8) | bytes[4]!;
  const body = bytes.subarray(5, 5 + len);
  const parts: number[] = [];
  for (let i = 0; i < body.length; i += size) {
    const chunk = body.subarray(i, i + size);
    parts.push(22, 3, 1, chunk.length >> 8, chunk.length & 0xff, ...chunk);
  }
  return new Uint8Array(parts);
}

describe("ClientHellos from real clients", () => {
  test("openssl s_client: SNI, the ALPN list in the client's order, TLS 1.3 and 1.2 offered", async () => {
    const h = hello(await capture(sClient(["-servername", "foo.test", "-alpn", "h2,http/1.1,spdy/3"])));
    expect(h.serverName).toBe("foo.test");
    expect(h.alpn).toEqual(["h2", "http/1.1", "spdy/3"]);
    expect(h.legacyVersion).toBe(0x0303);
    // In the client's order of preference; older versions follow as the system's OpenSSL config allows.
    expect(h.versions.map(tlsVersionName).slice(0, 2)).toEqual(["TLSv1.3", "TLSv1.2"]);
    expect(h.cipherSuites).toContain(0x1301); // TLS_AES_128_GCM_SHA256
  });

  test("openssl s_client -tls1_2 -noservername: no SNI, no ALPN, only TLS 1.2", async () => {
    const h = hello(await capture(sClient(["-tls1_2", "-noservername"])));
    expect({ serverName: h.serverName, alpn: h.alpn, versions: h.versions }).toEqual({ serverName: null, alpn: [], versions: [0x0303] });
    expect(h.cipherSuites).not.toContain(0x1301);
  });

  test("python3 ssl: server_hostname and set_alpn_protocols come through as sent", async () => {
    const h = hello(await capture(pyClient(`ctx.set_alpn_protocols(["echo/1", "h2"])`, "echo.example.test")));
    expect(h.serverName).toBe("echo.example.test");
    expect(h.alpn).toEqual(["echo/1", "h2"]);
    expect(h.versions.filter((v) => !isGrease(v)).map(tlsVersionName)).toContain("TLSv1.3");
  });
});

describe("partial, fragmented and foreign input", async () => {
  const real = await capture(sClient(["-servername", "frag.test", "-alpn", "h2"]));

  test("every strict prefix of a real hello is 'incomplete', never an error", () => {
    const kinds = new Set<string>();
    for (let n = 0; n < real.length; n++) kinds.add(parseClientHello(real.subarray(0, n)).kind);
    expect([...kinds]).toEqual(["incomplete"]);
    expect(hello(real).recordBytes).toBe(real.length);
  });

  test("the same hello split over records of 1, 7 and 100 bytes reads the same (RFC 8446 §5.1 fragmentation)", () => {
    const whole = hello(real);
    for (const size of [1, 7, 100]) {
      const frag = refragment(real, size);
      expect({ ...hello(frag), recordBytes: 0 }).toEqual({ ...whole, recordBytes: 0 });
      expect(hello(frag).recordBytes).toBe(frag.length);
      // A cut anywhere inside the fragments still waits for more.
      expect(parseClientHello(frag.subarray(0, frag.length - 1)).kind).toBe("incomplete");
    }
  });

  test("bytes after the hello (the next flight) do not change it", () => {
    const more = new Uint8Array([...real, 20, 3, 3, 0, 1, 1]);
    expect(hello(more)).toEqual(hello(real));
  });

  test.each([
    ["an HTTP request", "GET / HTTP/1.1\r\n"],
    ["a PROXY v1 header", "PROXY TCP4 192.0.2.1 192.0.2.2 1 2\r\n"],
    ["a PROXY v2 signature", "\r\n\r\n\0\r\nQUIT\n"],
  ])("%s is 'not-tls' from its first byte", (_what, text) => {
    expect(parseClientHello(new TextEncoder().encode(text)).kind).toBe("not-tls");
    expect(parseClientHello(new TextEncoder().encode(text).subarray(0, 1)).kind).toBe("not-tls");
  });

  test.each([
    ["an alert record after the first fragment", () => new Uint8Array([...refragment(real, 50).subarray(0, 55), 21, 3, 3, 0, 2, 2, 40]), "record type 21"],
    ["a record version that is not 3.x", () => Uint8Array.from([22, 2, 0, 0, 4, 1, 0, 0, 0]), "record version 0200"],
    ["a zero-length record", () => Uint8Array.from([22, 3, 1, 0, 0]), "record length 0"],
    ["a ServerHello", () => Uint8Array.from([22, 3, 3, 0, 4, 2, 0, 0, 0]), "handshake type 2"],
    ["a hello that claims 1 MB, refused before it is buffered", () => Uint8Array.from([22, 3, 1, 0x40, 0, 1, 0x10, 0, 0]), `at most ${MAX_CLIENT_HELLO}`],
    ["a hello whose cipher-suite length overruns it", () => Uint8Array.from([22, 3, 1, 0, 40, 1, 0, 0, 36, 3, 3, ...new Array(32).fill(0), 0, 0xff, 0xff]), "truncated"],
  ])("%s throws ClientHelloError naming the fault", (_what, make, message) => {
    expect(() => parseClientHello(make())).toThrow(ClientHelloError);
    expect(() => parseClientHello(make())).toThrow(message);
  });
});

describe("names", () => {
  test.each([
    [0x0304, "TLSv1.3", false],
    [0x0303, "TLSv1.2", false],
    [0x0301, "TLSv1", false],
    [0x0a0a, "0x0a0a", true],
    [0xfafa, "0xfafa", true],
    [0x0a1a, "0x0a1a", false],
  ])("%p is %s (GREASE: %p)", (v, name, grease) => {
    expect([tlsVersionName(v), isGrease(v)]).toEqual([name, grease]);
  });
});
