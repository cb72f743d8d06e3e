// The server library: startServer(config) is what the CLI, the tests and the benchmarks call.
export { startServer, type ServerHandle, type ListenerHandle } from "./server.ts";
export { ServerControl, parseListen, type ProxyView } from "./control.ts";
export type { ConnectionInfo } from "./echo.ts";
export {
  DEFAULTS,
  DEFAULT_LISTENER,
  type ListenerConfig,
  QUICKACK_MODES,
  CLOSE_REASONS,
  RECORD_MODES,
  type ServerConfig,
  type ListenerProfile,
  type ListenerProfileBase,
  type QuickAckMode,
  type CloseReason,
  type RecordConfig,
  type RecordMode,
} from "./config.ts";
export { ServerStats, sumSnapshots, DURATION_BUCKETS, LATENESS_BUCKETS, type StatsSnapshot, type HistogramSnapshot, type ListenerCounts } from "./stats.ts";
export { logReport, type StartupReport, type OptionReport, type ListenerReport } from "./startup-report.ts";
export { RecentCloses, type CloseRecord } from "./recent-closes.ts";
export { parseCidr, refusal, type Cidr, type AccessConfig } from "./access.ts";
export { PROXY_MODES, CLIENT_IP_FROM, type ProxyMode, type ClientIpFrom } from "./proxy-header.ts";
export {
  TLS_CLIENT_AUTH,
  TLS_MIN_VERSIONS,
  prepareTls,
  selfSignedNames,
  type TlsConfig,
  type TlsCertSource,
  type TlsSniCert,
  type TlsClientAuth,
  type TlsMinVersion,
} from "./tls-config.ts";
export { TLS_RESULTS, type TlsResult, type TlsSession, type TlsOffer, type TlsClientCertificate } from "./tls-state.ts";
export { checkTlsFiles, type TlsReport, type CertificateReport } from "./tls-store.ts";
