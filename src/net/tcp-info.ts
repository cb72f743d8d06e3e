import { libc, ptr } from "./libc.ts";
import { scratch } from "./sockopt.ts";
import { IPPROTO_TCP } from "./constants.ts";

// getsockopt(IPPROTO_TCP, TCP_INFO) fills struct tcp_info (linux/tcp.h); the kernel copies
// min(len, its size) bytes and says how many in the length, so older kernels simply stop short.
const TCP_INFO = 11;
// ioctl(SIOCOUTQ) (tcp(7)): bytes in the send queue not yet acknowledged by the peer (sent or not).
const SIOCOUTQ = 0x5411;
const SIOCINQ = 0x541b;

// On an explicit ArrayBuffer: its bytes never move, so the pointer taken once stays valid (see sockopt.ts).
const INFO_SIZE = 256;
const info = new Uint8Array(scratch(INFO_SIZE));
const view = new DataView(info.buffer);
const infoPtr = ptr(info);
const len = new Uint32Array(scratch(4));
const lenPtr = ptr(len);
const q = new Int32Array(scratch(4));
const qPtr = ptr(q);

/** tcp_states.h, in the kernel's numbering (TCP_ESTABLISHED = 1 ...). */
const STATES = ["", "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1", "FIN_WAIT2", "TIME_WAIT", "CLOSE", "CLOSE_WAIT", "LAST_ACK", "LISTEN", "CLOSING", "NEW_SYN_RECV"];

/** The kernel's view of one TCP connection. Times in microseconds; windows and queues in bytes. */
export interface TcpInfo {
  readonly state: string;
  /** Smoothed round-trip time and its variation. */
  readonly rttUs: number;
  readonly rttvarUs: number;
  /** Congestion window, in segments. */
  readonly cwnd: number;
  /** Retransmission timeouts in a row now (tcpi_retransmits), and segments retransmitted in all. */
  readonly retransmits: number;
  readonly totalRetrans: number;
  /** Segments sent and not yet acknowledged. */
  readonly unacked: number;
  /** Bytes in the send queue (SIOCOUTQ) and unread in the receive queue (SIOCINQ). */
  readonly sendQueue: number;
  readonly recvQueue: number;
  /** The window the peer last advertised to us (tcpi_snd_wnd, Linux 5.4+); null when the kernel does not say. */
  readonly peerWindow: number | null;
  /** Zero-window probes sent without answer (tcpi_probes). */
  readonly probes: number;
}

/** Reads TCP_INFO and the queue sizes of a connected socket; null when the fd is gone. */
export function readTcpInfo(fd: number): TcpInfo | null {
  len[0] = INFO_SIZE;
  if (libc.getsockopt(fd, IPPROTO_TCP, TCP_INFO, infoPtr, lenPtr) !== 0) return null;
  const n = len[0]!;
  const u32 = (off: number) => (off + 4 <= n ? view.getUint32(off, true) : 0);
  const outq = libc.ioctl(fd, SIOCOUTQ, qPtr) === 0 ? q[0]! : 0;
  const inq = libc.ioctl(fd, SIOCINQ, qPtr) === 0 ? q[0]! : 0;
  return {
    state: STATES[info[0]!] ?? String(info[0]),
    rttUs: u32(68),
    rttvarUs: u32(72),
    cwnd: u32(80),
    retransmits: info[2]!,
    totalRetrans: u32(100),
    unacked: u32(24),
    sendQueue: outq,
    recvQueue: inq,
    peerWindow: n >= 232 ? view.getUint32(228, true) : null,
    probes: info[3]!,
  };
}
