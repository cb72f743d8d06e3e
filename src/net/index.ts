// The socket layer: everything that needs libc (bun:ffi) stays below this folder.
export { SyscallError, errnoName } from "./errno.ts";
export {
  parseIpv4,
  parseIpv6,
  parseIp,
  formatIp,
  unmapIpv4,
  hostPort,
  isLoopback,
  formatAddress,
  getSockName,
  getPeerName,
  peerAddress,
  packedPeerText,
  type Family,
  type SockAddress,
  type Ipv4Address,
} from "./address.ts";
export { formatIpv4, formatIpv6, parseIpv4Into, parseIpv6Into, asciiBytes } from "./ip.ts";
export { readKernelLimits, synackTimeout, type KernelLimits } from "./kernel.ts";
export { readListenQueue, type ListenQueue } from "./diag.ts";
export { armQuickAck } from "./sockopt.ts";
export { unreadBytes } from "./io.ts";
export { readTcpInfo, type TcpInfo } from "./tcp-info.ts";
export { raiseFdLimit, freeFds, type FdLimit } from "./rlimit.ts";
export { untouchedBuffer } from "./mapping.ts";
export { writeSome, writeFileSome, PIPE_BUF } from "./fd-write.ts";
export { socketFd, closeSocket, listenOnFd, connectOnFd, upgradeServerTls } from "./bun.ts";
export {
  openListenSocket,
  adoptListenSocket,
  reservePort,
  relisten,
  closeFd,
  dupFd,
  readSocketOptions,
  readQuickAck,
  type ListenSocketOptions,
  type KeepaliveOptions,
  type SocketOptionValues,
} from "./listener.ts";
export {
  connectSocket,
  readClientSocketOptions,
  setClientNoDelay,
  ConnectTimeoutError,
  MAX_SYN_RETRIES,
  type ConnectOptions,
  type Connected,
  type ClientSocketOptions,
} from "./connect.ts";
