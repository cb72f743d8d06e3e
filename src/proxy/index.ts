// The PROXY protocol v1/v2 codec (HAProxy's doc/proxy-protocol.txt), a pure library: bytes in,
// values out, no sockets.
//   types.ts     ProxyHeader, ProxyTlv, ProxyParse; PROXY_ERROR_REASONS
//   parse.ts     parseProxyHeader: the incremental entry point (v1, v2 or either)
//   v1.ts        the text line            v2.ts   the binary header and address block
//   tlv.ts       v2 TLVs, SSL sub-TLVs, cloud TLVs (AWS, Azure, GCP), PP2_* constants
//   crc32c.ts    CRC32C (Castagnoli), slicing-by-8
//   ip.ts        strict IPv4/IPv6 text parsing, RFC 5952 formatting
//   encode.ts    encodeProxyV1, encodeProxyV2, encodeProxyHeader; tlv-init.ts  proxyTlv builders
//   format.ts    one-line summary and JSON form for logs
//   template.ts  ProxyHeaderTemplate: a sender's per-connection header (only the source port changes), no allocation

export { crc32c, crc32cUpdate } from "./crc32c.ts";
export {
  encodeProxyHeader,
  encodeProxyV1,
  encodeProxyV2,
  type ProxyEndpoint,
  type ProxyTlvInit,
  type ProxyV1Init,
  type ProxyV2Init,
} from "./encode.ts";
export {
  formatProxyAddress,
  formatProxyDetails,
  formatProxyEndpoints,
  formatProxySummary,
  proxyHeaderJson,
  type ProxyAddressJson,
  type ProxyHeaderJson,
  type ProxyTlvJson,
} from "./format.ts";
export { parseProxyHeader } from "./parse.ts";
export {
  PP2_CLIENT_CERT_CONN,
  PP2_CLIENT_CERT_SESS,
  PP2_CLIENT_SSL,
  PP2_SUBTYPE_SSL_CIPHER,
  PP2_SUBTYPE_SSL_CLIENT_CERT,
  PP2_SUBTYPE_SSL_CN,
  PP2_SUBTYPE_SSL_GROUP,
  PP2_SUBTYPE_SSL_KEY_ALG,
  PP2_SUBTYPE_SSL_SIG_ALG,
  PP2_SUBTYPE_SSL_SIG_SCHEME,
  PP2_SUBTYPE_SSL_VERSION,
  PP2_TYPE_ALPN,
  PP2_TYPE_AUTHORITY,
  PP2_TYPE_AWS,
  PP2_TYPE_AZURE,
  PP2_TYPE_CRC32C,
  PP2_TYPE_GCP,
  PP2_TYPE_NETNS,
  PP2_TYPE_NOOP,
  PP2_TYPE_SSL,
  PP2_TYPE_UNIQUE_ID,
} from "./tlv.ts";
export { proxyTlv, type ProxySslInit } from "./tlv-init.ts";
export {
  PROXY_ERROR_REASONS,
  type ProxyAccept,
  type ProxyAddress,
  type ProxyAwsTlv,
  type ProxyAzureTlv,
  type ProxyCommand,
  type ProxyCrc32cTlv,
  type ProxyErrorReason,
  type ProxyFamily,
  type ProxyGcpTlv,
  type ProxyHeader,
  type ProxyInetAddress,
  type ProxyOpaqueTlv,
  type ProxyParse,
  type ProxyParseError,
  type ProxyParseIncomplete,
  type ProxyParseOk,
  type ProxySslSubName,
  type ProxySslSubTlv,
  type ProxySslTlv,
  type ProxyTextTlv,
  type ProxyTlv,
  type ProxyTlvName,
  type ProxyTransport,
  type ProxyUnixAddress,
} from "./types.ts";
export { PROXY_SEND_MODES, ProxyHeaderTemplate, TEMPLATE_MAX_LENGTH, type ProxySendMode, type ProxyVersion } from "./template.ts";
export { V1_MAX_LENGTH } from "./v1.ts";
