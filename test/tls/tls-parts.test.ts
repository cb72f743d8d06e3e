// The small TLS pieces, without sockets: ALPN lists to the wire format, SNI lookup, and how a client
// plans its handshake for a name or an address.
import { describe, expect, test } from "bun:test";
import { alpnWire, AlpnListError, clientTlsPlan, parseAlpnList, sniTable, type ClientTls } from "../../src/tls/index.ts";

describe("ALPN lists", () => {
  test("a list becomes RFC 7301's wire format: each name prefixed by its length", () => {
    expect(alpnWire(parseAlpnList("h2, http/1.1"))).toBe("\x02h2\x08http/1.1");
    expect(alpnWire(parseAlpnList("x".repeat(255)))).toBe("\xff" + "x".repeat(255));
  });
  const bad: [string, RegExp][] = [
    ["", /empty protocol list/],
    ["h2,", /empty protocol name/],
    ["h 2", /not a protocol name/],
    ["h2,h2", /listed twice/],
    ["x".repeat(256), /256 bytes \(at most 255\)/],
    ["é", /not a protocol name/],
  ];
  for (const [text, want] of bad)
    test(`refused: ${JSON.stringify(text.length > 20 ? text.slice(0, 10) + "..." : text)}`, () => {
      expect(() => parseAlpnList(text)).toThrow(AlpnListError);
      expect(() => parseAlpnList(text)).toThrow(want);
    });
});

describe("SNI lookup", () => {
  const t = sniTable([
    { names: ["a.test", "*.wild.test"], value: "A" },
    { names: ["x.wild.test"], value: "X" },
    { names: ["a.test"], value: "second" },
  ]);
  const cases: [string | null, string | null][] = [
    ["a.test", "A"], // first entry wins among equals
    ["A.TEST", "A"], // RFC 4343: case does not matter
    ["a.test.", "A"], // a trailing dot is the same name
    ["x.wild.test", "X"], // exact wins over wildcard, whatever the order
    ["y.wild.test", "A"],
    ["wild.test", null], // "*." needs one more label (RFC 6125 §6.4.3)
    ["a.b.wild.test", null], // and only one
    ["other.test", null],
    [null, null],
    ["", null],
  ];
  for (const [name, want] of cases) test(`${JSON.stringify(name)} -> ${want}`, () => expect(t.lookup(name)).toBe(want));
});

describe("a client's TLS plan", () => {
  const base: ClientTls = { ca: null, caFile: null, insecure: false, sni: null, alpn: null, cert: null, key: null };
  test("a name: sent as SNI and verified by Bun", () => {
    expect(clientTlsPlan(base, "echo.test")).toMatchObject({ sni: "echo.test", verifyName: "echo.test", checkAddress: null, options: { serverName: "echo.test", rejectUnauthorized: true } });
  });
  test("an address: no SNI (RFC 6066 §3); the chain by Bun, the address by us", () => {
    expect(clientTlsPlan(base, "::1")).toMatchObject({ sni: null, verifyName: "::1", checkAddress: "::1", options: { serverName: "", rejectUnauthorized: false } });
  });
  test("--sni over an address: the name is sent and verified", () => {
    expect(clientTlsPlan({ ...base, sni: "echo.test" }, "10.0.0.1")).toMatchObject({ sni: "echo.test", verifyName: "echo.test", checkAddress: null });
  });
  test("--tls-insecure: nothing verified, ALPN in wire format", () => {
    expect(clientTlsPlan({ ...base, insecure: true, alpn: ["h2"] }, "echo.test")).toMatchObject({ verifyName: null, checkAddress: null, options: { rejectUnauthorized: false, ALPNProtocols: "\x02h2" } });
  });
});

describe("a connection's TLS description (for logs and a /connections API)", () => {
  test("the phase follows the handshake: hello, handshake, done or its failure; the session in the open line's form", async () => {
    const { TlsState } = await import("../../src/server/tls-state.ts");
    const st = new TlsState();
    st.pending = new Uint8Array(100);
    expect(st.toJSON()).toMatchObject({ phase: "hello", hello_bytes: 100, offered: null });
    st.pending = null;
    st.upgraded = true;
    expect(st.toJSON().phase).toBe("handshake");
    st.result = "ok";
    st.session = { version: "TLSv1.3", cipher: "TLS_AES_128_GCM_SHA256", sni: "a.test", alpn: "h2", resumed: false, served: "CN=a.test", offered: null, client: null, handshakeMs: 1.23456 };
    expect(st.toJSON()).toMatchObject({ phase: "done", version: "TLSv1.3", sni: "a.test", alpn: "h2", handshake_ms: 1.235 });
    const failed = new TlsState();
    failed.result = "timeout";
    expect(failed.toJSON().phase).toBe("timeout");
    expect(failed.versionLabel()).toBe("unknown");
  });
});
