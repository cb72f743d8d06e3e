// The client's socket: made here rather than by Bun.connect because TCP_SYNCNT and the buffer sizes
// only matter if they are set before connect() sends the first SYN, and Bun.connect offers no hook
// there. The connected fd is then handed to Bun (src/client/stream.ts) for the I/O.
import { libc, errno, ptr } from "./libc.ts";
import { getIntOption, scratch, setIntOption } from "./sockopt.ts";
import { check, SyscallError } from "./errno.ts";
import { encodeSockaddr, getPeerName, getSockName, hostPort, parseIp, type SockAddress } from "./address.ts";
import * as C from "./constants.ts";

const { poll } = libc;

const POLLOUT = 0x4;
const POLLERR = 0x8;
const POLLHUP = 0x10;
const POLLNVAL = 0x20;
const EBADF = 9;
const EINPROGRESS = 115;
const EINTR = 4;
const SO_ERROR = 4;

/** Linux's cap on TCP_SYNCNT (include/net/tcp.h: MAX_TCP_SYNCNT). */
export const MAX_SYN_RETRIES = 127;

export interface ConnectOptions {
  readonly host: string;
  readonly port: number;
  /** TCP_SYNCNT (tcp(7)): SYN retransmits before connect() gives up; null keeps tcp_syn_retries. */
  readonly synRetries: number | null;
  readonly recvBuf: number | null;
  readonly sendBuf: number | null;
  /** The longest the whole connect may take, SYN retries included, in seconds. */
  readonly timeout: number;
  /** Aborting ends the wait early, as a failed connect. */
  readonly signal?: AbortSignal;
}

export interface Connected {
  readonly fd: number;
  /** From the connect() call to the moment poll(2) reported the socket writable. */
  readonly connectMs: number;
  readonly local: SockAddress;
  readonly peer: SockAddress;
}

/** The whole connect took longer than asked (the kernel was still retrying its SYN). */
export class ConnectTimeoutError extends Error {
  override name = "ConnectTimeoutError";
  readonly code = "ETIMEDOUT";
  constructor(
    readonly address: string,
    readonly seconds: number,
  ) {
    super(`connect to ${address} timed out after ${seconds} s`);
  }
}

// poll(2)'s struct pollfd, on an ArrayBuffer of its own (see scratch() in sockopt.ts).
const pollBuf = new Int32Array(scratch(8));
const pollPtr = ptr(pollBuf);

function writable(fd: number, ms: number): boolean {
  // struct pollfd { int fd; short events; short revents; }: on little-endian x86_64/aarch64 the
  // second int holds events in its low half, and writing it clears revents.
  pollBuf[0] = fd;
  pollBuf[1] = POLLOUT;
  const n = poll(pollPtr, 1, ms);
  if (n < 0) {
    const code = errno();
    if (code === EINTR) return false;
    throw new SyscallError("poll", code);
  }
  const revents = pollBuf[1]! >>> 16;
  if (revents & POLLNVAL) throw new SyscallError("poll", EBADF);
  return (revents & (POLLOUT | POLLERR | POLLHUP)) !== 0;
}

/**
 * socket(AF_INET or AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC), options, non-blocking connect, then
 * waits for it. Throws SyscallError "connect to H:P failed: ECONNREFUSED: ..." (also ENETUNREACH,
 * EHOSTUNREACH, ETIMEDOUT when the kernel's SYN retries run out) or ConnectTimeoutError; the fd is
 * closed on every failure.
 */
export async function connectSocket(o: ConnectOptions): Promise<Connected> {
  const where = hostPort(o.host, o.port);
  const af = parseIp(o.host)?.family === 6 ? C.AF_INET6 : C.AF_INET;
  const fd = check(libc.socket(af, C.SOCK_STREAM | C.SOCK_NONBLOCK | C.SOCK_CLOEXEC, 0), "socket");
  try {
    if (o.synRetries !== null) setIntOption(fd, C.IPPROTO_TCP, C.TCP_SYNCNT, o.synRetries, "TCP_SYNCNT");
    // tcp(7): "the socket buffer size must be set prior to the listen(2) or connect(2) calls in
    // order to have it take effect" (the SYN already announces the window scale it allows).
    if (o.recvBuf !== null) setIntOption(fd, C.SOL_SOCKET, C.SO_RCVBUF, o.recvBuf, "SO_RCVBUF");
    if (o.sendBuf !== null) setIntOption(fd, C.SOL_SOCKET, C.SO_SNDBUF, o.sendBuf, "SO_SNDBUF");
    const sa = encodeSockaddr(o.host, o.port);
    const started = performance.now();
    if (libc.connect(fd, ptr(sa), sa.byteLength) < 0) {
      const code = errno();
      if (code !== EINPROGRESS) throw new SyscallError("connect", code, `to ${where}`);
    }
    const deadline = started + o.timeout * 1000;
    // Blocking poll in slices of at most 1 ms, yielding to the event loop between them: the end of
    // the handshake is seen within microseconds (an honest connect time) while timers, signal
    // handlers and an in-process server keep running, and no CPU is burnt spinning.
    while (!writable(fd, 0)) {
      if (o.signal?.aborted) throw new Error(`connect to ${where} interrupted`);
      const left = deadline - performance.now();
      if (left <= 0) throw new ConnectTimeoutError(where, o.timeout);
      if (writable(fd, Math.min(1, Math.ceil(left)))) break;
      await new Promise((r) => setImmediate(r));
    }
    const connectMs = performance.now() - started;
    const soError = getIntOption(fd, C.SOL_SOCKET, SO_ERROR, "SO_ERROR");
    if (soError !== 0) throw new SyscallError("connect", soError, `to ${where}`);
    return { fd, connectMs, local: getSockName(fd), peer: getPeerName(fd) };
  } catch (e) {
    libc.close(fd);
    throw e;
  }
}

/** The client socket's options as the kernel holds them (getsockopt). */
export interface ClientSocketOptions {
  readonly nodelay: boolean;
  readonly synRetries: number;
  readonly recvBuf: number;
  readonly sendBuf: number;
}

/** TCP_NODELAY on or off (Bun turns it on when it adopts a socket). */
export function setClientNoDelay(fd: number, on: boolean): void {
  setIntOption(fd, C.IPPROTO_TCP, C.TCP_NODELAY, on ? 1 : 0, "TCP_NODELAY");
}

export function readClientSocketOptions(fd: number): ClientSocketOptions {
  return {
    nodelay: getIntOption(fd, C.IPPROTO_TCP, C.TCP_NODELAY, "TCP_NODELAY") !== 0,
    synRetries: getIntOption(fd, C.IPPROTO_TCP, C.TCP_SYNCNT, "TCP_SYNCNT"),
    recvBuf: getIntOption(fd, C.SOL_SOCKET, C.SO_RCVBUF, "SO_RCVBUF"),
    sendBuf: getIntOption(fd, C.SOL_SOCKET, C.SO_SNDBUF, "SO_SNDBUF"),
  };
}
