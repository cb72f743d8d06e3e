// The PROXY protocol header as the parser reports it, and the parse result. Spec: HAProxy's
// doc/proxy-protocol.txt ("The PROXY protocol, Versions 1 & 2"); section numbers below refer to it.

/**
 * Why a header was refused: a fixed set of stable strings, used as Prometheus label values. The
 * parser returns all but "timeout", which the server adds when a header does not complete in time.
 */
export const PROXY_ERROR_REASONS = [
  "bad-signature", // neither "PROXY " (v1) nor the 12-byte v2 signature, or a version not accepted
  "bad-v1", // a v1 line off the grammar of section 2.1, or no CRLF within 107 bytes
  "unsupported-version", // v2 signature with a version nibble other than 2
  "unsupported-command", // v2 command other than LOCAL (0) and PROXY (1)
  "bad-family", // v2 address family > 3 or transport > 2
  "bad-length", // v2 length shorter than the family's address block
  "bad-tlv", // a TLV (or SSL sub-TLV) truncated or running past the header, or a bad fixed length
  "crc-mismatch", // PP2_TYPE_CRC32C present and wrong
  "timeout", // (server) the header did not complete in time
] as const;

export type ProxyErrorReason = (typeof PROXY_ERROR_REASONS)[number];

/** Which header versions a listener accepts. */
export type ProxyAccept = "v1" | "v2" | "any";

/** LOCAL: made by the proxy itself (health checks); the real endpoints apply. PROXY: relayed. */
export type ProxyCommand = "local" | "proxy";
export type ProxyFamily = "unspec" | "inet" | "inet6" | "unix";
export type ProxyTransport = "unspec" | "stream" | "dgram";

export interface ProxyInetAddress {
  readonly family: "inet" | "inet6";
  /** Dotted quad, or IPv6 in RFC 5952 canonical text (lower case, longest zero run as "::"). */
  readonly address: string;
  readonly port: number;
}

export interface ProxyUnixAddress {
  readonly family: "unix";
  /** sun_path up to its first NUL; an abstract socket (leading NUL) as "@name". Bytes that are not UTF-8 show as U+FFFD. */
  readonly path: string;
  /** The 108-byte sun_path field as sent (a view into the header's copy). */
  readonly sunPath: Uint8Array;
}

export type ProxyAddress = ProxyInetAddress | ProxyUnixAddress;

interface TlvBase {
  readonly type: number;
  /** The value bytes (a view into the header's own copy, never into the caller's buffer). */
  readonly value: Uint8Array;
}

/** A text TLV: `text` is the value as UTF-8, or null when the bytes are not valid UTF-8. */
export interface ProxyTextTlv extends TlvBase {
  readonly name: "alpn" | "authority" | "netns";
  readonly text: string | null;
}

export interface ProxyCrc32cTlv extends TlvBase {
  readonly name: "crc32c";
  /** The checksum carried (already verified against the header). */
  readonly checksum: number;
}

/** NOOP (padding), UNIQUE_ID (opaque, at most 128 bytes), and every type we do not decode. */
export interface ProxyOpaqueTlv extends TlvBase {
  readonly name: "noop" | "unique-id" | "unknown";
}

export type ProxySslSubName =
  | "version"
  | "cn"
  | "cipher"
  | "sig-alg"
  | "key-alg"
  | "group"
  | "sig-scheme"
  | "client-cert"
  | "unknown";

export interface ProxySslSubTlv {
  readonly type: number;
  readonly name: ProxySslSubName;
  readonly value: Uint8Array;
  /** UTF-8 text of the string sub-types; null for client-cert (DER), unknown ones, or bad UTF-8. */
  readonly text: string | null;
}

export interface ProxySslTlv extends TlvBase {
  readonly name: "ssl";
  /** Bit field: 0x01 PP2_CLIENT_SSL, 0x02 PP2_CLIENT_CERT_CONN, 0x04 PP2_CLIENT_CERT_SESS. */
  readonly client: number;
  /** 0 when the client presented a certificate and it verified, non-zero otherwise. */
  readonly verify: number;
  readonly sub: readonly ProxySslSubTlv[];
}

/** AWS 0xEA: subtype 0x01 carries the VPC endpoint id (null when absent or another subtype). */
export interface ProxyAwsTlv extends TlvBase {
  readonly name: "aws";
  readonly subtype: number | null;
  readonly vpceId: string | null;
}

/** Azure 0xEE: subtype 0x01 carries the private endpoint LINKID, a uint32 little-endian. */
export interface ProxyAzureTlv extends TlvBase {
  readonly name: "azure";
  readonly subtype: number | null;
  readonly linkId: number | null;
}

/** GCP 0xE0: the Private Service Connect connection id, a uint64 in network order. */
export interface ProxyGcpTlv extends TlvBase {
  readonly name: "gcp";
  readonly pscConnectionId: bigint | null;
}

export type ProxyTlv =
  | ProxyTextTlv
  | ProxyCrc32cTlv
  | ProxyOpaqueTlv
  | ProxySslTlv
  | ProxyAwsTlv
  | ProxyAzureTlv
  | ProxyGcpTlv;

export type ProxyTlvName = ProxyTlv["name"];

export interface ProxyHeader {
  readonly version: 1 | 2;
  /** Always "proxy" for v1. With "local" the caller must use the real connection's endpoints. */
  readonly command: ProxyCommand;
  /** v1: TCP4 -> inet, TCP6 -> inet6, UNKNOWN -> unspec. */
  readonly family: ProxyFamily;
  /** v1: stream, or unspec for UNKNOWN. */
  readonly transport: ProxyTransport;
  /**
   * The endpoints carried, or null when the family is unspec. A v2 LOCAL header may carry an address
   * block too: it is reported, but section 2.2 says the receiver must not use it.
   */
  readonly source: ProxyAddress | null;
  readonly destination: ProxyAddress | null;
  /** v2 TLVs in wire order; always empty for v1. */
  readonly tlvs: readonly ProxyTlv[];
  /** The header's bytes (a copy: the caller may reuse its buffer). */
  readonly raw: Uint8Array;
}

export type ProxyParseIncomplete = { readonly kind: "incomplete" };
export type ProxyParseOk = { readonly kind: "ok"; readonly header: ProxyHeader; readonly length: number };
export type ProxyParseError = {
  readonly kind: "error";
  readonly reason: Exclude<ProxyErrorReason, "timeout">;
  readonly detail: string;
};

/**
 * "incomplete" is a normal value: the bytes so far are a valid beginning and more are needed.
 * "ok": `length` bytes are the header; whatever follows them is payload.
 */
export type ProxyParse = ProxyParseIncomplete | ProxyParseOk | ProxyParseError;
