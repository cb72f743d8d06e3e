import { readlinkSync } from "node:fs";
import { libc, ptr } from "./libc.ts";
import { check } from "./errno.ts";
import { AF_INET, AF_INET6, SO_DOMAIN, SOCK_CLOEXEC, SOL_SOCKET } from "./constants.ts";
import { getIntOption } from "./sockopt.ts";

// The kernel keeps a listener's accept-queue limit (listen()'s backlog after the somaxconn cap)
// where no getsockopt reaches it; sock_diag(7) reports it as idiag_wqueue, which is what `ss -ltn`
// prints as Send-Q. Asking the kernel is the only honest read-back of the backlog.
const AF_NETLINK = 16;
const SOCK_RAW = 3;
const NETLINK_SOCK_DIAG = 4;
const SOCK_DIAG_BY_FAMILY = 20;
const NLM_F_REQUEST = 0x1;
const NLM_F_DUMP = 0x300;
const NLMSG_ERROR = 2;
const NLMSG_DONE = 3;
const IPPROTO_TCP = 6;
const TCP_LISTEN = 10;
const SO_RCVTIMEO = 20;

/** The socket inode of an fd, from /proc/self/fd ("socket:[12345]"), to find it among the dump. */
function socketInode(fd: number): number | null {
  try {
    const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/self/fd/${fd}`));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

export interface ListenQueue {
  /** Connections waiting in the accept queue now. */
  readonly queued: number;
  /** The accept queue's limit as the kernel applied it. */
  readonly max: number;
}

/** Reads the listening socket's accept queue from sock_diag; null when the kernel does not say. */
export function readListenQueue(fd: number): ListenQueue | null {
  const inode = socketInode(fd);
  if (inode === null) return null;
  const nl = libc.socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
  if (nl < 0) return null;
  try {
    // A one-second receive timeout so a kernel that never answers cannot hang start-up.
    const tv = new BigInt64Array([1n, 0n]);
    libc.setsockopt(nl, SOL_SOCKET, SO_RCVTIMEO, ptr(tv), 16);
    // nlmsghdr (16 bytes) + inet_diag_req_v2 (56 bytes), see linux/inet_diag.h.
    const req = new Uint8Array(72);
    const v = new DataView(req.buffer);
    v.setUint32(0, 72, true);
    v.setUint16(4, SOCK_DIAG_BY_FAMILY, true);
    v.setUint16(6, NLM_F_REQUEST | NLM_F_DUMP, true);
    v.setUint32(8, 1, true);
    // The dump is per address family: the listener's own (an IPv6 socket is listed under AF_INET6).
    req[16] = getIntOption(fd, SOL_SOCKET, SO_DOMAIN, "SO_DOMAIN") === AF_INET6 ? AF_INET6 : AF_INET;
    req[17] = IPPROTO_TCP;
    v.setUint32(20, 1 << TCP_LISTEN, true);
    check(Number(libc.send(nl, ptr(req), 72, 0)), "send", "sock_diag");
    const buf = new Uint8Array(64 * 1024);
    const bv = new DataView(buf.buffer);
    for (;;) {
      const n = Number(libc.recv(nl, ptr(buf), buf.length, 0));
      if (n <= 0) return null;
      for (let off = 0; off + 16 <= n; ) {
        const len = bv.getUint32(off, true);
        const type = bv.getUint16(off + 4, true);
        if (type === NLMSG_DONE || type === NLMSG_ERROR || len < 16) return null;
        // inet_diag_msg: 4 bytes, sockid (48), expires, rqueue, wqueue, uid, inode.
        const msg = off + 16;
        if (bv.getUint32(msg + 68, true) === inode) {
          return { queued: bv.getUint32(msg + 56, true), max: bv.getUint32(msg + 60, true) };
        }
        off += (len + 3) & ~3;
      }
    }
  } catch {
    return null;
  } finally {
    libc.close(nl);
  }
}
