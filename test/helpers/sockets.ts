// The kernel's own view of TCP sockets (/proc/net/tcp, proc(5)): whether a listening socket still
// exists, whoever holds it, without connecting to a port number another test may have reused.
import { readFileSync } from "node:fs";

/** Inodes of the IPv4 TCP sockets in LISTEN state on `port`. */
export function listeningInodes(port: number): number[] {
  const inodes: number[] = [];
  for (const line of readFileSync("/proc/net/tcp", "utf8").trim().split("\n").slice(1)) {
    const f = line.trim().split(/\s+/);
    // local_address is HEXIP:HEXPORT; st 0A is TCP_LISTEN; the inode is the tenth column.
    if (f[3] === "0A" && parseInt(f[1]!.split(":")[1]!, 16) === port) inodes.push(Number(f[9]));
  }
  return inodes;
}

/** Whether a socket with this inode exists at all (in any state, in /proc/net/tcp). */
export function tcpSocketExists(inode: number): boolean {
  return readFileSync("/proc/net/tcp", "utf8")
    .trim()
    .split("\n")
    .slice(1)
    .some((line) => Number(line.trim().split(/\s+/)[9]) === inode);
}
