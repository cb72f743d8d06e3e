import { libc, ptr } from "./libc.ts";
import { check } from "./errno.ts";
import { encodeSockaddr, getSockName, hostPort, parseIp } from "./address.ts";
import { getIntOption, setIntOption } from "./sockopt.ts";
import * as C from "./constants.ts";

export interface KeepaliveOptions {
  /** TCP_KEEPIDLE: idle seconds before the first probe. */
  readonly idle: number;
  /** TCP_KEEPINTVL / TCP_KEEPCNT; null keeps the kernel's default. */
  readonly interval: number | null;
  readonly count: number | null;
}

export interface ListenSocketOptions {
  readonly host: string;
  readonly port: number;
  /** IPV6_V6ONLY on an IPv6 socket (ipv6(7)): false lets an IPv6 wildcard take IPv4 peers too
   * (dual-stack, peers as ::ffff:a.b.c.d). Ignored for IPv4. */
  readonly ipv6Only: boolean;
  readonly backlog: number;
  readonly reusePort: boolean;
  readonly recvBuf: number | null;
  readonly sendBuf: number | null;
  readonly keepalive: KeepaliveOptions | null;
  readonly nodelay: boolean;
}

/** The address family's socket(2) domain for a host. */
function domain(host: string): number {
  const ip = parseIp(host);
  if (!ip) throw new TypeError(`not an IP address: ${host}`);
  return ip.family === 4 ? C.AF_INET : C.AF_INET6;
}

/**
 * socket(AF_INET or AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC), options, bind, listen. Options go
 * on the listener before listen() because accepted sockets inherit them (socket(7): buffer sizes
 * must be set before listen() to take effect on accepted connections; SO_KEEPALIVE and the TCP_KEEP*
 * values are copied into each child too). The fd is closed again if any step fails.
 */
export function openListenSocket(o: ListenSocketOptions): number {
  const af = domain(o.host);
  const fd = check(libc.socket(af, C.SOCK_STREAM | C.SOCK_NONBLOCK | C.SOCK_CLOEXEC, 0), "socket");
  try {
    // Set explicitly either way: the default comes from net.ipv6.bindv6only, which varies.
    if (af === C.AF_INET6) setIntOption(fd, C.IPPROTO_IPV6, C.IPV6_V6ONLY, o.ipv6Only ? 1 : 0, "IPV6_V6ONLY");
    setIntOption(fd, C.SOL_SOCKET, C.SO_REUSEADDR, 1, "SO_REUSEADDR");
    if (o.reusePort) setIntOption(fd, C.SOL_SOCKET, C.SO_REUSEPORT, 1, "SO_REUSEPORT");
    if (o.recvBuf !== null) setIntOption(fd, C.SOL_SOCKET, C.SO_RCVBUF, o.recvBuf, "SO_RCVBUF");
    if (o.sendBuf !== null) setIntOption(fd, C.SOL_SOCKET, C.SO_SNDBUF, o.sendBuf, "SO_SNDBUF");
    setIntOption(fd, C.IPPROTO_TCP, C.TCP_NODELAY, o.nodelay ? 1 : 0, "TCP_NODELAY");
    if (o.keepalive) applyKeepalive(fd, o.keepalive);
    const sa = encodeSockaddr(o.host, o.port);
    check(libc.bind(fd, ptr(sa), sa.byteLength), "bind", hostPort(o.host, o.port));
    check(libc.listen(fd, o.backlog), "listen");
    return fd;
  } catch (e) {
    libc.close(fd);
    throw e;
  }
}

function applyKeepalive(fd: number, k: KeepaliveOptions): void {
  setIntOption(fd, C.SOL_SOCKET, C.SO_KEEPALIVE, 1, "SO_KEEPALIVE");
  setIntOption(fd, C.IPPROTO_TCP, C.TCP_KEEPIDLE, k.idle, "TCP_KEEPIDLE");
  if (k.interval !== null) setIntOption(fd, C.IPPROTO_TCP, C.TCP_KEEPINTVL, k.interval, "TCP_KEEPINTVL");
  if (k.count !== null) setIntOption(fd, C.IPPROTO_TCP, C.TCP_KEEPCNT, k.count, "TCP_KEEPCNT");
}

/**
 * A listening socket inherited from systemd (sd_listen_fds(3)): checks that it is an IPv4 TCP
 * listener, and applies what can still apply after listen(): keep-alive and buffer sizes are
 * copied into each accepted socket at accept time. Binding options belong to the .socket unit.
 */
export function adoptListenSocket(fd: number, o: Pick<ListenSocketOptions, "recvBuf" | "sendBuf" | "keepalive" | "nodelay">): void {
  const what = `inherited fd ${fd}`;
  const af = getIntOption(fd, C.SOL_SOCKET, C.SO_DOMAIN, what);
  if (af !== C.AF_INET && af !== C.AF_INET6) throw new TypeError(`${what} is not an IP socket (ListenStream= must be an address:port)`);
  if (getIntOption(fd, C.SOL_SOCKET, C.SO_TYPE, what) !== C.SOCK_STREAM) throw new TypeError(`${what} is not a stream socket`);
  if (getIntOption(fd, C.SOL_SOCKET, C.SO_ACCEPTCONN, what) !== 1) throw new TypeError(`${what} is not listening`);
  if (o.recvBuf !== null) setIntOption(fd, C.SOL_SOCKET, C.SO_RCVBUF, o.recvBuf, "SO_RCVBUF");
  if (o.sendBuf !== null) setIntOption(fd, C.SOL_SOCKET, C.SO_SNDBUF, o.sendBuf, "SO_SNDBUF");
  setIntOption(fd, C.IPPROTO_TCP, C.TCP_NODELAY, o.nodelay ? 1 : 0, "TCP_NODELAY");
  if (o.keepalive) applyKeepalive(fd, o.keepalive);
}

/**
 * Binds host:port (0 = a free port) with SO_REUSEADDR and SO_REUSEPORT but does not listen: the
 * port stays ours while worker processes bind their own listeners to it (socket(7): every socket
 * sharing the port must set SO_REUSEPORT and have the same effective UID). A socket that is not
 * listening receives no connections, so the kernel spreads them over the workers only.
 */
export function reservePort(host: string, port: number, ipv6Only: boolean): { fd: number; port: number } {
  const af = domain(host);
  const fd = check(libc.socket(af, C.SOCK_STREAM | C.SOCK_CLOEXEC, 0), "socket");
  try {
    if (af === C.AF_INET6) setIntOption(fd, C.IPPROTO_IPV6, C.IPV6_V6ONLY, ipv6Only ? 1 : 0, "IPV6_V6ONLY");
    setIntOption(fd, C.SOL_SOCKET, C.SO_REUSEADDR, 1, "SO_REUSEADDR");
    setIntOption(fd, C.SOL_SOCKET, C.SO_REUSEPORT, 1, "SO_REUSEPORT");
    const sa = encodeSockaddr(host, port);
    check(libc.bind(fd, ptr(sa), sa.byteLength), "bind", hostPort(host, port));
    return { fd, port: getSockName(fd).port };
  } catch (e) {
    libc.close(fd);
    throw e;
  }
}

/** Bun.listen({ fd }) calls listen() again with its own backlog (511); this puts ours back. */
export function relisten(fd: number, backlog: number): void {
  check(libc.listen(fd, backlog), "listen");
}

export function closeFd(fd: number): void {
  libc.close(fd);
}

/**
 * A second descriptor for the same socket (fcntl(2) F_DUPFD_CLOEXEC). Bun.listen cannot adopt an fd
 * it already serves (measured: "Failed to listen"), and stopping a listener closes its fd; with a
 * duplicate, a new listener (new TLS certificate) serves the socket while the old one stops, and the
 * port never refuses a connection (the listening socket lives while any fd refers to it).
 */
export function dupFd(fd: number): number {
  return check(libc.fcntl(fd, C.F_DUPFD_CLOEXEC, 0), "fcntl(F_DUPFD_CLOEXEC)", `fd ${fd}`);
}

/** Option values as the kernel holds them, read back with getsockopt. */
export interface SocketOptionValues {
  readonly reuseAddr: boolean;
  readonly reusePort: boolean;
  readonly recvBuf: number;
  readonly sendBuf: number;
  readonly nodelay: boolean;
  readonly keepalive: boolean;
  readonly keepIdle: number;
  readonly keepInterval: number;
  readonly keepCount: number;
  /** IPV6_V6ONLY of an IPv6 socket; null for IPv4. */
  readonly ipv6Only: boolean | null;
}

export function readSocketOptions(fd: number): SocketOptionValues {
  const sol = (name: number, label: string) => getIntOption(fd, C.SOL_SOCKET, name, label);
  const tcp = (name: number, label: string) => getIntOption(fd, C.IPPROTO_TCP, name, label);
  return {
    reuseAddr: sol(C.SO_REUSEADDR, "SO_REUSEADDR") !== 0,
    reusePort: sol(C.SO_REUSEPORT, "SO_REUSEPORT") !== 0,
    recvBuf: sol(C.SO_RCVBUF, "SO_RCVBUF"),
    sendBuf: sol(C.SO_SNDBUF, "SO_SNDBUF"),
    nodelay: tcp(C.TCP_NODELAY, "TCP_NODELAY") !== 0,
    keepalive: sol(C.SO_KEEPALIVE, "SO_KEEPALIVE") !== 0,
    keepIdle: tcp(C.TCP_KEEPIDLE, "TCP_KEEPIDLE"),
    keepInterval: tcp(C.TCP_KEEPINTVL, "TCP_KEEPINTVL"),
    keepCount: tcp(C.TCP_KEEPCNT, "TCP_KEEPCNT"),
    ipv6Only: sol(C.SO_DOMAIN, "SO_DOMAIN") === C.AF_INET6 ? getIntOption(fd, C.IPPROTO_IPV6, C.IPV6_V6ONLY, "IPV6_V6ONLY") !== 0 : null,
  };
}

/** TCP_QUICKACK as getsockopt reports it: whether the socket is in quick-ack mode right now. */
export function readQuickAck(fd: number): boolean {
  return getIntOption(fd, C.IPPROTO_TCP, C.TCP_QUICKACK, "TCP_QUICKACK") !== 0;
}
