// TLS building blocks: a self-signed certificate made at start, and certificates summarized for logs.
export { makeSelfSigned, checkCertificateName, type SelfSignedOptions, type SelfSignedCertificate } from "./self-signed.ts";
export {
  describeCertificate,
  describePeerCertificate,
  splitSubjectAltName,
  type CertificateSummary,
  type CertificateInput,
} from "./describe.ts";
