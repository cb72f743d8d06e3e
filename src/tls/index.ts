// TLS building blocks: a self-signed certificate made at start, certificates summarized for logs, and
// the client's offer read from its ClientHello.
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
