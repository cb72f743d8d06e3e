// Linux x86_64/aarch64 values from <sys/socket.h>, <netinet/in.h>, <netinet/tcp.h>.
export const AF_INET = 2;
export const SOCK_STREAM = 1;
export const SOCK_NONBLOCK = 0o4000;
export const SOCK_CLOEXEC = 0o2000000;

export const SOL_SOCKET = 1;
export const SO_REUSEADDR = 2;
export const SO_SNDBUF = 7;
export const SO_RCVBUF = 8;
export const SO_KEEPALIVE = 9;
export const SO_REUSEPORT = 15;
export const SO_ACCEPTCONN = 30;
export const SO_TYPE = 3;
export const SO_DOMAIN = 39;

export const IPPROTO_TCP = 6;
export const TCP_NODELAY = 1;
export const TCP_KEEPIDLE = 4;
export const TCP_KEEPINTVL = 5;
export const TCP_KEEPCNT = 6;
export const TCP_SYNCNT = 7;
export const TCP_QUICKACK = 12;

// <fcntl.h>: duplicate with close-on-exec set in the same call (fcntl(2)).
export const F_DUPFD_CLOEXEC = 1030;

// <netinet/in.h> (linux/in6.h): IPv6.
export const AF_INET6 = 10;
export const IPPROTO_IPV6 = 41;
export const IPV6_V6ONLY = 26;

// <sys/mman.h>, the same on x86_64 and aarch64.
export const PROT_READ = 0x1;
export const MAP_PRIVATE = 0x02;
export const MAP_ANONYMOUS = 0x20;
export const MAP_NORESERVE = 0x4000;
