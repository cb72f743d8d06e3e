// TLS building blocks: a self-signed certificate made at start, certificates summarized for logs,
// the client's offer read from its ClientHello, certificate files checked, ALPN lists, SNI lookup.
export { makeSelfSigned, checkCertificateName, type SelfSignedOptions, type SelfSignedCertificate } from "./self-signed.ts";
export {
  describeCertificate,
  describePeerCertificate,
  splitSubjectAltName,
  type CertificateSummary,
  type CertificateInput,
} from "./describe.ts";
export {
  parseClientHello,
  tlsVersionName,
  isGrease,
  ClientHelloError,
  MAX_CLIENT_HELLO,
  type ClientHello,
  type HelloResult,
} from "./client-hello.ts";
export { readCertificatePair, pairFromPem, readCaFile, TlsFileError, type TlsFileRole, type CertificatePair, type CaBundle } from "./files.ts";
export { parseAlpnList, alpnWire, AlpnListError } from "./alpn.ts";
export { sniTable, type SniTable } from "./sni.ts";
export { clientTlsPlan, settleHandshake, sessionLine, type ClientTls, type ClientTlsPlan, type ServerSession, type TlsSocketView } from "./client.ts";
