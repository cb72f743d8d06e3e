// Reads what a TLS client offers in its ClientHello (RFC 8446 §4.1.2) from the first bytes of a
// connection, before any TLS library sees them. Bun's server sockets tell only what was chosen
// (getServername, alpnProtocol), not what was offered; and to pick a certificate by SNI, or to read a
// PROXY header first, we have to look before handing the bytes to socket.upgradeTLS({ initialData }).
// This never consumes: the caller passes the same bytes on to the TLS engine.

/** What the client offered. Values are as sent, GREASE (RFC 8701) included. */
export interface ClientHello {
  /** legacy_version: 0x0303 for TLS 1.2 and 1.3 clients (RFC 8446 §4.1.2). */
  readonly legacyVersion: number;
  /** supported_versions (RFC 8446 §4.2.1), or [legacyVersion] when the extension is absent. */
  readonly versions: readonly number[];
  /** The host_name of server_name (RFC 6066 §3), or null. */
  readonly serverName: string | null;
  /** application_layer_protocol_negotiation (RFC 7301), in the client's order. */
  readonly alpn: readonly string[];
  readonly cipherSuites: readonly number[];
  /** Bytes of TLS records up to the end of the ClientHello (what a PROXY-then-TLS reader has to hold). */
  readonly recordBytes: number;
}

export type HelloResult =
  | { readonly kind: "hello"; readonly hello: ClientHello }
  /** More bytes are needed; nothing is wrong yet. */
  | { readonly kind: "incomplete" }
  /** The first byte is not a TLS handshake record: a plain-text client on a TLS port. */
  | { readonly kind: "not-tls" };

/** The bytes are TLS records but not a well-formed ClientHello. */
export class ClientHelloError extends Error {
  override readonly name = "ClientHelloError";
}

const RECORD_HANDSHAKE = 22;
const CLIENT_HELLO = 1;
/**
 * A ClientHello larger than this is refused rather than buffered: real ones are 200 B to about 2 KB
 * (a post-quantum key share adds 1.2 KB); RFC 8446 §5.1 allows fragmenting one over several records,
 * and a hostile peer could otherwise make us hold up to 16 MB (the 24-bit handshake length).
 */
export const MAX_CLIENT_HELLO = 64 * 1024;

const EXT_SERVER_NAME = 0;
const EXT_ALPN = 16;
const EXT_SUPPORTED_VERSIONS = 43;

export function parseClientHello(buf: Uint8Array): HelloResult {
  if (buf.length === 0) return { kind: "incomplete" };
  if (buf[0] !== RECORD_HANDSHAKE) return { kind: "not-tls" };
  // Gather the handshake message from consecutive handshake records.
  const body: Uint8Array[] = [];
  let have = 0;
  let need = -1;
  let p = 0;
  while (need < 0 || have < need) {
    if (p + 5 > buf.length) return { kind: "incomplete" };
    if (buf[p] !== RECORD_HANDSHAKE) throw new ClientHelloError(`record type ${buf[p]} inside the ClientHello (expected 22, handshake)`);
    if (buf[p + 1] !== 3) throw new ClientHelloError(`record version ${hex(buf[p + 1]!)}${hex(buf[p + 2]!)} is not TLS`);
    const len = u16(buf, p + 3);
    // RFC 8446 §5.1: zero-length handshake fragments MUST NOT be sent; 2^14 is the plaintext limit.
    if (len === 0 || len > 16384) throw new ClientHelloError(`record length ${len} (1 to 16384 allowed)`);
    if (p + 5 + len > buf.length) {
      // Before the whole record is in, the handshake header may still say the hello is too large.
      if (need < 0 && have === 0 && buf.length >= p + 9) checkHeader(buf, p + 5);
      return { kind: "incomplete" };
    }
    body.push(buf.subarray(p + 5, p + 5 + len));
    have += len;
    p += 5 + len;
    if (need < 0 && have >= 4) need = 4 + checkHeader(concat(body, 4), 0);
  }
  const msg = concat(body, need);
  return { kind: "hello", hello: { ...readHello(msg.subarray(4)), recordBytes: p } };
}

/** Checks the handshake header at `at`; returns the message length. */
function checkHeader(b: Uint8Array, at: number): number {
  if (b[at] !== CLIENT_HELLO) throw new ClientHelloError(`handshake type ${b[at]} (expected 1, ClientHello)`);
  const len = (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!;
  if (len > MAX_CLIENT_HELLO) throw new ClientHelloError(`ClientHello of ${len} B (at most ${MAX_CLIENT_HELLO} accepted)`);
  return len;
}

function readHello(b: Uint8Array): Omit<ClientHello, "recordBytes"> {
  const r = new Reader(b);
  const legacyVersion = r.u16();
  r.skip(32); // random
  r.skip(r.u8()); // legacy_session_id
  const suites = r.sub(r.u16());
  const cipherSuites: number[] = [];
  while (!suites.done()) cipherSuites.push(suites.u16());
  r.skip(r.u8()); // legacy_compression_methods
  let versions: number[] = [legacyVersion];
  let serverName: string | null = null;
  const alpn: string[] = [];
  // Extensions may be absent altogether in a TLS 1.2 ClientHello (RFC 5246 §7.4.1.2).
  if (!r.done()) {
    const exts = r.sub(r.u16());
    while (!exts.done()) {
      const type = exts.u16();
      const e = exts.sub(exts.u16());
      if (type === EXT_SERVER_NAME) serverName = readServerName(e);
      else if (type === EXT_ALPN) {
        const list = e.sub(e.u16());
        while (!list.done()) alpn.push(latin1(list.bytes(list.u8())));
      } else if (type === EXT_SUPPORTED_VERSIONS) {
        const list = e.sub(e.u8());
        versions = [];
        while (!list.done()) versions.push(list.u16());
      }
    }
  }
  return { legacyVersion, versions, serverName, alpn, cipherSuites };
}

function readServerName(e: Reader): string | null {
  const list = e.sub(e.u16());
  while (!list.done()) {
    const type = list.u8();
    const name = list.bytes(list.u16());
    if (type === 0) return latin1(name); // host_name: ASCII (RFC 6066 §3)
  }
  return null;
}

/** The name OpenSSL and Bun use for a protocol version; GREASE and unknown values as hex. */
export function tlsVersionName(v: number): string {
  switch (v) {
    case 0x0304:
      return "TLSv1.3";
    case 0x0303:
      return "TLSv1.2";
    case 0x0302:
      return "TLSv1.1";
    case 0x0301:
      return "TLSv1";
    case 0x0300:
      return "SSLv3";
    default:
      return `0x${v.toString(16).padStart(4, "0")}`;
  }
}

/** RFC 8701: 0x0A0A, 0x1A1A, ... 0xFAFA are sent to keep servers tolerant, never negotiated. */
export function isGrease(v: number): boolean {
  return (v & 0x0f0f) === 0x0a0a && v >> 8 === (v & 0xff);
}

class Reader {
  private p = 0;
  constructor(private readonly b: Uint8Array) {}
  done(): boolean {
    return this.p >= this.b.length;
  }
  private need(n: number): void {
    if (this.p + n > this.b.length) throw new ClientHelloError(`ClientHello truncated: a field needs ${n} B, ${this.b.length - this.p} B left`);
  }
  u8(): number {
    this.need(1);
    return this.b[this.p++]!;
  }
  u16(): number {
    this.need(2);
    const v = u16(this.b, this.p);
    this.p += 2;
    return v;
  }
  skip(n: number): void {
    this.need(n);
    this.p += n;
  }
  bytes(n: number): Uint8Array {
    this.need(n);
    const v = this.b.subarray(this.p, this.p + n);
    this.p += n;
    return v;
  }
  sub(n: number): Reader {
    return new Reader(this.bytes(n));
  }
}

function u16(b: Uint8Array, at: number): number {
  return (b[at]! << 8) | b[at + 1]!;
}

function concat(parts: Uint8Array[], n: number): Uint8Array {
  if (parts.length === 1 && parts[0]!.length >= n) return parts[0]!.subarray(0, n);
  const out = new Uint8Array(n);
  let o = 0;
  for (const part of parts) {
    if (o >= n) break;
    const take = Math.min(part.length, n - o);
    out.set(part.subarray(0, take), o);
    o += take;
  }
  return out;
}

function latin1(b: Uint8Array): string {
  let s = "";
  for (const c of b) s += String.fromCharCode(c);
  return s;
}

function hex(n: number): string {
  return n.toString(16).padStart(2, "0");
}
